"""Booking, moving, cancelling and checking in appointments; booking a plan's whole series."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import STAFF_ROLES, Role, role_of
from patients import audit
from patients.models import AuditAction, Patient
from patients.selectors import screening_summary
from treatments.models import PlanStatus, TreatmentPlan

from . import clock, reminders
from .models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentChange,
    CancelledBy,
    Kind,
    Location,
    Room,
    SchedulingSettings,
    Status,
    TimeOff,
)
from .slots import Calendar, free_slots

# How often a booking looks for another room after losing one to a concurrent booking.
ROOM_ATTEMPTS = 3


class BookingError(Exception):
    """A booking that can't be made; the message is for the person who tried."""


class SlotTaken(BookingError):
    def __init__(self):
        super().__init__(_("That time was just taken. Please choose another one."))


def scheduling_settings() -> SchedulingSettings:
    return SchedulingSettings.current()


def default_location() -> Location:
    location = Location.objects.order_by("pk").first()
    if location is None:
        raise BookingError(_("No clinic location is set up yet."))
    return location


def minutes_for(kind: str, plan: TreatmentPlan | None) -> int:
    settings = scheduling_settings()
    if kind == Kind.SESSION:
        if plan is None:
            raise BookingError(_("A sclerotherapy session belongs to a treatment plan."))
        return plan.session_minutes
    return {
        Kind.CONSULTATION: settings.consultation_minutes,
        Kind.TOUCH_UP: settings.touch_up_minutes,
        Kind.REVIEW: settings.review_minutes,
    }[kind]


def _snapshot(appointment: Appointment) -> dict:
    return {
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "doctor": appointment.doctor_id,
        "room": appointment.room_id,
        "status": appointment.status,
    }


def _log(appointment: Appointment, *, action: str, before: dict, by: Actor) -> None:
    user = by.user if getattr(by.user, "is_authenticated", False) else None
    after = _snapshot(appointment)
    AppointmentChange.objects.create(
        appointment=appointment, by=user, action=action, before=before, after=after
    )
    audit.record(
        actor=by,
        patient=appointment.patient,
        action=AuditAction.CHANGE,
        subject=f"appointment:{appointment.pk}",
        details={"action": action},
    )


def _log_many(appointments: list[Appointment], *, action: str, by: Actor) -> None:
    """_log for appointments just made (a series): two INSERTs, whatever their number."""
    user = by.user if getattr(by.user, "is_authenticated", False) else None
    AppointmentChange.objects.bulk_create(
        AppointmentChange(appointment=a, by=user, action=action, before={}, after=_snapshot(a))
        for a in appointments
    )
    audit.record_many(
        actor=by,
        action=AuditAction.CHANGE,
        entries=[(a.patient, f"appointment:{a.pk}", {"action": action}) for a in appointments],
    )


def _lost_race(error: Exception) -> bool:
    """A concurrent booking won: a violated constraint, or a deadlock between two inserts
    that each checked the other's row against the no-overlap constraint."""
    if isinstance(error, IntegrityError):
        return True
    return getattr(error.__cause__, "pgcode", None) == "40P01"


def _lock_doctor(doctor_id: int) -> None:
    # One booking at a time per doctor: the buffer between appointments is checked here, and
    # the exclusion constraint can only guard the appointments themselves.
    locked(get_user_model().objects).filter(pk=doctor_id).first()


def _session_days(plan: TreatmentPlan, tz, exclude_id: int | None = None) -> list[tuple]:
    """(session number, local day) of the plan's booked, done and charted sessions."""
    days = [
        (a.session_number, a.starts_at.astimezone(tz).date())
        for a in plan.appointments.filter(status__in=(*ACTIVE_STATUSES, Status.COMPLETED)).exclude(
            pk=exclude_id
        )
    ]
    return days + [(c.number, c.treated_on) for c in plan.charts.all()]


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


def _require_staff(by: Actor) -> None:
    if by.role not in STAFF_ROLES:
        raise BookingError(_("Only the clinic's staff can do this."))


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
    _log(appointment, action="booked", before={}, by=by)
    reminders.appointments_booked([appointment])
    return appointment


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
        _log_many(booked, action="booked", by=by)
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


def _locked(appointment: Appointment, version: int | None) -> Appointment:
    current = (
        locked(Appointment.objects, of=("self",))
        .select_related("patient", "plan", "location")
        .get(pk=appointment.pk)
    )
    if version is not None and current.version != version:
        raise BookingError(
            _(
                "Someone else changed this appointment meanwhile. "
                "Look at it again before changing it."
            )
        )
    return current


