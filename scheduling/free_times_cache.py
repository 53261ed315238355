"""The free-time page's results (the first free time and the days' buttons), and the times the
portal's move page offers (kept_move_options), kept in the cache
under a fingerprint of every row the search reads, as card_cache keeps the day view's cards: a
search asked again with nothing changed is not worked out and written again (it was two thirds
of the page: the calendar read and laid out, some hundreds of buttons written; bench/scheduling.py,
"free-time page").

The fingerprint is one query: the version of each appointment near the days searched (every
doctor's, since the rooms are shared, and so the patient's own), the doctors' time off there, the
closed days, every working hours, room and office row, the scheduling settings, the doctors'
rows (their names are on the buttons) and the plan's (its session length). Any write to one of
them makes a new fingerprint, whatever path made it. The clock only ever takes free times away
(those it passes): a kept result is used while the clock has not reached its first free time,
and written again after. Elsewhere than PostgreSQL, and while the cache does not answer, the
search runs every time."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from goodskin.kept import fingerprint_row, remember
from goodskin.row_versions import table, versions
from treatments.models import TreatmentPlan

from . import rules
from .models import (
    MAX_LENGTH,
    Appointment,
    ClosedDay,
    Location,
    Room,
    SchedulingSettings,
    TimeOff,
    WorkingHours,
)

# Raise when what is kept or how it is written changes.
VERSION = 1


# The appointments that overlap the days searched as overlap_q reads them (its bound on the start
# lets the index on starts_at serve), widened by two days each side: any office's zone and any
# buffer around a visit fall inside.
_NEAR = (
    "t.starts_at < %(until)s AND t.starts_at > %(since)s - %(longest)s AND t.ends_at > %(since)s"
)
FINGERPRINT = f"""
    SELECT md5(concat_ws('|',
        {versions(table(Appointment), _NEAR)},
        {versions(table(TimeOff), "t.starts_at < %(until)s AND t.ends_at > %(since)s")},
        {versions(table(ClosedDay), "t.day BETWEEN %(first)s AND %(last)s")},
        {versions(table(WorkingHours), "TRUE")},
        {versions(table(Room), "TRUE")},
        {versions(table(Location), "TRUE")},
        {versions(table(SchedulingSettings), "TRUE")},
        {versions(table(get_user_model()), "t.id = ANY(%(doctors)s)")},
        {versions(table(TreatmentPlan), "t.id = %(plan)s")}))
"""
MARGIN = timedelta(days=2)


@dataclass(frozen=True)
class Kept:
    html: str
    # The first free time's start in whole seconds (rules.earliest_start's scale), None for none.
    first_start: int | None


def fresh(kept: Kept) -> bool:
    """No free time of `kept` has been passed by the clock (the search would give the same)."""
    return kept.first_start is None or rules.earliest_start(timezone.now()) <= kept.first_start


def _params(first_day: date, last_day: date, doctor_ids: list[int], plan_id: int | None) -> dict:
    """FINGERPRINT's parameters for a search of `first_day` to `last_day`."""
    return {
        "since": datetime.combine(first_day, time.min, tzinfo=UTC) - MARGIN,
        "until": datetime.combine(last_day, time.min, tzinfo=UTC) + timedelta(days=1) + MARGIN,
        "longest": MAX_LENGTH,
        "first": first_day - MARGIN,
        "last": last_day + MARGIN,
        "doctors": sorted(doctor_ids),
        "plan": plan_id or 0,
    }


def kept(
    *,
    first_day: date,
    last_day: date,
    doctor_ids: list[int],
    plan_id: int | None,
    parts: tuple,
    write: Callable[[], Kept],
) -> Kept:
    """What `write()` gives for a search, kept under the fingerprint of the rows it reads and
    `parts` (everything else the result depends on: the search's own words, the patient, the
    zone, the offices shown)."""
    params = _params(first_day, last_day, doctor_ids, plan_id)
    row = fingerprint_row(FINGERPRINT, params)
    if row is None:
        return write()
    (found,) = row
    key = (VERSION, first_day, last_day, ",".join(map(str, params["doctors"])), plan_id, *parts)
    return remember("free-times", found, key, write, fresh=fresh)


# --- The portal's move page: the times a patient may move a visit to ------------------------

# What the search reads, as for the free-time page, and the visit itself and every visit of its
# plan (the interval to the sessions before and after, wherever they are). The patient's record
# (merged: nothing offered) is checked on the row just read, before any of this.
MOVE_FINGERPRINT = f"""
    SELECT md5(concat_ws('|', ({FINGERPRINT}),
        {versions(table(Appointment), "t.id = %(visit)s")},
        {versions(table(Appointment), "t.plan_id = %(plan)s")}))
"""


@dataclass(frozen=True)
class KeptOptions:
    options: list  # the Slots offered
    # The first free time the rules let through (before the list was thinned): the notice
    # period reaching it changes the list. And the first the search found, which the clock
    # passing takes out of the search: that changes the list only where the search's limit
    # cut it (a second look then reads more), but it is the search's own rule. None for none.
    first_found: datetime | None
    first_allowed: datetime | None


def kept_move_options(
    *,
    appointment: Appointment,
    first_day: date,
    last_day: date,
    parts: tuple,
    notice_hours: int,
    write: Callable[[], KeptOptions],
) -> KeptOptions | None:
    """What `write()` gives for the times `appointment` may move to from `first_day` to
    `last_day`, kept under the fingerprint of the rows the search reads and `parts`; written
    again once the clock passes a time it found or the notice period reaches one it offers.
    None where nothing is kept (elsewhere than PostgreSQL, the cache paused)."""

    def fresh(kept: KeptOptions) -> bool:
        now = timezone.now()
        found, allowed = kept.first_found, kept.first_allowed
        return (found is None or rules.earliest_start(now) <= found.timestamp()) and (
            allowed is None or rules.with_notice(allowed, now, notice_hours) is None
        )

    params = _params(first_day, last_day, [appointment.doctor_id], appointment.plan_id)
    row = fingerprint_row(MOVE_FINGERPRINT, {**params, "visit": appointment.pk})
    if row is None:
        return None
    (found,) = row
    key = (VERSION, appointment.pk, first_day, last_day, notice_hours, *parts)
    return remember("move-options", found, key, write, fresh=fresh)
