"""The booking rules, stated once: may this doctor see this patient at this time, and if not,
why, in one set of messages.

The free-time search (slots.free_slots and what proposes times) and the booking services both
decide here, so a time offered is a time that books, and a time refused is refused in the same
words on the series page's dry run as by the booking itself. The functions take the facts
already read (a slots.Calendar of closed days, working hours, time off, appointments and
rooms; the plan, the screening's verdict, the plan's other sessions) and neither query nor
write (`series` only marks in the calendar it is given the sessions it lets through). The
database stays the final guard: its exclusion constraints catch the race these can't see.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from django.db import models
from django.utils.translation import gettext_lazy as _

from goodskin import when
from treatments.models import PlanStatus

from . import clock


class Reason(models.TextChoices):
    """Why a time can't be booked; the label is the message, with its %(name)s values."""

    PAST = "past", _("That time is in the past.")
    MERGED = "merged", _("This patient record was merged into another one.")
    OTHER_PATIENT = "other_patient", _("That plan belongs to another patient.")
    PLAN_NOT_ACTIVE = "plan_not_active", _("This plan is not active, so no session can be booked.")
    NO_SUCH_SESSION = "no_such_session", _("This plan has %(n)d sessions.")
    CONTRAINDICATED = (
        "contraindicated",
        _(
            "Treatment is blocked: %(names)s. A doctor can override this, with a reason, on the "
            "plan's page."
        ),
    )
    NOTICE = "notice", _("Choose a time more than %(hours)d hours from now.")
    CLOSED = "closed", _("The clinic is closed on %(day)s.")
    GAP = "gap", _("Session %(n)d must be at least %(weeks)d weeks from session %(m)d (%(day)s).")
    HOURS = "hours", _("The doctor does not work at that time.")
    BUSY = "busy", _("The doctor is busy or off at that time.")
    PATIENT_BUSY = "patient_busy", _("The patient has another appointment at that time.")
    NO_ROOM = "no_room", _("No room is free at that time.")


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    values: dict = field(default_factory=dict)

    def __str__(self) -> str:
        # Translated when shown, in the language of the request that shows it, its days
        # written as every page writes them.
        values = {k: when.day(v) if isinstance(v, date) else v for k, v in self.values.items()}
        return str(self.reason.label) % values


@dataclass(frozen=True)
class Session:
    """A plan's session to book, with what the rules need to know about it: what the
    eligibility gate blocks it for (`blockers`, named; empty when nothing does) and the other
    sessions of the plan as (number, clinic-local day). A staff move checks only the sessions
    before it (`earlier_only`): the later ones can move with it."""

    plan: object
    number: int
    blockers: str
    others: list = field(default_factory=list)
    earlier_only: bool = False


# --- When and for whom ----------------------------------------------------------------------


def in_future(starts_at: datetime, now: datetime) -> Refusal | None:
    return Refusal(Reason.PAST) if starts_at <= now else None


def earliest_start(now: datetime) -> int:
    """in_future for the search, in whole seconds: the first second after now."""
    return int(now.timestamp()) + 1


def with_notice(starts_at: datetime, now: datetime, hours: int) -> Refusal | None:
    """A patient's own move: the new time lies beyond the notice period."""
    if starts_at - now <= timedelta(hours=hours):
        return Refusal(Reason.NOTICE, {"hours": hours})
    return None


def patient_record(patient) -> Refusal | None:
    return Refusal(Reason.MERGED) if patient.merged_into_id else None


# --- The plan -------------------------------------------------------------------------------


def plan_session(patient, session: Session) -> Refusal | None:
    """The plan's own rules for booking its session `number`."""
    plan = session.plan
    if plan.patient_id != patient.pk:
        return Refusal(Reason.OTHER_PATIENT)
    if plan.status != PlanStatus.ACTIVE:
        return Refusal(Reason.PLAN_NOT_ACTIVE)
    if not 1 <= session.number <= plan.sessions_planned:
        return Refusal(Reason.NO_SUCH_SESSION, {"n": plan.sessions_planned})
    if session.blockers:
        return Refusal(Reason.CONTRAINDICATED, {"names": session.blockers})
    return None


