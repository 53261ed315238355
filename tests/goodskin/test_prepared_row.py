"""The prepared statements of the fingerprint queries and of the rows every page reads
(goodskin.row_versions: prepared_row, prepared_execute, prepared_objects): the same rows as the
plain query, prepared once per connection in the same round trip, still there after a
rolled-back transaction and after a new connection, and still right after a migration adds a
column."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import DataError, InternalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from goodskin import row_versions
from goodskin.row_versions import (
    columns,
    prepared_execute,
    prepared_objects,
    prepared_row,
    table,
)
from scheduling.models import Kind, Location

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


def test_lists_of_ids_or_texts_with_nulls_and_empty_ones_are_prepared():
    sql = "SELECT %s::bigint[], %s::text[], %s::bigint[], %s::text[]"
    for params in (
        [[1, None], ["a", None], [], [None]],
        [[None], [None, None], [2], []],
    ):
        with CaptureQueriesContext(connection) as queries:
            assert prepared_row(sql, params) == plain(sql, params)
        assert queries.captured_queries[0]["sql"].startswith(("PREPARE", "EXECUTE"))


def test_a_statement_that_gives_no_row_is_prepared_too():
    connection.cursor().execute("CREATE TEMPORARY TABLE written (n bigint, words text[])")
    insert = "INSERT INTO written SELECT n, %s::text[] FROM unnest(%s::bigint[]) AS n"
    prepared_execute(insert, [["a", None], [1, 2]])
    with CaptureQueriesContext(connection) as queries:
        prepared_execute(insert, [["b"], [3]])
    assert queries.captured_queries[0]["sql"].startswith("EXECUTE ")
    prepared_execute(insert, [[], [4]])
    assert plain(
        "SELECT array_agg(n ORDER BY n), count(*) FILTER (WHERE words = '{}') FROM written", []
    ) == ([1, 2, 3, 4], 1)


def test_the_rows_read_as_models_are_those_the_orm_reads():
    made = [
        Location.objects.create(name="North", kinds=[Kind.CONSULTATION.value]),
        Location.objects.create(name="South", active=False, phone="541 555 0100"),
    ]
    ids = [location.pk for location in made]
    sql = f"SELECT {columns(Location)}, t.id * 2 AS twice FROM {table(Location)} t"
    sql += " WHERE t.id = ANY(%s) ORDER BY t.id"
    read = prepared_objects(Location, sql, [ids])
    assert [(o.pk, o.name, o.kinds, o.active, o.phone) for o in read] == [
        (o.pk, o.name, o.kinds, o.active, o.phone) for o in Location.objects.filter(pk__in=ids)
    ]
    assert [o.twice for o in read] == [2 * pk for pk in ids]
    assert read[0]._state.adding is False  # saved as an update, as a row the ORM read


def test_a_column_added_after_a_statement_was_prepared_changes_nothing_it_reads():
    """A migration may add a column while the app's connections keep their statements: each
    reads its model's columns by name, so it goes on giving what it gave."""
    location = Location.objects.create(name="North")
    sql = f"SELECT {columns(Location)} FROM {table(Location)} t WHERE t.id = %s"
    assert prepared_objects(Location, sql, [location.pk])[0].name == "North"
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table(Location)} ADD COLUMN later integer DEFAULT 7")
    assert prepared_objects(Location, sql, [location.pk])[0].name == "North"


def test_a_statement_that_failed_where_it_was_prepared_runs_the_next_time():
    """PREPARE and EXECUTE go in one round trip: when the EXECUTE fails, the PREPARE may have
    stayed (it is not undone with the transaction) or not."""
    sql = "SELECT 10 / %s::bigint"
    with pytest.raises(DataError), transaction.atomic():
        prepared_row(sql, [0])
    assert prepared_row(sql, [5]) == (2,)
    assert prepared_row(sql, [2]) == (5,)
    with pytest.raises(DataError), transaction.atomic():
        prepared_row(sql, [0])  # prepared already: nothing in doubt
    assert prepared_row(sql, [1]) == (10,)
    other = "SELECT 10 * %s::bigint"
    with pytest.raises(InternalError), transaction.atomic():
        with pytest.raises(DataError), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        prepared_row(other, [1])  # in a failed transaction: not prepared
    assert prepared_row(other, [2]) == (20,)
    assert prepared_row(other, [3]) == (30,)
