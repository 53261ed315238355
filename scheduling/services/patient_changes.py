"""The patient's own changes from the portal: cancelling (and undoing it for a few minutes),
and moving to a time offered."""

from dataclasses import replace
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.roles import Role

from .. import change_notices, clock, free_times_cache, openings, reminders, rules
from ..models import (
    Appointment,
    AppointmentChange,
    CancelledBy,
    ChangeAction,
    SchedulingSettings,
    Status,
)
from ..slots import free_slots
from .booking import _checked_room
from .changes import _cancel, _move
from .common import (
    BookingError,
    Refused,
    _lock_doctor,
    _locked,
    _log,
    _save_or_taken,
    _session,
    _snapshot,
    scheduling_settings,
)


def patient_may_change(
    appointment: Appointment, *, settings: SchedulingSettings | None = None
) -> bool:
    """Online changes stop at the notice period; after it the patient calls the clinic.
    `settings`: the row, when the caller has read it already."""
    settings = settings or scheduling_settings()
    notice = timedelta(hours=settings.patient_notice_hours)
    return appointment.status == Status.BOOKED and appointment.starts_at - timezone.now() > notice


def _own_and_in_time(appointment: Appointment, by: Actor, settings: SchedulingSettings) -> None:
    if by.role != Role.PATIENT or appointment.patient.portal_user_id != by.user.pk:
        raise BookingError(_("This appointment is not yours."))
    if not patient_may_change(appointment, settings=settings):
        raise BookingError(
            _("It is too late to change this appointment online. Please call the clinic.")
        )


@transaction.atomic
def patient_cancel(*, appointment: Appointment, by: Actor, version: int | None = None):
    settings = scheduling_settings()
    current = _locked(appointment, version)
    _own_and_in_time(current, by, settings)
    return _cancel(
        current,
        by=by,
        cancelled_by=CancelledBy.PATIENT,
        reason=_("Cancelled online by the patient"),
        settings=settings,
    )


def patient_move_options(
    appointment: Appointment,
    days: int = 28,
    per_day: int = 6,
    max_days: int = 10,
    *,
    settings: SchedulingSettings | None = None,
) -> list:
    """Free times the patient may move to: the times the rules let through for patient_move
    (the same doctor and length, after the notice period, keeping the plan's interval to the
    sessions before and after). A short list a phone can show: on the hour and half hour,
    `per_day` a day, `max_days` days. `settings`: the row, when the caller has read it.

    Kept in the cache under the fingerprint of every row the search reads
    (free_times_cache.kept_move_options): the move page was twice the portal's home, its time
    in the free-time search, and a patient opens it again and again choosing a time."""
    settings = settings or scheduling_settings()
    found = _first_and_last(appointment, days, settings)
    if found is None:
        return []  # refused at any time: nothing to offer
    first, last_day, tz, _session = found

    def write() -> free_times_cache.KeptOptions:
        # Read again after the fingerprint: what is kept under it is never older than it.
        visit = Appointment.objects.select_related("doctor", "location", "plan", "patient").get(
            pk=appointment.pk
        )
        now_read = scheduling_settings()
        again = _first_and_last(visit, days, now_read)
        if again is None:
            return free_times_cache.KeptOptions([], None, None)
        made = _move_options(visit, again, per_day, max_days, now_read)
        # Kept without the doctor's row (a user's, with its password hash): every time offered
        # is with the visit's own doctor, put back on reading.
        return replace(made, options=[replace(slot, doctor=None) for slot in made.options])

    kept = free_times_cache.kept_move_options(
        appointment=appointment,
        first_day=first,
        last_day=last_day,
        parts=(per_day, max_days, tz.key),
        notice_hours=settings.patient_notice_hours,
        write=write,
    )
    if kept is None:  # not kept (no cache): from the rows just read
        kept = _move_options(appointment, found, per_day, max_days, settings)
    return [replace(slot, doctor=appointment.doctor) for slot in kept.options]


