"""Changing a booked appointment: moving it (and the plan's later sessions with it),
cancelling it, and the steps of a visit (check-in, start, complete, no-show)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, Role

from .. import change_notices, clock, gate, openings, reminders, rules
from ..models import (
    Appointment,
    CancelledBy,
    ChangeAction,
    Kind,
    OpeningReason,
    SchedulingSettings,
    Status,
)
from ..slots import free_slots
from .booking import _checked_room
from .common import (
    BookingError,
    _lock_doctor,
    _locked,
    _log,
    _require_staff,
    _save_or_taken,
    _session,
    _snapshot,
    scheduling_settings,
)


class LaterSessionsTooClose(BookingError):
    """A move brings later sessions of the plan closer than the interval; they can move too."""

    def __init__(self, sessions: list[Appointment]):
        super().__init__(_("The sessions after this one would be too close. Move them too?"))
        self.sessions = sessions


def _move(
    current: Appointment,
    starts_at: datetime,
    by: Actor,
    settings: SchedulingSettings,
    doctor=None,
    earlier_only=True,
    open_anyway: bool = False,
) -> Appointment:
    """Move `current` (locked) if the rules let the new time through. A staff move checks the
    gap to the plan's earlier sessions only (`earlier_only`): the later ones can move too.
    `open_anyway`: staff move it onto a closed day on purpose (never a patient's move)."""
    doctor = doctor or current.doctor
    _lock_doctor(doctor.pk)
    starts_at = clock.utc(starts_at)
    ends_at = starts_at + current.duration
    session = None
    if current.kind == Kind.SESSION:
        session = _session(
            current.plan,
            current.session_number,
            patient=current.patient,
            tz=clock.zone(current.location.time_zone),
            exclude_id=current.pk,
            earlier_only=earlier_only,
        )
    room, overridden = _checked_room(
        patient=current.patient,
        doctor_id=doctor.pk,
        starts_at=starts_at,
        ends_at=ends_at,
        location=current.location,
        settings=settings,
        session=session,
        exclude_id=current.pk,
        open_anyway=open_anyway,
    )
    before = _snapshot(current)
    freed = {
        "doctor_id": current.doctor_id,
        "starts_at": current.starts_at,
        "ends_at": current.ends_at,
    }
    current.starts_at, current.ends_at, current.doctor, current.room = (
        starts_at,
        ends_at,
        doctor,
        room,
    )
    current.version += 1
    _save_or_taken(current)  # a lost race rolls the move back
    _log(current, action=ChangeAction.MOVED, before=before, by=by, closed_override=overridden)
    reminders.appointment_moved(current)
    change_notices.moved(current)
    openings.appointment_freed(current, OpeningReason.MOVED, **freed)
    return current


@transaction.atomic
def move_appointment(
    *,
    appointment: Appointment,
    starts_at: datetime,
    by: Actor,
    version: int | None = None,
    doctor=None,
    shift_later: bool = False,
    open_anyway: bool = False,
) -> list[Appointment]:
    """Move one appointment. If later sessions of its plan end up too close, either refuse
    with LaterSessionsTooClose (nothing changes) or, with shift_later, move each of them to the
    first free time that keeps the interval, all in this transaction. Returns what moved.
    `open_anyway`: onto a closed day, on purpose; the later sessions still go to open days."""
    _require_staff(by)
    current = _locked(appointment, version)
    if current.status != Status.BOOKED:
        raise BookingError(_("Only a booked appointment can be moved."))
    settings = scheduling_settings()
    moved = [_move(current, starts_at, by, settings, doctor, open_anyway=open_anyway)]
    too_close = sessions_too_close_after(current)
    if too_close and not shift_later:
        raise LaterSessionsTooClose(too_close)
    for other in too_close:
        tz = clock.zone(other.location.time_zone)
        previous = moved[-1].starts_at.astimezone(tz).date()
        earliest = rules.first_day_after([previous], other.plan.interval_weeks)
        slots = free_slots(
            doctor_ids=[other.doctor_id],
            location=other.location,
            first_day=earliest,
            last_day=earliest + timedelta(days=28),
            minutes=int(other.duration.total_seconds() // 60),
            step_minutes=settings.slot_step_minutes,
            buffer_minutes=settings.buffer_minutes,
            limit=1,
            patient_id=other.patient_id,
        )
        if not slots:
            raise BookingError(
                _("No free time found for session %(n)d; nothing was moved.")
                % {"n": other.session_number}
            )
        moved.append(_move(_locked(other, None), slots[0].starts_at, by, settings))
    return moved


def sessions_too_close_after(appointment: Appointment) -> list[Appointment]:
    """Later booked sessions of the same plan that are closer than the interval, taking each
    as shifted to its earliest allowed day."""
    if appointment.plan_id is None:
        return []
    interval = appointment.plan.interval
    tz = clock.zone(appointment.location.time_zone)
    later = appointment.plan.appointments.filter(
        status=Status.BOOKED, session_number__gt=appointment.session_number
    ).order_by("session_number")
    too_close, previous = [], appointment.starts_at.astimezone(tz).date()
    for other in later:
        day = other.starts_at.astimezone(tz).date()
        if day - previous < interval:
            too_close.append(other)
            previous = previous + interval
        else:
            previous = day
    return too_close


@transaction.atomic
def cancel_appointment(
    *,
    appointment: Appointment,
    by: Actor,
    cancelled_by: str,
    reason: str,
    version: int | None = None,
) -> Appointment:
    if by.role not in (*STAFF_ROLES, Role.PATIENT):
        raise BookingError(_("You can't cancel this appointment."))
    if cancelled_by not in CancelledBy.values:
        raise BookingError(_("Say who cancelled: the patient or the clinic."))
    if not reason.strip():
        raise BookingError(_("Give a reason for the cancellation."))
    current = _locked(appointment, version)
    return _cancel(
        current,
        by=by,
        cancelled_by=cancelled_by,
        reason=reason.strip(),
        settings=scheduling_settings(),
    )


def _cancel(
    current: Appointment,
    *,
    by: Actor,
    cancelled_by: CancelledBy,
    reason: str,
    settings: SchedulingSettings,
) -> Appointment:
    """Cancel `current`, locked by the caller."""
    if current.status != Status.BOOKED:
        raise BookingError(_("Only a booked appointment can be cancelled."))
    before = _snapshot(current)
    notice = timedelta(hours=settings.late_cancel_hours)
    current.status = Status.CANCELLED
    current.cancelled_by = cancelled_by
    current.cancel_reason = reason
    current.late_cancel = current.starts_at - timezone.now() < notice
    current.version += 1
    current.save()
    _log(current, action=ChangeAction.CANCELLED, before=before, by=by)
    reminders.appointment_cancelled(current)
    # Online, the patient may undo it for a few minutes: its message, and the offer of the
    # time to the waitlist, wait that long.
    by_patient = by.role == Role.PATIENT
    change_notices.cancelled(current, by_patient=by_patient)
    openings.appointment_freed(
        current,
        OpeningReason.CANCELLED,
        doctor_id=current.doctor_id,
        starts_at=current.starts_at,
        ends_at=current.ends_at,
        offer_from=timezone.now() + change_notices.undo_window() if by_patient else None,
    )
    return current


# Which status may follow which, and from when: check-in and the rest happen on the day.
TRANSITIONS = {
    Status.CHECKED_IN: {Status.BOOKED},
    Status.IN_PROGRESS: {Status.BOOKED, Status.CHECKED_IN},
    Status.COMPLETED: {Status.CHECKED_IN, Status.IN_PROGRESS},
    Status.NO_SHOW: {Status.BOOKED},
    Status.BOOKED: {Status.CHECKED_IN, Status.NO_SHOW},  # undo a click made by mistake
}


@transaction.atomic
def set_status(
    *, appointment: Appointment, status: str, by: Actor, version: int | None = None
) -> Appointment:
    _require_staff(by)
    current = _locked(appointment, version)
    if current.status not in TRANSITIONS.get(status, set()):
        raise BookingError(
            _("An appointment that is “%(now)s” can't become “%(next)s”.")
            % {"now": current.get_status_display(), "next": Status(status).label}
        )
    tz = clock.zone(current.location.time_zone)
    if current.starts_at.astimezone(tz).date() > timezone.localdate(timezone.now(), tz):
        raise BookingError(_("This appointment is not today yet."))
    # The eligibility gate and the re-screen, with the screening as it stands now.
    arriving = current.status == Status.BOOKED and status in (Status.CHECKED_IN, Status.IN_PROGRESS)
    if arriving and (refusal := gate.check_in_refusal(gate.flag(current))):
        raise BookingError(refusal)
    before = _snapshot(current)
    current.status = status
    current.version += 1
    current.save(update_fields=["status", "version"])
    _log(current, action=ChangeAction.of_status(status), before=before, by=by)
    if status == Status.COMPLETED:
        # Hands over to the aftercare messages, in this same transaction.
        reminders.session_completed(current)
    elif status == Status.NO_SHOW:
        reminders.appointment_cancelled(current)
    return current
