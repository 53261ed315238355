"""Booking one appointment, and the checks every booking passes."""

from datetime import date, datetime, timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.roles import Role, role_of
from patients.models import Patient
from patients.selectors import screening_summary
from treatments.models import PlanStatus, TreatmentPlan

from .. import clock, reminders
from ..models import Appointment, ChangeAction, Kind, Room
from ..slots import Calendar
from .common import (
    ROOM_ATTEMPTS,
    BookingError,
    SlotTaken,
    _lock_doctor,
    _log,
    _lost_race,
    _require_staff,
    _session_days,
    default_location,
    minutes_for,
    scheduling_settings,
)


def _check_plan_gaps(
    *,
    plan: TreatmentPlan,
    number: int,
    starts_at: datetime,
    exclude_id: int | None,
    tz,
    earlier_only: bool = False,
) -> None:
    """Sessions of one plan stay at least the plan's interval apart. A move checks only the
    sessions before it; the ones after are shifted with it (move_appointment)."""
    others = _session_days(plan, tz, exclude_id=exclude_id)
    _check_gaps(plan, number, starts_at.astimezone(tz).date(), others, earlier_only=earlier_only)


def _check_gaps(
    plan: TreatmentPlan, number: int, day: date, others: list[tuple], earlier_only: bool = False
) -> None:
    """Session `number` on `day` against the other sessions (number, day)."""
    interval = timedelta(weeks=plan.interval_weeks)
    for other_number, other_day in others:
        if other_number == number or (earlier_only and other_number > number):
            continue
        if abs(day - other_day) < interval:
            raise BookingError(
                _("Session %(n)d must be at least %(weeks)d weeks from session %(m)d (%(day)s).")
                % {
                    "n": number,
                    "weeks": plan.interval_weeks,
                    "m": other_number,
                    "day": other_day.isoformat(),
                }
            )


def _check_when_and_who(patient: Patient, starts_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise BookingError(_("That time is in the past."))
    if patient.merged_into_id:
        raise BookingError(_("This patient record was merged into another one."))


def _check_session(
    *, patient: Patient, plan: TreatmentPlan, number, blocked: bool | None = None
) -> None:
    """The plan's own rules for booking its session `number`; `blocked` is the screening's
    verdict when the caller has read it already."""
    if plan.patient_id != patient.pk:
        raise BookingError(_("That plan belongs to another patient."))
    if plan.status != PlanStatus.ACTIVE:
        raise BookingError(_("This plan is not active, so no session can be booked."))
    if not 1 <= number <= plan.sessions_planned:
        raise BookingError(_("This plan has %(n)d sessions.") % {"n": plan.sessions_planned})
    if blocked is None:
        blocked = screening_summary(patient).blocks_plan
    if blocked:
        raise BookingError(_("The screening shows an absolute contraindication."))


def _room_for(calendar: Calendar, doctor_id: int, starts_at, ends_at, room=None) -> Room:
    """The doctor is working and free then, and a room (`room` if given) is free: the room."""
    reason = calendar.why_not(doctor_id, starts_at, ends_at)
    if reason == "hours":
        raise BookingError(_("The doctor does not work at that time."))
    if reason == "busy":
        raise SlotTaken()
    chosen = calendar.free_room(starts_at, ends_at, wanted=room)
    if chosen is None:
        raise BookingError(_("No room is free at that time."))
    return chosen


def _check_booking(
    *,
    patient: Patient,
    kind: str,
    plan,
    number,
    starts_at,
    ends_at,
    doctor_id,
    room,
    location,
    exclude_id=None,
    earlier_only=False,
) -> Room:
    """Every rule a booking must pass; returns the room to use."""
    _check_when_and_who(patient, starts_at, timezone.now())
    tz = clock.zone(location.time_zone)
    if kind == Kind.SESSION:
        _check_session(patient=patient, plan=plan, number=number)
        _check_plan_gaps(
            plan=plan,
            number=number,
            starts_at=starts_at,
            exclude_id=exclude_id,
            tz=tz,
            earlier_only=earlier_only,
        )
    calendar = Calendar.load(
        doctor_ids=[doctor_id],
        location=location,
        start=starts_at,
        end=ends_at,
        buffer=timedelta(minutes=scheduling_settings().buffer_minutes),
        exclude_id=exclude_id,
    )
    return _room_for(calendar, doctor_id, starts_at, ends_at, room)


@transaction.atomic
def book_appointment(
    *,
    patient: Patient,
    doctor,
    kind: str,
    starts_at: datetime,
    by: Actor,
    plan: TreatmentPlan | None = None,
    session_number: int | None = None,
    room: Room | None = None,
    notes: str = "",
) -> Appointment:
    _require_staff(by)
    if role_of(doctor) != Role.DOCTOR:
        raise BookingError(_("Choose one of the clinic's doctors."))
    location = room.location if room else default_location()
    starts_at = clock.utc(starts_at)
    ends_at = starts_at + timedelta(minutes=minutes_for(kind, plan))
    _lock_doctor(doctor.pk)
    for attempt in range(ROOM_ATTEMPTS):
        chosen = _check_booking(
            patient=patient,
            kind=kind,
            plan=plan,
            number=session_number,
            starts_at=starts_at,
            ends_at=ends_at,
            doctor_id=doctor.pk,
            room=room,
            location=location,
        )
        appointment = Appointment(
            patient=patient,
            doctor=doctor,
            location=location,
            room=chosen,
            kind=kind,
            plan=plan if kind == Kind.SESSION else None,
            session_number=session_number if kind == Kind.SESSION else None,
            starts_at=starts_at,
            ends_at=ends_at,
            notes=notes,
            created_by=by.user,
        )
        try:
            # A savepoint: a lost race leaves the surrounding transaction usable.
            with transaction.atomic():
                appointment.save()
            break
        except (IntegrityError, OperationalError) as error:
            # Bookings for different doctors don't wait for each other, so two can pick the
            # same free room; the room constraint stops one of them (or PostgreSQL breaks the
            # deadlock of two inserts checking each other), and that one looks again.
            if not _lost_race(error) or room is not None or attempt == ROOM_ATTEMPTS - 1:
                if _lost_race(error):
                    raise SlotTaken() from error
                raise
    _log(appointment, action=ChangeAction.BOOKED, before={}, by=by)
    reminders.appointments_booked([appointment])
    return appointment
