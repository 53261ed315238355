"""The day and week views' cards, kept under a fingerprint of the rows they are written from
(goodskin.kept: the week view spent 55 of its 70 ms writing 470 cards; bench/load.py, issue 19):
the row version (`xmin`, the writing transaction, and `ctid`, where the version lies) of every
appointment shown and each row its card reads beside it (patient, plan, doctor, room, online
request: card_versions). Any change to one of them, an appointment that starts or stops
overlapping the range, a cancellation, makes a new version and so a new fingerprint.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from goodskin.kept import fingerprint_row
from goodskin.row_versions import table, version, versions
from patients.models import Patient
from treatments.models import TreatmentPlan

from .models import Appointment, BookingRequest, Room

# What cards() reads beside each appointment (selectors.CARD_FIELDS): each such row's version
# is in the fingerprint (tests/scheduling/test_card_cache.py keeps the two lists together).
FINGERPRINTED = ("patient", "plan", "doctor", "room", "booking_request")


def shown_sql(where: str) -> str:
    """SQL of the appointments matching `where` (on the unaliased table) with the ids of what
    their cards read beside them and their own versions: the `shown` of card_versions()."""
    table = Appointment._meta.db_table
    return (
        f"SELECT id, plan_id, patient_id, doctor_id, room_id, kind, {version(table)} AS v"
        f" FROM {table} WHERE {where}"
    )


def card_versions() -> str:
    """SQL of the versions of the appointments of a query named `shown` (shown_sql) and of
    every row their cards read beside them, as the parts of a concat_ws(). Each table's rows
    are read by id, not joined to each appointment: a query PostgreSQL plans in a fraction
    of the time, and whose plan stays good prepared once for any day or week."""
    return ", ".join(
        [
            "(SELECT coalesce(string_agg(id || ':' || v, ',' ORDER BY id), '') FROM shown)",
            versions(Patient._meta.db_table, "t.id IN (SELECT patient_id FROM shown)"),
            versions(TreatmentPlan._meta.db_table, "t.id IN (SELECT plan_id FROM shown)"),
            versions(get_user_model()._meta.db_table, "t.id IN (SELECT doctor_id FROM shown)"),
            versions(Room._meta.db_table, "t.id IN (SELECT room_id FROM shown)"),
            versions(BookingRequest._meta.db_table, "t.appointment_id IN (SELECT id FROM shown)"),
        ]
    )


def doctors_versions() -> str:
    """SQL of the versions of the doctors (the users of the group named by its one parameter),
    as a part of a concat_ws(): the columns of the day and week views. One who joins or leaves
    the group changes the set."""
    memberships = get_user_model().groups.through
    return versions(
        table(get_user_model()),
        f"t.id IN (SELECT m.user_id FROM {table(memberships)} m"
        f" JOIN {table(Group)} g ON g.id = m.group_id WHERE g.name = %s)",
    )


def rows_fingerprint(rows, sql_for: Callable[[str], str], params: list) -> str | None:
    """The fingerprint of a page part written from the appointments `rows`: the query
    `sql_for(where)` run with the rows' own parameters, then `params`; None where kept parts
    are not used (rows_where, fingerprint_row)."""
    found = rows_where(rows)
    if found is None:
        return None
    where, own = found
    row = fingerprint_row(sql_for(where), [*own, *params])
    return None if row is None else row[0]


def rows_where(rows) -> tuple[str, list] | None:
    """The condition of `rows` (appointments filtered on their own columns) as SQL on the
    unaliased table, and its parameters, as the ORM writes it for the cards; None where a
    fingerprint can't be taken of them (not PostgreSQL, or filtered through a join)."""
    query = rows.query
    joined = any(n for alias, n in query.alias_refcount.items() if alias != query.base_table)
    if connection.vendor != "postgresql" or joined:
        return None
    where, params = query.where.as_sql(query.get_compiler(connection=connection), connection)
    return where or "TRUE", list(params)
