"""The week view's table, written once and kept in the cache under one fingerprint of every row
it is written from, as day_page keeps the day view's columns: opened again with nothing
changed, the week view reads one query and one kept entry instead of the doctors, the cards'
fingerprint and kept cells, and the closed days, and lays out no table (issue 19).

The fingerprint (one query, PostgreSQL): the week's appointments, cancelled ones left out, and
the rows each cell reads beside them (card_cache.card_versions), the doctors (the users of the
doctors' group), every working hours and office row (the doctors with hours at the office
chosen), and the week's closed days. What moves with the clock: the day it is (the row marked
today; in the key). Elsewhere than PostgreSQL, and while the cache does not answer, the table is
written every time.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from goodskin.kept import remember
from goodskin.roles import GROUP_NAMES, Role
from goodskin.row_versions import table, versions

from . import card_cache, day_cards, selectors
from .models import ClosedDay, Location, WorkingHours

# Raise when what is kept or how it is written changes.
VERSION = 1


def fingerprint_sql(where: str) -> str:
    """The query of the fingerprint of the week whose appointments match `where` (on the
    unaliased appointment table, card_cache.rows_where); its parameters: those of `where`,
    then the doctors' group's name, the Monday and the Sunday."""
    return f"""
        WITH shown AS ({card_cache.shown_sql(where)})
        SELECT md5(concat_ws('|',
            {card_cache.card_versions()},
            {card_cache.doctors_versions()},
            {versions(table(WorkingHours), "TRUE")},
            {versions(table(Location), "TRUE")},
            {versions(table(ClosedDay), "t.day BETWEEN %s AND %s")}))
    """


def fingerprint(monday: date, tz, office: Location | None) -> str | None:
    """The fingerprint of the week's table from `monday` at `office` (None: every office);
    None where kept tables are not used."""
    rows = selectors.calendar_rows(
        *selectors.week_bounds(monday, tz), location=office, with_cancelled=False
    )
    sunday = monday + timedelta(days=6)
    return card_cache.rows_fingerprint(
        rows, fingerprint_sql, [GROUP_NAMES[Role.DOCTOR], monday, sunday]
    )


@dataclass(frozen=True)
class Kept:
    html: SafeString  # the table
    shown: list[int]  # the appointments in it, for the audit log


def page(monday: date, tz, *, office: Location | None, office_query: str) -> Kept:
    """The week from `monday` (days × doctors, at `office` or every office), kept under its
    fingerprint and the day it is now. `office_query`: what the table's links keep of the
    office chosen."""
    today = timezone.localdate(timezone.now(), tz)
    sunday = monday + timedelta(days=6)

    def write() -> Kept:
        people, grid = selectors.week_grid(monday, tz, office)
        closed = selectors.closures(monday, sunday, office)
        html = render_to_string(
            "scheduling/_week_table.html",
            {
                "doctors": people,
                "row_cells": [
                    (row.day, cells, closed.get(row.day, []))
                    for row, cells in day_cards.write_week(grid)
                ],
                "today": today,
                "office_query": office_query,
            },
        )
        shown = [card.pk for row in grid for cell in row.cells for card in cell]
        return Kept(mark_safe(html), shown)

    found = fingerprint(monday, tz, office)
    if found is None:
        return write()
    where_at = office.pk if office is not None else "all"
    return remember("week", found, (VERSION, monday, tz, where_at, today), write)
