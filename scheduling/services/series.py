"""A plan's whole series: proposing a time for each remaining session, booking them all."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import Role, role_of
from treatments.models import TreatmentPlan

from .. import change_notices, clock, gate, reminders, rules
from ..models import (
    ACTIVE_STATUSES,
    Appointment,
    ChangeAction,
    DayPart,
    Kind,
    Location,
    Room,
    SchedulingSettings,
    Status,
)
from ..slots import Calendar, free_slots
from .common import (
    ROOM_ATTEMPTS,
    BookingError,
    Refused,
    SlotTaken,
    _lock_doctor,
    _log_many,
    _lost_race,
    _patient_elsewhere,
    _require_staff,
    default_location,
    office_offers,
    scheduling_settings,
    session_days,
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


def plan_office(plan: TreatmentPlan) -> Location:
    """Where the plan's sessions are booked unless the front desk says otherwise: the office
    of its latest booked or done session, while that office is in use; else the first in use."""
    latest = (
        plan.appointments.filter(status__in=(*ACTIVE_STATUSES, Status.COMPLETED))
        .filter(location__active=True)
        .select_related("location")
        .order_by("-starts_at")
        .first()
    )
    if latest is not None:
        return latest.location
    return Location.objects.in_use().first() or default_location()


def propose_series(
    *,
    plan: TreatmentPlan,
    earliest: date | None = None,
    search_days: int = 28,
    location: Location | None = None,
    part: str = DayPart.ANY,
) -> list[Proposal]:
    """A date and time for each remaining session at `location` (plan_office by default),
    each at least the interval after the one before, with the plan's doctor, in the mornings
    or afternoons only if `part` says so; None where no free time was found in the window."""
    location = location or plan_office(plan)
    tz = clock.zone(location.time_zone)
    settings = scheduling_settings()
    interval = timedelta(weeks=plan.interval_weeks)
    after = rules.first_day_after([d for _, d in session_days(plan, tz)], plan.interval_weeks)
    tomorrow = timezone.localdate(timezone.now(), tz) + timedelta(days=1)
    day = max(filter(None, [earliest, tomorrow, after]))
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
            # One is enough, unless the time of day rules some out.
            limit=1 if part == DayPart.ANY else 500,
            patient_id=plan.patient_id,
        )
        slots = [s for s in slots if rules.in_part(part, s.starts_at.astimezone(tz))][:1]
        if not slots:
            proposals.append(Proposal(number, None, plan.doctor, None))
            day += interval
            continue
        slot = slots[0]
        proposals.append(Proposal(number, slot.starts_at, slot.doctor, slot.room))
        day = rules.first_day_after([slot.starts_at.astimezone(tz).date()], plan.interval_weeks)
    return proposals


@transaction.atomic
def book_series(
    *,
    plan: TreatmentPlan,
    starts: dict[int, datetime],
    by: Actor,
    open_anyway: bool = False,
    location: Location | None = None,
) -> list:
    """Book the plan's sessions {number: start}; all of them or, on any problem, none.

    The same rules as book_appointment for each session, checked against one calendar read
    for all of them, and the sessions inserted together: about twenty queries for a series
    of six instead of over a hundred (bench/scheduling.py). `open_anyway`: staff book
    sessions on closed days on purpose (recorded in each one's change log)."""
    _require_staff(by)
    plan = (
        locked(TreatmentPlan.objects, of=("self",))
        .select_related("patient", "doctor")
        .get(pk=plan.pk)
    )
    if not starts:
        raise BookingError(_("Choose at least one session to book."))
    settings = scheduling_settings()
    location = location or plan_office(plan)
    office_offers(location, Kind.SESSION)
    booked, overridden = _book_all(
        plan, starts, by, settings, open_anyway=open_anyway, location=location
    )
    _log_many(booked, action=ChangeAction.BOOKED, by=by, closed_override=overridden)
    reminders.appointments_booked(booked)
    change_notices.series_booked(booked)
    return booked


def _refused(number: int, error: BookingError) -> BookingError:
    return BookingError(
        _("Session %(n)d: %(problem)s Nothing was booked.") % {"n": number, "problem": error}
    )


def _book_all(
    plan: TreatmentPlan,
    starts: dict[int, datetime],
    by: Actor,
    settings: SchedulingSettings,
    *,
    open_anyway: bool,
    location: Location,
) -> tuple[list, frozenset]:
    """The sessions booked at `location`, and the numbers of those on a closed day
    (`open_anyway`)."""
    if role_of(plan.doctor) != Role.DOCTOR:
        first = min(starts, key=starts.get)
        raise _refused(first, BookingError(_("Choose one of the clinic's doctors.")))
    starts = {number: clock.utc(starts_at) for number, starts_at in starts.items()}
    _lock_doctor(plan.doctor_id)
    booked_days = session_days(plan, clock.zone(location.time_zone))
    blockers = gate.session_blockers(plan, starts)
    for attempt in range(1, ROOM_ATTEMPTS + 1):
        appointments, overridden = _checked_sessions(
            plan, starts, location, booked_days, blockers, by, settings, open_anyway=open_anyway
        )
        try:
            with transaction.atomic():  # a savepoint, as in book_appointment
                return Appointment.objects.bulk_create(appointments), overridden
        except (IntegrityError, OperationalError) as error:
            # Another doctor's booking took one of the rooms meanwhile: look again.
            if not _lost_race(error):
                raise
            if _patient_elsewhere(error):
                raise BookingError(
                    _("%(problem)s Nothing was booked.")
                    % {"problem": rules.Refusal(rules.Reason.PATIENT_BUSY)}
                ) from error
            if attempt == ROOM_ATTEMPTS:
                raise BookingError(
                    _("%(problem)s Nothing was booked.") % {"problem": SlotTaken()}
                ) from error


def _checked_sessions(
    plan: TreatmentPlan,
    starts: dict[int, datetime],
    location,
    booked_days: list,
    blockers: dict,
    by: Actor,
    settings: SchedulingSettings,
    *,
    open_anyway: bool,
) -> tuple[list[Appointment], frozenset]:
    """The series' sessions as unsaved appointments, each with its room, judged by the rules
    against one calendar read for all of them, and the numbers of those booked on a closed
    day (`open_anyway`); or _refused for the first that can't be booked."""
    length = timedelta(minutes=plan.session_minutes)
    calendar = Calendar.load_windows(
        doctor_ids=[plan.doctor_id],
        location=location,
        windows=[(starts_at, starts_at + length) for starts_at in starts.values()],
        buffer=timedelta(minutes=settings.buffer_minutes),
        patient_id=plan.patient_id,
    )
    verdicts = rules.series(
        calendar,
        patient=plan.patient,
        plan=plan,
        blockers=blockers,
        booked=booked_days,
        sessions=[(number, at, at + length) for number, at in starts.items()],
        doctor_id=plan.doctor_id,
        now=timezone.now(),
        open_anyway=open_anyway,
    )
    tz = clock.zone(location.time_zone)
    appointments, overridden = [], set()
    for number, problem, room in verdicts:
        if problem is not None:
            raise _refused(number, Refused(problem))
        if rules.clinic_open(calendar, starts[number].astimezone(tz).date()) is not None:
            overridden.add(number)  # let through only because open_anyway
        appointments.append(
            Appointment(
                patient=plan.patient,
                doctor=plan.doctor,
                location=location,
                room=room,
                kind=Kind.SESSION,
                plan=plan,
                session_number=number,
                starts_at=starts[number],
                ends_at=starts[number] + length,
                created_by=by.user,
            )
        )
    return appointments, frozenset(overridden)
