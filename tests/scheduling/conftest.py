"""A clinic calendar to book into: the Oregon office, two rooms, a doctor working 8 to 5 on
weekdays, and the clock frozen on a Monday morning in Oregon."""

from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from goodskin.actors import Actor
from goodskin.roles import Role
from scheduling.clock import instant, zone
from scheduling.models import Location, Room, SchedulingSettings, WorkingHours

MONDAY = date(2026, 11, 30)
TZ = zone("America/Los_Angeles")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return instant(day, time(hour, minute), TZ)


def desk_actor(user) -> Actor:
    return Actor(user=user, role=Role.FRONT_DESK, ip="127.0.0.1")


def work_weekdays(doctor, office, start=time(8), end=time(17)) -> None:
    for weekday in range(5):
        WorkingHours.objects.create(
            doctor=doctor, location=office, weekday=weekday, starts=start, ends=end
        )


def three_sessions(patient, doctor, front_desk) -> list:
    """A plan's three sessions booked 5 weeks apart, the first two days after MONDAY."""
    from scheduling import services
    from tests.treatments.conftest import make_plan

    return services.book_series(
        plan=make_plan(patient, doctor, sessions=3),
        by=desk_actor(front_desk),
        starts={
            1: at(MONDAY + timedelta(days=2), 9),
            2: at(MONDAY + timedelta(weeks=5), 9),
            3: at(MONDAY + timedelta(weeks=10), 9),
        },
    )


@pytest.fixture
def now():
    with time_machine.travel(at(MONDAY, 7), tick=False) as traveller:
        yield traveller


@pytest.fixture
def office(db):
    # Rebuilt here because transactional tests flush what the migration made.
    SchedulingSettings.objects.get_or_create(pk=1)
    location, _ = Location.objects.get_or_create(
        name="Goodskin Dermatology, Oregon office", defaults={"time_zone": TZ.key}
    )
    if location.address:  # the migration's row: the same office whether or not it was flushed
        location.address = ""
        location.save(update_fields=["address"])
    for name in ("Room 1", "Room 2"):
        Room.objects.get_or_create(location=location, name=name)
    return location


@pytest.fixture
def hours(office, doctor):
    work_weekdays(doctor, office)
    return office


@pytest.fixture
def reminders_alone(monkeypatch):
    """For tests that count the reminders and aftercare a dispatcher sends: no message about
    each booking, move and cancellation beside them. Those have their own tests
    (test_change_notices.py, where the reminders are seen going out beside them)."""
    from scheduling import change_notices

    for name in ("booked", "series_booked", "moved", "cancelled"):
        monkeypatch.setattr(change_notices, name, lambda *args, **kwargs: None)


@pytest.fixture
def other_doctor(db):
    from tests.factories import UserFactory

    return UserFactory(username="dr.other", role=Role.DOCTOR, email="dr.other@example.org")


@pytest.fixture
def waking_all_day(settings):
    """Waitlist offers at any hour: the frozen clock reads 7 a.m., before the offers' hours
    (test_waitlist.py has its own test of those)."""
    settings.WAITLIST_OFFER_FROM_HOUR, settings.WAITLIST_OFFER_UNTIL_HOUR = 0, 24