def plan_blocker(plan, *, blockers: str) -> Refusal | None:
    """What stops every session of a plan, whatever the time (`blockers`: what the
    eligibility gate blocks the whole plan for, named)."""
    if plan.status != PlanStatus.ACTIVE:
        return Refusal(Reason.PLAN_NOT_ACTIVE)
    return Refusal(Reason.CONTRAINDICATED, {"names": blockers}) if blockers else None


def gap(session: Session, day: date) -> Refusal | None:
    """Sessions of one plan stay at least the plan's interval apart, on clinic-local days."""
    interval = timedelta(weeks=session.plan.interval_weeks)
    for other_number, other_day in session.others:
        if other_number == session.number:
            continue
        if session.earlier_only and other_number > session.number:
            continue
        if abs(day - other_day) < interval:
            values = {
                "n": session.number,
                "weeks": session.plan.interval_weeks,
                "m": other_number,
                "day": other_day,
            }
            return Refusal(Reason.GAP, values)
    return None


def first_day_after(days: list[date], interval_weeks: int) -> date | None:
    """gap for the search: the first day at least the interval after every one of `days`."""
    return max(days) + timedelta(weeks=interval_weeks) if days else None


# --- The calendar: closed days, working hours, time off, buffers, rooms ---------------------


def clinic_open(calendar, day: date) -> Refusal | None:
    """The clinic is not closed on the clinic-local `day` (a holiday, a closure)."""
    return Refusal(Reason.CLOSED, {"day": day}) if day in calendar.closed else None


def kept_free(start: int, end: int, buffer: int) -> tuple[int, int]:
    """The time an appointment [start, end) takes, in seconds: itself and the buffer on both
    sides. Time off takes only itself."""
    return start - buffer, end + buffer


def working_blocks(calendar, doctor_id: int, day: date, tz: tzinfo) -> list[tuple]:
    """The doctor's working hours on a clinic-local day, as instants."""
    blocks = []
    for starts, ends in calendar.hours[doctor_id][day.weekday()]:
        try:
            blocks.append((clock.instant(day, starts, tz), clock.instant(day, ends, tz)))
        except clock.LocalTimeError:
            continue  # hours that begin or end in a skipped or repeated hour: not offered
    return blocks


def doctor_free(calendar, doctor_id: int, start: datetime, end: datetime) -> Refusal | None:
    """The doctor works for the whole of [start, end), in one block of the day it starts,
    and has no appointment (with its buffer) or time off in it."""
    tz = clock.zone(calendar.location.time_zone)
    blocks = working_blocks(calendar, doctor_id, start.astimezone(tz).date(), tz)
    if not any(b_start <= start and end <= b_end for b_start, b_end in blocks):
        return Refusal(Reason.HOURS)
    taken = calendar.doctor_busy[doctor_id]
    if taken.busy_until(clock.seconds(start), clock.seconds(end, up=True)) is not None:
        return Refusal(Reason.BUSY)
    return None


def first_free_room(calendar, start: int, end: int, wanted=None):
    """The first room in use, by name, with nothing (and no buffer) in [start, end) seconds;
    only `wanted` if given. None if there is none."""
    for room in calendar.rooms:
        if wanted is not None and room.pk != wanted.pk:
            continue
        if calendar.room_busy[room.pk].busy_until(start, end) is None:
            return room
    return None


def free_room(calendar, start: datetime, end: datetime, wanted=None):
    return first_free_room(calendar, clock.seconds(start), clock.seconds(end, up=True), wanted)


def patient_free(calendar, start: datetime, end: datetime) -> Refusal | None:
    """The patient has no other active appointment in [start, end), with any doctor (when
    the calendar was read for a patient)."""
    busy = calendar.patient_busy
    if busy is not None and busy.busy_until(clock.seconds(start), clock.seconds(end, up=True)):
        return Refusal(Reason.PATIENT_BUSY)
    return None