def _first_and_last(appointment: Appointment, days: int, settings: SchedulingSettings):
    """(first day, last day, zone, the plan's session or None) of the times to look through
    for moving `appointment`, or None when the rules refuse it at any time."""
    now = timezone.now()
    tz = clock.zone(appointment.location.time_zone)
    patient, session = appointment.patient, None
    if appointment.plan_id:
        # The plan's other sessions, read once for every candidate time (read per candidate,
        # they were a thousand queries and seconds per page).
        session = _session(
            appointment.plan,
            appointment.session_number,
            patient=patient,
            tz=tz,
            exclude_id=appointment.pk,
        )
    if rules.patient_record(patient) or (session and rules.plan_session(patient, session)):
        return None
    first = (now + timedelta(hours=settings.patient_notice_hours)).astimezone(tz).date()
    if session:
        # Start looking where the plan allows this session, not at today.
        before = [day for number, day in session.others if number < session.number]
        first = max(
            filter(None, [first, rules.first_day_after(before, session.plan.interval_weeks)])
        )
    return first, first + timedelta(days=days), tz, session


def _move_options(
    appointment: Appointment, found: tuple, per_day: int, max_days: int, settings
) -> free_times_cache.KeptOptions:
    """patient_move_options worked out from `found` (_first_and_last), with what tells when
    the clock has changed it."""
    first, last_day, tz, session = found
    now = timezone.now()

    def search(first_day, last_day, limit: int) -> list:
        return free_slots(
            doctor_ids=[appointment.doctor_id],
            doctors=[appointment.doctor],  # read with the visit: not read again
            location=appointment.location,
            first_day=first_day,
            last_day=last_day,
            minutes=int(appointment.duration.total_seconds() // 60),
            step_minutes=settings.slot_step_minutes,
            buffer_minutes=settings.buffer_minutes,
            patient_id=appointment.patient_id,
            limit=limit,
        )

    def allowed(slots: list) -> list:
        return [
            slot
            for slot in slots
            if slot.starts_at != appointment.starts_at
            and rules.with_notice(slot.starts_at, now, settings.patient_notice_hours) is None
            and (
                session is None or rules.gap(session, slot.starts_at.astimezone(tz).date()) is None
            )
        ]

    # The first look nearly always finds the days shown; the rest of the range is read only
    # when it does not. The same times as one search of the whole range, which read every
    # appointment of four weeks (bench/load.py, "portal move page"): a day's free times don't
    # depend on the other days searched, and the second look takes what the first left of
    # the search's limit.
    split = min(last_day, first + timedelta(days=FIRST_LOOK_DAYS - 1))
    slots = search(first, split, SEARCH_LIMIT)
    enough = len(slots) >= SEARCH_LIMIT or len(_days_offered(allowed(slots), tz)) >= max_days
    rest = [split + timedelta(days=n) for n in range(1, (last_day - split).days + 1)]
    # A plan's session may be kept off every day of the rest by its interval to the others.
    if not enough and any(session is None or rules.gap(session, day) is None for day in rest):
        slots += search(rest[0], last_day, SEARCH_LIMIT - len(slots))
    offered = allowed(slots)
    return free_times_cache.KeptOptions(
        _thin(offered, tz, per_day=per_day, max_days=max_days),
        min((slot.starts_at for slot in slots), default=None),
        min((slot.starts_at for slot in offered), default=None),
    )


# The free-time search's limit (slots.free_slots), and the days the move page's first look reads.
SEARCH_LIMIT = 500
FIRST_LOOK_DAYS = 14


def _days_offered(slots: list, tz) -> dict:
    """{day: its times on the hour or half hour}, what _thin chooses from."""
    by_day: dict = {}
    for slot in slots:
        local = slot.starts_at.astimezone(tz)
        if local.minute in (0, 30):
            by_day.setdefault(local.date(), []).append(slot)
    return by_day


def _thin(slots: list, tz, *, per_day: int, max_days: int) -> list:
    """At most `per_day` times a day, spread over the day, on the hour or half hour."""
    by_day = _days_offered(slots, tz)
    chosen = []
    for day in sorted(by_day)[:max_days]:
        times = by_day[day]
        step = max(1, len(times) / per_day)
        chosen += [times[int(n * step)] for n in range(min(per_day, len(times)))]
    return chosen


@transaction.atomic
def patient_move(
    *, appointment: Appointment, starts_at: datetime, by: Actor, version: int | None = None
) -> Appointment:
    settings = scheduling_settings()
    current = _locked(appointment, version)
    _own_and_in_time(current, by, settings)
    problem = rules.with_notice(clock.utc(starts_at), timezone.now(), settings.patient_notice_hours)
    if problem is not None:
        raise Refused(problem)
    # The patient can't shift later sessions: the new time must keep the interval both ways.
    return _move(current, starts_at, by, settings, earlier_only=False)


def undo_deadline(appointment: Appointment) -> datetime | None:
    """Until when the patient may undo the cancellation of `appointment`: its last change is
    their own cancellation online, and the undo window (`CANCEL_UNDO_MINUTES`) runs from it.
    None when there is nothing of theirs to undo."""
    if appointment.status != Status.CANCELLED or appointment.cancelled_by != CancelledBy.PATIENT:
        return None
    last = AppointmentChange.objects.filter(appointment=appointment).order_by("-at", "-id").first()
    portal_user = appointment.patient.portal_user_id
    if portal_user is None or last is None:
        return None
    if last.action != ChangeAction.CANCELLED or last.by_id != portal_user:
        return None
    return last.at + change_notices.undo_window()


@transaction.atomic
def patient_undo_cancel(*, appointment: Appointment, by: Actor, version: int | None) -> Appointment:
    """Book again, at the same time with the same doctor, an appointment the patient cancelled
    online a few minutes ago, if the time is still free: the booking rules and the
    eligibility gate as for any booking, the database's exclusion constraints last. The
    cancellation's message, still waiting, is withdrawn."""
    settings = scheduling_settings()
    current = _locked(appointment, version)
    if by.role != Role.PATIENT or current.patient.portal_user_id != by.user.pk:
        raise BookingError(_("This appointment is not yours."))
    deadline = undo_deadline(current)
    if deadline is None:
        raise BookingError(_("There is no cancellation of yours to undo here."))
    now = timezone.now()
    if now >= deadline:
        raise BookingError(
            _(
                "It is too late to undo the cancellation. "
                "Please choose a new time or call the clinic."
            )
        )
    problem = rules.with_notice(current.starts_at, now, settings.patient_notice_hours)
    if problem is not None:
        raise Refused(problem)
    return _restore(current, by, settings)


def _restore(current: Appointment, by: Actor, settings: SchedulingSettings) -> Appointment:
    """`current` (locked, cancelled) booked again in its doctor's time and its own room."""
    _lock_doctor(current.doctor_id)
    session = None
    if current.plan_id:
        session = _session(
            current.plan,
            current.session_number,
            patient=current.patient,
            tz=clock.zone(current.location.time_zone),
            exclude_id=current.pk,
        )
    try:
        _checked_room(
            patient=current.patient,
            doctor_id=current.doctor_id,
            starts_at=current.starts_at,
            ends_at=current.ends_at,
            location=current.location,
            settings=settings,
            session=session,
            room=current.room,
            exclude_id=current.pk,
        )
    except Refused as error:
        raise BookingError(
            _(
                "The cancellation can't be undone: %(problem)s "
                "Please choose a new time or call the clinic."
            )
            % {"problem": error}
        ) from error
    before = _snapshot(current)
    current.status = Status.BOOKED
    current.cancelled_by, current.cancel_reason, current.late_cancel = "", "", False
    current.version += 1
    _save_or_taken(current)  # a lost race rolls the undo back
    _log(current, action=ChangeAction.RESTORED, before=before, by=by)
    reminders.appointment_moved(current)
    change_notices.cancellation_undone(current)
    openings.appointment_restored(current)
    return current
