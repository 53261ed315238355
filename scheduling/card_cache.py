"""The day and week views' cards, kept in the cache under a fingerprint of the rows they are
written from, so that a page opened again with nothing changed is not written again (the week
view spent 55 of its 70 ms writing 470 cards; bench/load.py, issue 19).

The fingerprint is read from PostgreSQL each time: every appointment the cards show with the
row version (`xmin`, the writing transaction, and `ctid`, where the version lies) of it and of
each row a card reads beside it (patient, plan, doctor, room, online request). Any change to
one of them, an appointment that starts or stops overlapping the range, a cancellation, makes
a new version and so a new fingerprint: nothing is ever invalidated by hand, and a write path
that forgets to tell the cache cannot exist. The fingerprint is read before the cards, so cards
kept under it are never older than it. Elsewhere than PostgreSQL, and while the cache does not
answer, the cards are written every time.

`remember` keeps other page parts the same way under fingerprints of their own: the day view's
gate marks (gate.marks) and the record page's appointments (record_panel). What moves with the
clock rather than the rows goes in the key or the freshness check (the day, the next visit to
start or end, a screening growing old).
"""

import logging
import time
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.utils import translation
from redis.exceptions import RedisError

from goodskin.row_versions import prepared_row, version
from patients.models import Patient
from treatments.models import TreatmentPlan

from .models import Appointment, BookingRequest, Room

log = logging.getLogger(__name__)

# Raise when what a card holds or how it is written changes, so that cards kept by the code
# before are not shown by the code after.
VERSION = 2
# A kept part goes this long after it was written (a newer one is under a newer key).
KEEP_SECONDS = 15 * 60
# After the cache fails to answer, pages go without it for this long (a hung Redis would
# otherwise hold every page for its socket timeout).
PAUSE_SECONDS = 30
_paused_until = 0.0
CACHE_DOWN = (RedisError, OSError)

# What cards() reads beside each appointment (selectors.CARD_FIELDS): each such row's version
# is in the fingerprint (tests/scheduling/test_card_cache.py keeps the two lists together).
FINGERPRINTED = ("patient", "plan", "doctor", "room", "booking_request")


def fingerprint_sql(where: str) -> str:
    table = Appointment._meta.db_table
    return f"""
        SELECT md5(string_agg(concat_ws(':', {table}.id, {version(table)},
            {version("p")}, coalesce({version("pl")}, '-'), {version("d")},
            {version("r")}, coalesce({version("br")}, '-')), ',' ORDER BY {table}.id))
        FROM {table}
        JOIN {Patient._meta.db_table} p ON p.id = {table}.patient_id
        LEFT JOIN {TreatmentPlan._meta.db_table} pl ON pl.id = {table}.plan_id
        JOIN {get_user_model()._meta.db_table} d ON d.id = {table}.doctor_id
        JOIN {Room._meta.db_table} r ON r.id = {table}.room_id
        LEFT JOIN {BookingRequest._meta.db_table} br ON br.appointment_id = {table}.id
        WHERE {where}
    """


def fingerprint(rows) -> str | None:
    """The fingerprint of the appointments of `rows` (the queryset the cards are read from,
    filtered on the appointment's own columns) and of what they read beside them; None where
    it can't be taken (not PostgreSQL)."""
    found = rows_where(rows)
    if found is None:
        return None
    where, params = found
    (found,) = prepared_row(fingerprint_sql(where), params)
    return found or "none"


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


def cached(rows, parts: tuple, write: Callable[[], object]):
    """What `write()` returns for the cards of `rows`, kept under the rows' fingerprint and
    `parts` (everything else the cards depend on: range, zone, day, office, options)."""
    if paused():
        return write()
    found = fingerprint(rows)
    if found is None:
        return write()
    return remember("cards", found, parts, write)


def fingerprint_row(sql: str, params) -> tuple | None:
    """The row a page part's fingerprint query gives (its md5 first, then whatever the part's
    key needs beside it), or None where kept parts are not used: elsewhere than PostgreSQL, and
    while the cache is paused."""
    if connection.vendor != "postgresql" or paused():
        return None
    return prepared_row(sql, params)


def paused() -> bool:
    """The cache failed to answer a moment ago: pages go without it for now."""
    return time.monotonic() < _paused_until


def remember(kind: str, found: str, parts: tuple, write: Callable, fresh=None):
    """What `write()` returns, kept under `kind`, the fingerprint `found` and `parts`; a kept
    value that `fresh(value)` says is out of date (the clock moved past it) is written again.
    The database's name and the language are in the key too: two databases of one cluster (a
    copy) may hold the same row versions, and the texts are in the page's language."""
    database = connection.settings_dict["NAME"]
    language = translation.get_language() or ""
    key = ":".join([kind, str(VERSION), database, language, *map(str, parts), found])
    try:
        kept = cache.get(key)
    except CACHE_DOWN:  # the cache is down or hung: the page goes on without it
        _pause()
        return write()
    if kept is not None and (fresh is None or fresh(kept)):
        return kept
    made = write()
    try:
        cache.set(key, made, KEEP_SECONDS)
    except CACHE_DOWN:
        _pause()
    return made


def _pause() -> None:
    global _paused_until
    log.warning("card cache: not answering, pages go without it for a while", exc_info=True)
    _paused_until = time.monotonic() + PAUSE_SECONDS