def free_starts(
    calendar, doctor_id: int, day: date, length: int, step: int, earliest: int
) -> Iterator[tuple]:
    """(start, room) in seconds: every time of the day the calendar rules (doctor_free, then
    free_room) accept for `length` seconds, on the grid of `step` from the start of each
    working block, not before `earliest`, and outside the patient's other appointments when
    the calendar was read for one. The search's form of them: a busy stretch is
    skipped in one step instead of `step` at a time. Nothing on a closed day: the search
    never overrides clinic_open."""
    if clinic_open(calendar, day) is not None:
        return
    tz = clock.zone(calendar.location.time_zone)
    busy = calendar.doctor_busy[doctor_id]
    for block_start, block_end in working_blocks(calendar, doctor_id, day, tz):
        first, last = clock.seconds(block_start), clock.seconds(block_end) - length
        start = first if earliest <= first else first + -(-(earliest - first) // step) * step
        while start <= last:
            until = busy.busy_until(start, start + length)
            if until is None and calendar.patient_busy is not None:
                until = calendar.patient_busy.busy_until(start, start + length)
            if until is not None:
                # Every start before `until` is taken too: go to the next one after it.
                start = first + -(-(until - first) // step) * step
                continue
            room = first_free_room(calendar, start, start + length)
            if room is not None:
                yield start, room
            start += step


# --- All of them ----------------------------------------------------------------------------


def refusal(
    calendar,
    *,
    doctor_id: int,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    patient,
    session: Session | None = None,
    room=None,
    open_anyway: bool = False,
) -> Refusal | None:
    """The first rule a booking breaks, in the order the person booking fixes them: when, who,
    the plan, the gap to its other sessions, a closed day (unless staff book `open_anyway`),
    the doctor's time, the patient's, a room (`room` if given)."""
    tz = clock.zone(calendar.location.time_zone)
    day = starts_at.astimezone(tz).date()
    problem = in_future(starts_at, now) or patient_record(patient)
    if problem is None and session is not None:
        problem = plan_session(patient, session) or gap(session, day)
    if problem is None and not open_anyway:
        problem = clinic_open(calendar, day)
    if problem is None:
        problem = doctor_free(calendar, doctor_id, starts_at, ends_at)
    if problem is None:
        problem = patient_free(calendar, starts_at, ends_at)
    if problem is None and free_room(calendar, starts_at, ends_at, wanted=room) is None:
        problem = Refusal(Reason.NO_ROOM)
    return problem


def series(
    calendar,
    *,
    patient,
    plan,
    blockers: dict,
    booked: list,
    sessions: list[tuple],
    doctor_id: int,
    now: datetime,
    open_anyway: bool = False,
) -> list[tuple]:
    """A series of sessions (number, start, end), in time order, each judged by `refusal`
    against the plan's sessions in `booked` (number, day) and the ones before it in the
    series, `blockers` {number: what the eligibility gate blocks it for}: (number, refusal or
    None, room). A session let through is counted as taken in
    `calendar` (later ones see it); a pair too close is reported once, on the later one."""
    tz = clock.zone(calendar.location.time_zone)
    days, verdicts = list(booked), []
    for number, starts_at, ends_at in sorted(sessions, key=lambda s: (s[1], s[0])):
        session = Session(
            plan=plan, number=number, blockers=blockers.get(number, ""), others=list(days)
        )
        problem = refusal(
            calendar,
            doctor_id=doctor_id,
            starts_at=starts_at,
            ends_at=ends_at,
            now=now,
            patient=patient,
            session=session,
            open_anyway=open_anyway,
        )
        room = None
        if problem is None:
            room = free_room(calendar, starts_at, ends_at)
            calendar.take(doctor_id, room, starts_at, ends_at)
        days.append((number, starts_at.astimezone(tz).date()))
        verdicts.append((number, problem, room))
    return verdicts


# --- Time of day ------------------------------------------------------------------------------

NOON = 12


def in_part(part: str, local: datetime) -> bool:
    """A clinic-local start in the part of the day asked for: "morning" (before noon),
    "afternoon" (from noon), anything else (any time)."""
    if part == "morning":
        return local.hour < NOON
    if part == "afternoon":
        return local.hour >= NOON
    return True