class LaterSessionsTooClose(BookingError):
    """A move brings later sessions of the plan closer than the interval; they can move too."""

    def __init__(self, sessions: list[Appointment]):
        super().__init__(_("The sessions after this one would be too close. Move them too?"))
        self.sessions = sessions


def _move(
    current: Appointment, starts_at: datetime, by: Actor, doctor=None, earlier_only=True
) -> Appointment:
    doctor = doctor or current.doctor
    _lock_doctor(doctor.pk)
    starts_at = clock.utc(starts_at)
    ends_at = starts_at + current.duration
    room = _check_booking(
        patient=current.patient,
        kind=current.kind,
        plan=current.plan,
        number=current.session_number,
        starts_at=starts_at,
        ends_at=ends_at,
        doctor_id=doctor.pk,
        room=None,
        location=current.location,
        exclude_id=current.pk,
        earlier_only=earlier_only,
    )
    before = _snapshot(current)
    current.starts_at, current.ends_at, current.doctor, current.room = (
        starts_at,
        ends_at,
        doctor,
        room,
    )
    current.version += 1
    try:
        with transaction.atomic():
            current.save()
    except (IntegrityError, OperationalError) as error:
        if not _lost_race(error):
            raise
        raise SlotTaken() from error
    _log(current, action="moved", before=before, by=by)
    reminders.appointment_moved(current)
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
) -> list[Appointment]:
    """Move one appointment. If later sessions of its plan end up too close, either refuse
    with LaterSessionsTooClose (nothing changes) or, with shift_later, move each of them to the
    first free time that keeps the interval, all in this transaction. Returns what moved."""
    _require_staff(by)
    current = _locked(appointment, version)
    if current.status != Status.BOOKED:
        raise BookingError(_("Only a booked appointment can be moved."))
    moved = [_move(current, starts_at, by, doctor)]
    too_close = sessions_too_close_after(current)
    if too_close and not shift_later:
        raise LaterSessionsTooClose(too_close)
    settings = scheduling_settings()
    for other in too_close:
        tz = clock.zone(other.location.time_zone)
        earliest = moved[-1].starts_at.astimezone(tz).date() + other.plan.interval
        slots = free_slots(
            doctor_ids=[other.doctor_id],
            location=other.location,
            first_day=earliest,
            last_day=earliest + timedelta(days=28),
            minutes=int(other.duration.total_seconds() // 60),
            step_minutes=settings.slot_step_minutes,
            buffer_minutes=settings.buffer_minutes,
            limit=1,
        )
        if not slots:
            raise BookingError(
                _("No free time found for session %(n)d; nothing was moved.")
                % {"n": other.session_number}
            )
        moved.append(_move(_locked(other, None), slots[0].starts_at, by))
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
    if current.status != Status.BOOKED:
        raise BookingError(_("Only a booked appointment can be cancelled."))
    before = _snapshot(current)
    notice = timedelta(hours=scheduling_settings().late_cancel_hours)
    current.status = Status.CANCELLED
    current.cancelled_by = cancelled_by
    current.cancel_reason = reason.strip()
    current.late_cancel = current.starts_at - timezone.now() < notice
    current.version += 1
    current.save()
    _log(current, action="cancelled", before=before, by=by)
    reminders.appointment_cancelled(current)
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
    before = _snapshot(current)
    current.status = status
    current.version += 1
    current.save(update_fields=["status", "version"])
    _log(current, action=f"status:{status}", before=before, by=by)
    if status == Status.COMPLETED:
        # Hands over to the aftercare messages, in this same transaction.
        reminders.session_completed(current)
    elif status == Status.NO_SHOW:
        reminders.appointment_cancelled(current)
    return current


# --- The patient's own changes, from the portal ------------------------------------------


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


@transaction.atomic
def add_time_off(
    *, doctor, starts_at: datetime, ends_at: datetime, reason: str, by: Actor
) -> tuple[object, int]:
    """Block a doctor's time. A doctor blocks their own; the front desk any doctor's. Returns
    the block and how many booked appointments fall inside it (to move or cancel)."""
    if by.role == Role.DOCTOR and by.user.pk != doctor.pk:
        raise BookingError(_("A doctor can only block their own time."))
    if by.role not in STAFF_ROLES:
        raise BookingError(_("Only the clinic's staff can do this."))
    if not starts_at < ends_at:
        raise BookingError(_("The end must be after the start."))
    _lock_doctor(doctor.pk)
    block = TimeOff.objects.create(
        doctor=doctor,
        starts_at=clock.utc(starts_at),
        ends_at=clock.utc(ends_at),
        reason=reason,
        created_by=by.user,
    )
    clashes = (
        Appointment.objects.filter(status=Status.BOOKED)
        .for_doctor(doctor)
        .overlapping(block.starts_at, block.ends_at)
        .count()
    )
    return block, clashes
