"""A plan's whole series: proposing a time for each remaining session, booking them all."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import Role, role_of
from patients.selectors import screening_summary
from treatments.models import TreatmentPlan

from .. import clock, reminders
from ..models import (
    ACTIVE_STATUSES,
    Appointment,
    ChangeAction,
    Kind,
    Room,
    SchedulingSettings,
    Status,
)
from ..slots import Calendar, free_slots
from .booking import _check_gaps, _check_session, _check_when_and_who, _room_for
from .common import (
    ROOM_ATTEMPTS,
    BookingError,
    SlotTaken,
    _lock_doctor,
    _log_many,
    _lost_race,
    _require_staff,
    _session_days,
    default_location,
    scheduling_settings,
)


@dataclass
class Proposal:
    number: int
    starts_at: datetime | None
    doctor: object
    room: Room | None


def remaining_sessions(plan: TreatmentPlan) -> list[int]:
    """Session numbers neither charted nor booked."""
    charted = set(plan.charts.values_list("number", flat=True))
    booked = set(
        plan.appointments.filter(status__in=(*ACTIVE_STATUSES, Status.COMPLETED)).values_list(
            "session_number", flat=True
        )
    )
    return [n for n in range(1, plan.sessions_planned + 1) if n not in charted | booked]


def _last_session_day(plan: TreatmentPlan, tz) -> date | None:
    days = [c.treated_on for c in plan.charts.all()]
    days += [
        a.starts_at.astimezone(tz).date()
        for a in plan.appointments.filter(status__in=(*ACTIVE_STATUSES, Status.COMPLETED))
    ]
    return max(days, default=None)


def propose_series(
    *, plan: TreatmentPlan, earliest: date | None = None, search_days: int = 28
) -> list[Proposal]:
    """A date and time for each remaining session, each at least the interval after the one
    before, with the plan's doctor; None where no free time was found in the window."""
    location = default_location()
    tz = clock.zone(location.time_zone)
    settings = scheduling_settings()
    interval = timedelta(weeks=plan.interval_weeks)
    last = _last_session_day(plan, tz)
    day = max(
        filter(
            None,
            [
                earliest,
                timezone.localdate(timezone.now(), tz) + timedelta(days=1),
                last + interval if last else None,
            ],
        )
    )
    proposals = []
    for number in remaining_sessions(plan):
        slots = free_slots(
            doctor_ids=[plan.doctor_id],
            location=location,
            first_day=day,
            last_day=day + timedelta(days=search_days),
            minutes=plan.session_minutes,
            step_minutes=settings.slot_step_minutes,
            buffer_minutes=settings.buffer_minutes,
            limit=1,
        )
        if not slots:
            proposals.append(Proposal(number, None, plan.doctor, None))
            day += interval
            continue
        slot = slots[0]
        proposals.append(Proposal(number, slot.starts_at, slot.doctor, slot.room))
        day = slot.starts_at.astimezone(tz).date() + interval
    return proposals


@transaction.atomic
def book_series(*, plan: TreatmentPlan, starts: dict[int, datetime], by: Actor) -> list:
    """Book the plan's sessions {number: start}; all of them or, on any problem, none.

    The same rules as book_appointment for each session, checked against one calendar read
    for all of them, and the sessions inserted together: about twenty queries for a series
    of six instead of over a hundred (bench/scheduling.py)."""
    _require_staff(by)
    plan = (
        locked(TreatmentPlan.objects, of=("self",))
        .select_related("patient", "doctor")
        .get(pk=plan.pk)
    )
    if not starts:
        raise BookingError(_("Choose at least one session to book."))
    with SchedulingSettings.held():
        booked = _book_all(plan, sorted(starts.items(), key=lambda item: item[1]), by)
        _log_many(booked, action=ChangeAction.BOOKED, by=by)
        reminders.appointments_booked(booked)
    return booked


def _refused(number: int, error: BookingError) -> BookingError:
    return BookingError(
        _("Session %(n)d: %(problem)s Nothing was booked.") % {"n": number, "problem": error}
    )


def _book_all(plan: TreatmentPlan, items: list[tuple[int, datetime]], by: Actor) -> list:
    if role_of(plan.doctor) != Role.DOCTOR:
        raise _refused(items[0][0], BookingError(_("Choose one of the clinic's doctors.")))
    location = default_location()
    items = [(number, clock.utc(starts_at)) for number, starts_at in items]
    _lock_doctor(plan.doctor_id)
    booked_days = _session_days(plan, clock.zone(location.time_zone))
    blocked = screening_summary(plan.patient).blocks_plan
    for attempt in range(1, ROOM_ATTEMPTS + 1):
        appointments = _checked_sessions(plan, items, location, booked_days, blocked, by)
        try:
            with transaction.atomic():  # a savepoint, as in book_appointment
                return Appointment.objects.bulk_create(appointments)
        except (IntegrityError, OperationalError) as error:
            # Another doctor's booking took one of the rooms meanwhile: look again.
            if not _lost_race(error):
                raise
            if attempt == ROOM_ATTEMPTS:
                raise BookingError(
                    _("%(problem)s Nothing was booked.") % {"problem": SlotTaken()}
                ) from error


def _checked_sessions(
    plan: TreatmentPlan, items, location, booked_days: list, blocked: bool, by: Actor
) -> list[Appointment]:
    """The series' sessions as unsaved appointments, each with a room, after every rule of
    _check_booking against one calendar read for all of them; or _refused for the first that
    can't be booked."""
    tz = clock.zone(location.time_zone)
    length = timedelta(minutes=plan.session_minutes)
    calendar = Calendar.load_windows(
        doctor_ids=[plan.doctor_id],
        location=location,
        windows=[(starts_at, starts_at + length) for _, starts_at in items],
        buffer=timedelta(minutes=scheduling_settings().buffer_minutes),
    )
    days, appointments, now = list(booked_days), [], timezone.now()
    for number, starts_at in items:
        ends_at, day = starts_at + length, starts_at.astimezone(tz).date()
        try:
            _check_when_and_who(plan.patient, starts_at, now)
            _check_session(patient=plan.patient, plan=plan, number=number, blocked=blocked)
            _check_gaps(plan, number, day, days)
            room = _room_for(calendar, plan.doctor_id, starts_at, ends_at)
        except BookingError as error:
            raise _refused(number, error) from error
        calendar.take(plan.doctor_id, room, starts_at, ends_at)  # later sessions see it
        days.append((number, day))
        appointments.append(
            Appointment(
                patient=plan.patient,
                doctor=plan.doctor,
                location=location,
                room=room,
                kind=Kind.SESSION,
                plan=plan,
                session_number=number,
                starts_at=starts_at,
                ends_at=ends_at,
                created_by=by.user,
            )
        )
    return appointments
