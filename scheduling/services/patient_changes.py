"""The patient's own changes from the portal: cancelling, and moving to a time offered."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.roles import Role

from .. import clock, rules
from ..models import Appointment, CancelledBy, SchedulingSettings, Status
from ..slots import free_slots
from .changes import _cancel, _move
from .common import BookingError, Refused, _locked, _session, scheduling_settings


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
    appointment: Appointment, days: int = 28, per_day: int = 6, max_days: int = 10
) -> list:
    """Free times the patient may move to: the times the rules let through for patient_move
    (the same doctor and length, after the notice period, keeping the plan's interval to the
    sessions before and after). A short list a phone can show: on the hour and half hour,
    `per_day` a day, `max_days` days."""
    settings = scheduling_settings()
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
        return []  # refused at any time: nothing to offer
    first = (now + timedelta(hours=settings.patient_notice_hours)).astimezone(tz).date()
    if session:
        # Start looking where the plan allows this session, not at today.
        before = [day for number, day in session.others if number < session.number]
        first = max(
            filter(None, [first, rules.first_day_after(before, session.plan.interval_weeks)])
        )
    slots = free_slots(
        doctor_ids=[appointment.doctor_id],
        location=appointment.location,
        first_day=first,
        last_day=first + timedelta(days=days),
        minutes=int(appointment.duration.total_seconds() // 60),
        step_minutes=settings.slot_step_minutes,
        buffer_minutes=settings.buffer_minutes,
        patient_id=appointment.patient_id,
    )
    allowed = [
        slot
        for slot in slots
        if slot.starts_at != appointment.starts_at
        and rules.with_notice(slot.starts_at, now, settings.patient_notice_hours) is None
        and (session is None or rules.gap(session, slot.starts_at.astimezone(tz).date()) is None)
    ]
    return _thin(allowed, tz, per_day=per_day, max_days=max_days)


def _thin(slots: list, tz, *, per_day: int, max_days: int) -> list:
    """At most `per_day` times a day, spread over the day, on the hour or half hour."""
    by_day: dict = {}
    for slot in slots:
        local = slot.starts_at.astimezone(tz)
        if local.minute in (0, 30):
            by_day.setdefault(local.date(), []).append(slot)
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
