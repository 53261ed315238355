"""The fingerprint queries' prepared statements (goodskin.row_versions.prepared_row): the same row
as the plain query, prepared once per connection in the same round trip, and still there after
a rolled-back transaction and after a new connection."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from goodskin import row_versions
from goodskin.row_versions import prepared_row

pytestmark = pytest.mark.django_db

SQL = (
    "SELECT %(day)s + 1, %(at)s + %(gap)s, %(ids)s::bigint[] || %(n)s, 'a' || %(text)s,"
    " 5 %% 3, %(flag)s, %(n)s * 2"
)
PARAMS = {
    "day": date(2026, 12, 7),
    "at": datetime(2026, 12, 7, 9, tzinfo=UTC),
    "gap": timedelta(minutes=20),
    "ids": [3, 1],
    "n": 7,
    "text": "b%s",
    "flag": True,
}


def plain(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def test_it_gives_the_row_the_plain_query_gives_with_named_or_numbered_parameters():
    assert prepared_row(SQL, PARAMS) == plain(SQL, PARAMS)
    assert prepared_row(SQL, PARAMS) == plain(SQL, PARAMS)  # now prepared
    numbered = "SELECT %s::date + 1, %s * 2, 7 %% 4"
    assert prepared_row(numbered, [date(2026, 1, 1), 3]) == (date(2026, 1, 2), 6, 3)
    assert prepared_row("SELECT 41 + 1", []) == (42,)
    assert prepared_row("SELECT 41 + 1", []) == (42,)


def test_it_prepares_once_a_connection_in_the_same_round_trip():
    sql = "SELECT %s::bigint + 1"
    with CaptureQueriesContext(connection) as queries:
        first, second = prepared_row(sql, [1]), prepared_row(sql, [2])
    assert (first, second) == ((2,), (3,))
    ran = [query["sql"] for query in queries.captured_queries]
    assert len(ran) == 2
    assert ran[0].startswith("PREPARE ") and ran[1].startswith("EXECUTE ")


def test_a_statement_prepared_in_a_rolled_back_transaction_is_still_there():
    sql = "SELECT %s::bigint * 3"
    try:
        with transaction.atomic():
            assert prepared_row(sql, [2]) == (6,)
            raise RuntimeError
    except RuntimeError:
        pass
    assert prepared_row(sql, [3]) == (9,)


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again():
    sql = "SELECT %s::bigint - 1"
    assert prepared_row(sql, [5]) == (4,)
    connection.close()
    assert prepared_row(sql, [6]) == (5,)
    assert len(row_versions._prepared[connection.connection]) == 1


def test_a_parameter_of_a_type_it_cannot_name_runs_the_plain_query():
    with CaptureQueriesContext(connection) as queries:
        assert prepared_row("SELECT %s::numeric + 1", [None]) == (None,)
    assert not queries.captured_queries[0]["sql"].startswith(("PREPARE", "EXECUTE"))
