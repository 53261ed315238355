"""The day view's columns and closed days, written once and kept in the cache under one
fingerprint of every row they are written from: opened again with nothing changed, the day
view reads one query and one kept entry instead of the doctors, the cards, the eligibility
gate's rows and the closed days, and writes no card (issue 19: two thirds of its time).

The fingerprint is one query (PostgreSQL): the day's appointments and the rows each card reads
beside them (card_cache), every row the gate reads for their plans and their touch-up patients'
plans (treatments.selectors.gate_versions), the doctors (the users of the doctors' group, so
one who joins or leaves it changes the set), every working hours, room and office row, and the
day's closed days. A write to any of them, by any path, makes a new fingerprint: nothing is
invalidated by hand. What moves with the clock: the day it is (a card's buttons; in the key)
and the instant a screening grows old (the freshness check). The page's address and form
token differ from one request to the next: the kept HTML holds day_cards.MARKS where they go,
and each request puts its own in. Elsewhere than PostgreSQL, and while the cache does not
answer, the page is written every time.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from goodskin.kept import remember
from goodskin.roles import GROUP_NAMES, Role
from goodskin.row_versions import table, versions
from treatments.selectors import gate_versions, gated_plans

from . import card_cache, clock, day_cards, gate, selectors
from .models import ClosedDay, Kind, Location, Room, WorkingHours

# Raise when what is kept or how it is written changes.
VERSION = 1


def fingerprint_sql(where: str) -> str:
    """The query of the fingerprint of the day whose appointments match `where` (on the
    unaliased appointment table, card_cache.rows_where); its parameters: those of `where`,
    then the doctors' group's name and the day."""
    treatment = ", ".join(f"'{kind.value}'" for kind in gate.TREATMENT_KINDS)
    gated = gated_plans(
        f"id IN (SELECT plan_id FROM shown WHERE kind IN ({treatment}))",
        "patient_id IN (SELECT patient_id FROM shown"
        f" WHERE kind = '{Kind.TOUCH_UP.value}' AND plan_id IS NULL)",
    )
    return f"""
        WITH shown AS ({card_cache.shown_sql(where)}), gated AS ({gated})
        SELECT md5(concat_ws('|',
            {card_cache.card_versions()},
            {gate_versions()},
            {card_cache.doctors_versions()},
            {versions(table(WorkingHours), "TRUE")},
            {versions(table(Room), "TRUE")},
            {versions(table(Location), "TRUE")},
            {versions(table(ClosedDay), "t.day = %s")}))
    """


def fingerprint(day: date, tz, office: Location | None) -> str | None:
    """The fingerprint of the day's page at `office` (None: every office); None where kept
    pages are not used."""
    rows = selectors.calendar_rows(*clock.day_bounds(day, tz), location=office)
    return card_cache.rows_fingerprint(rows, fingerprint_sql, [GROUP_NAMES[Role.DOCTOR], day])


@dataclass(frozen=True)
class Kept:
    html: str  # the columns, with day_cards.MARKS where the page's own fields go
    closed: list[str]  # what to say of each closure of the day
    shown: list[int]  # the appointments on the page, for the audit log
    until: datetime | None  # when a screening grows old and the page may change

    def columns(self, here: str, csrf_token: str) -> SafeString:
        """The columns' HTML for the page at `here` with the form token `csrf_token`."""
        return mark_safe(day_cards.put(self.html, day_cards.fields(here, csrf_token)))


def _fresh(kept: Kept) -> bool:
    return kept.until is None or timezone.now() < kept.until


def page(day: date, tz, *, by_room: bool, office: Location | None) -> Kept:
    """The day's columns (by doctor or by room, at `office` or every office) and closed days,
    kept under their fingerprint and the day it is now."""
    today = timezone.localdate(timezone.now(), tz)

    def write() -> Kept:
        columns, until = selectors.day_columns(day, tz, by_room=by_room, location=office)
        html = render_to_string(
            "scheduling/_day_columns.html",
            {
                "day": day,
                "office": office,
                "column_cards": day_cards.write(columns, by_room=by_room, page=day_cards.MARKS),
            },
        )
        return Kept(
            html=html,
            closed=selectors.closures(day, day, office).get(day, []),
            shown=[card.pk for column in columns for card in column.appointments],
            until=until,
        )

    found = fingerprint(day, tz, office)
    if found is None:
        return write()
    where_at = office.pk if office is not None else "all"
    key = (VERSION, day, tz, by_room, where_at, today)
    return remember("day", found, key, write, fresh=_fresh)
