"""Booking one appointment."""

from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.roles import Role, role_of
from patients.models import Patient
from treatments.models import TreatmentPlan

from .. import change_notices, clock, reminders, rules, screening_request
from ..models import Appointment, ChangeAction, Kind, Location, Room, SchedulingSettings
from ..slots import Calendar
from .common import (
    ROOM_ATTEMPTS,
    BookingError,
    _lock_doctor,
    _log,
    _lost_race,
    _patient_elsewhere,
    _raise_taken,
    _require_staff,
    _room_or_refuse,
    _session,
    default_location,
    minutes_for,
    office_offers,
    scheduling_settings,
)


def _checked_room(
    *,
    patient: Patient,
    doctor_id: int,
    starts_at: datetime,
    ends_at: datetime,
    location: Location,
    settings: SchedulingSettings,
    session: rules.Session | None,
    room: Room | None = None,
    exclude_id: int | None = None,
    open_anyway: bool = False,
) -> tuple[Room, bool]:
    """The doctor's calendar around the time, read now (under the doctor's lock), the room
    the rules give and whether the day is closed and booked `open_anyway`; or Refused.
    `exclude_id`: the appointment being moved."""
    calendar = Calendar.load(
        doctor_ids=[doctor_id],
        location=location,
        start=starts_at,
        end=ends_at,
        buffer=timedelta(minutes=settings.buffer_minutes),
        exclude_id=exclude_id,
        patient_id=patient.pk,
    )
    return _room_or_refuse(
        calendar,
        patient=patient,
        doctor_id=doctor_id,
        starts_at=starts_at,
        ends_at=ends_at,
        session=session,
        room=room,
        open_anyway=open_anyway,
    )


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
    location: Location | None = None,
    notes: str = "",
    open_anyway: bool = False,
) -> Appointment:
    """Book one appointment at `location` (the room's office when a room is named; the first
    office when neither is). `open_anyway`: staff book on a day the clinic is closed, on
    purpose (recorded in the change log)."""
    _require_staff(by)
    return _book(
        patient=patient,
        doctor=doctor,
        kind=kind,
        starts_at=starts_at,
        by=by,
        plan=plan,
        session_number=session_number,
        room=room,
        location=location,
        notes=notes,
        open_anyway=open_anyway,
    )


def _book(
    *,
    patient: Patient,
    doctor,
    kind: str,
    starts_at: datetime,
    by: Actor,
    plan: TreatmentPlan | None = None,
    session_number: int | None = None,
    room: Room | None = None,
    location: Location | None = None,
    notes: str = "",
    open_anyway: bool = False,
) -> Appointment:
    """book_appointment once the caller may book (staff, or the portal's patient_book_session
    for the patient's own next session), inside the caller's transaction."""
    if role_of(doctor) != Role.DOCTOR:
        raise BookingError(_("Choose one of the clinic's doctors."))
    settings = scheduling_settings()
    location = room.location if room else location or default_location()
    office_offers(location, kind)
    starts_at = clock.utc(starts_at)
    ends_at = starts_at + timedelta(minutes=minutes_for(kind, plan, settings=settings))
    _lock_doctor(doctor.pk)
    session = None
    if kind == Kind.SESSION:
        tz = clock.zone(location.time_zone)
        session = _session(plan, session_number, patient=patient, tz=tz)
    for attempt in range(ROOM_ATTEMPTS):
        chosen, overridden = _checked_room(
            patient=patient,
            doctor_id=doctor.pk,
            starts_at=starts_at,
            ends_at=ends_at,
            location=location,
            settings=settings,
            session=session,
            room=room,
            open_anyway=open_anyway,
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
            if _lost_race(error) and _patient_elsewhere(error):
                _raise_taken(error)
            if not _lost_race(error) or room is not None or attempt == ROOM_ATTEMPTS - 1:
                if _lost_race(error):
                    _raise_taken(error)
                raise
    _log(appointment, action=ChangeAction.BOOKED, before={}, by=by, closed_override=overridden)
    reminders.appointments_booked([appointment])
    change_notices.booked(appointment)
    screening_request.queue([appointment])
    return appointment
