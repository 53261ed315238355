"""A realistic week for the two demo doctors: their working hours, the rest of each active
plan booked as a series, consultations for new patients, and this week's earlier visits
(completed, one no-show). Future appointments go through the booking services; visits earlier
this week are written as they would stand by now, since nothing can be booked in the past."""

from datetime import time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from goodskin.actors import Actor
from goodskin.roles import Role
from patients.models import Patient
from treatments.models import PlanStatus, TreatmentPlan

from . import clock, services
from .models import Appointment, Kind, Location, Room, Status, WorkingHours
from .slots import free_slots

# username: (weekdays, from, until)
HOURS = {
    "dr.nguyen": (range(0, 5), time(8), time(16, 30)),
    "dr.patel": (range(1, 6), time(9), time(17)),
}
NEW_PATIENTS = ("patricia.nguyen", "elizabeth.brown", "catherine.anderson")
# Earlier this week: (day offset from Monday, hour, doctor, kind, status)
EARLIER = (
    (0, 9, "dr.nguyen", Kind.REVIEW, Status.COMPLETED),
    (0, 10, "dr.nguyen", Kind.CONSULTATION, Status.COMPLETED),
    (1, 9, "dr.patel", Kind.CONSULTATION, Status.COMPLETED),
    (1, 11, "dr.nguyen", Kind.REVIEW, Status.NO_SHOW),
    (2, 14, "dr.patel", Kind.REVIEW, Status.COMPLETED),
)


def seed(stdout) -> None:
    User = get_user_model()
    doctors = {u.username: u for u in User.objects.filter(username__in=HOURS)}
    desk = User.objects.filter(username="frontdesk").first()
    if len(doctors) < 2 or desk is None or Appointment.objects.exists():
        return
    location = _office()
    for username, (days, starts, ends) in HOURS.items():
        for weekday in days:
            WorkingHours.objects.get_or_create(
                doctor=doctors[username],
                location=location,
                weekday=weekday,
                starts=starts,
                ends=ends,
            )
    by = Actor(user=desk, role=Role.FRONT_DESK)
    booked = _book_series(by) + _book_consultations(doctors, location, by)
    booked += _reviews(doctors, location, by) + _earlier_this_week(doctors, location)
    booked += _checked_in_now(doctors, location)
    stdout.write(f"Demo appointments: {booked} in the calendar.")


def _office() -> Location:
    """The Oregon office that migration 0002 makes; made again if the tables were emptied."""
    location = Location.objects.order_by("pk").first()
    if location is None:
        location = Location.objects.create(
            name="Goodskin Dermatology, Oregon office",
            time_zone="America/Los_Angeles",
            address="Portland, OR",
        )
    if not location.rooms.exists():
        for name in ("Room 1", "Room 2"):
            Room.objects.create(location=location, name=name)
    if not location.phone:
        location.phone = "(503) 555-0100"
        location.address = "1200 SW Main St, Portland, OR 97205"
        location.save(update_fields=["phone", "address"])
    return location


def _book_series(by: Actor) -> int:
    count = 0
    for plan in TreatmentPlan.objects.filter(status=PlanStatus.ACTIVE).select_related("patient"):
        proposals = [p for p in services.propose_series(plan=plan) if p.starts_at]
        if proposals:
            starts = {p.number: p.starts_at for p in proposals}
            count += len(services.book_series(plan=plan, starts=starts, by=by))
    return count


def _book_consultations(doctors, location, by: Actor) -> int:
    settings = services.scheduling_settings()
    tomorrow = timezone.localdate() + timedelta(days=1)
    count = 0
    for offset, prefix in enumerate(NEW_PATIENTS):
        patient = Patient.objects.filter(email__startswith=f"{prefix}@").first()
        doctor = list(doctors.values())[offset % 2]
        if patient is None:
            continue
        slots = free_slots(
            doctor_ids=[doctor.pk],
            location=location,
            first_day=tomorrow + timedelta(days=offset),
            last_day=tomorrow + timedelta(days=offset + 7),
            minutes=settings.consultation_minutes,
            step_minutes=settings.slot_step_minutes,
            buffer_minutes=settings.buffer_minutes,
            limit=3,
        )
        if slots:
            services.book_appointment(
                patient=patient,
                doctor=doctor,
                kind=Kind.CONSULTATION,
                starts_at=slots[-1].starts_at,
                by=by,
            )
            count += 1
    return count


def _reviews(doctors, location, by: Actor) -> int:
    """Follow-up reviews on the coming working days, two a day for each doctor."""
    settings = services.scheduling_settings()
    patients = list(Patient.objects.filter(email__endswith="@demo.goodskin.test"))
    day, count = timezone.localdate() + timedelta(days=1), 0
    for offset in range(7):
        for n, doctor in enumerate(doctors.values()):
            slots = free_slots(
                doctor_ids=[doctor.pk],
                location=location,
                first_day=day + timedelta(days=offset),
                last_day=day + timedelta(days=offset),
                minutes=settings.review_minutes,
                step_minutes=settings.slot_step_minutes,
                buffer_minutes=settings.buffer_minutes,
            )
            for slot in slots[4 + n :: 9][:2]:
                patient = patients[count % len(patients)]
                services.book_appointment(
                    patient=patient,
                    doctor=doctor,
                    kind=Kind.REVIEW,
                    starts_at=slot.starts_at,
                    by=by,
                )
                count += 1
    return count


def _checked_in_now(doctors, location) -> int:
    """A touch-up session in the waiting room right now, so that completing it on the day
    view shows the aftercare messages going out (in the console with `make run`)."""
    plan = (
        TreatmentPlan.objects.filter(status=PlanStatus.COMPLETED)
        .select_related("patient", "doctor")
        .first()
    )
    if plan is None:
        return 0
    tz = clock.zone(location.time_zone)
    now = timezone.now().astimezone(tz)
    starts_at = now.replace(minute=0, second=0, microsecond=0)
    Appointment.objects.create(
        patient=plan.patient,
        doctor=plan.doctor,
        location=location,
        room=location.rooms.order_by("-name").first(),
        kind=Kind.TOUCH_UP,
        plan=plan,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=plan.session_minutes),
        status=Status.CHECKED_IN,
    )
    return 1


def _earlier_this_week(doctors, location) -> int:
    tz = clock.zone(location.time_zone)
    today = timezone.localdate(timezone.now(), tz)
    monday = today - timedelta(days=today.weekday())
    patients = list(Patient.objects.filter(email__endswith="@demo.goodskin.test"))
    rooms = list(location.rooms.filter(active=True))
    count = 0
    for index, (offset, hour, username, kind, status) in enumerate(EARLIER):
        starts_at = clock.instant(monday + timedelta(days=offset), time(hour), tz)
        if starts_at >= timezone.now() - timedelta(hours=1):
            continue
        minutes = 30 if kind == Kind.CONSULTATION else 15
        Appointment.objects.create(
            patient=patients[index % len(patients)],
            doctor=doctors[username],
            location=location,
            room=rooms[index % len(rooms)],
            kind=kind,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            status=status,
        )
        count += 1
    return count
