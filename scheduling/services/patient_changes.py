"""The patient's own changes from the portal: cancelling, and moving to a time offered."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.roles import Role

from .. import clock
from ..models import Appointment, CancelledBy, Status
from ..slots import free_slots
from .booking import _check_gaps
from .changes import _move, cancel_appointment
from .common import BookingError, _locked, _session_days, scheduling_settings


def _notice() -> timedelta:
    return timedelta(hours=scheduling_settings().patient_notice_hours)


def patient_may_change(appointment: Appointment) -> bool:
    """Online changes stop at the notice period; after it the patient calls the clinic."""
    return (
        appointment.status == Status.BOOKED and appointment.starts_at - timezone.now() > _notice()
    )


def _own_and_in_time(appointment: Appointment, by: Actor) -> None:
    if by.role != Role.PATIENT or appointment.patient.portal_user_id != by.user.pk:
        raise BookingError(_("This appointment is not yours."))
    if not patient_may_change(appointment):
        raise BookingError(
            _("It is too late to change this appointment online. Please call the clinic.")
        )


@transaction.atomic
def patient_cancel(*, appointment: Appointment, by: Actor, version: int | None = None):
    current = _locked(appointment, version)
    _own_and_in_time(current, by)
    return cancel_appointment(
        appointment=current,
        by=by,
        cancelled_by=CancelledBy.PATIENT,
        reason=_("Cancelled online by the patient"),
    )


def patient_move_options(
    appointment: Appointment, days: int = 28, per_day: int = 6, max_days: int = 10
) -> list:
    """Free times the patient may move to: the same doctor and length, after the notice
    period, and keeping the plan's interval to the sessions before and after. A short list a
    phone can show: on the hour and half hour, `per_day` a day, `max_days` days."""
    settings = scheduling_settings()
    tz = clock.zone(appointment.location.time_zone)
    first = (timezone.now() + _notice()).astimezone(tz).date()
    # The plan's other sessions, read once for every candidate time (read per candidate, they
    # were a thousand queries and seconds per page).
    others = (
        _session_days(appointment.plan, tz, exclude_id=appointment.pk)
        if appointment.plan_id
        else []
    )
    if appointment.plan_id:
        # Start looking where the plan allows this session, not at today.
        before = [day for number, day in others if number < appointment.session_number]
        if before:
            first = max(first, max(before) + appointment.plan.interval)
    slots = free_slots(
        doctor_ids=[appointment.doctor_id],
        location=appointment.location,
        first_day=first,
        last_day=first + timedelta(days=days),
        minutes=int(appointment.duration.total_seconds() // 60),
        step_minutes=settings.slot_step_minutes,
        buffer_minutes=settings.buffer_minutes,
    )
    earliest = timezone.now() + _notice()
    allowed = []
    for slot in slots:
        if slot.starts_at <= earliest or slot.starts_at == appointment.starts_at:
            continue
        if appointment.plan_id:
            day = slot.starts_at.astimezone(tz).date()
            try:
                _check_gaps(appointment.plan, appointment.session_number, day, others)
            except BookingError:
                continue
        allowed.append(slot)
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
    current = _locked(appointment, version)
    _own_and_in_time(current, by)
    if clock.utc(starts_at) - timezone.now() <= _notice():
        raise BookingError(
            _("Choose a time more than %(hours)d hours from now.")
            % {"hours": scheduling_settings().patient_notice_hours}
        )
    # The patient can't shift later sessions: the new time must keep the interval both ways.
    return _move(current, starts_at, by, earlier_only=False)
