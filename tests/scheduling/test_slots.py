from datetime import date, time, timedelta

import pytest
import time_machine

from scheduling import services
from scheduling.clock import LocalTimeError, instant
from scheduling.models import Kind, SchedulingSettings, TimeOff, WorkingHours
from scheduling.slots import free_slots
from tests.factories import PatientFactory
from tests.scheduling.conftest import MONDAY, TZ, at, desk_actor

SPRING_FORWARD = date(2026, 3, 8)  # 02:00 -> 03:00 in Oregon
FALL_BACK = date(2026, 11, 1)  # 02:00 -> 01:00


def slots(doctor, office, first, last=None, minutes=30, step=15, buffer=5):
    return free_slots(
        doctor_ids=[doctor.pk],
        location=office,
        first_day=first,
        last_day=last or first,
        minutes=minutes,
        step_minutes=step,
        buffer_minutes=buffer,
    )


def local_times(found) -> list[str]:
    return [s.starts_at.astimezone(TZ).strftime("%H:%M") for s in found]


def test_it_offers_the_working_day_in_steps(now, hours, doctor):
    found = local_times(slots(doctor, hours, MONDAY))
    assert found[0] == "08:00" and found[-1] == "16:30"
    assert len(found) == 35


def test_it_leaves_out_booked_times_with_their_buffer_and_time_off(now, hours, front_desk, doctor):
    services.book_appointment(
        patient=PatientFactory(),
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(MONDAY, 10),
        by=desk_actor(front_desk),
    )
    TimeOff.objects.create(doctor=doctor, starts_at=at(MONDAY, 13), ends_at=at(MONDAY, 17))
    found = local_times(slots(doctor, hours, MONDAY))
    assert "09:15" in found and "09:30" not in found  # 09:30-10:00 would leave no buffer
    assert "10:00" not in found and "10:30" not in found and "10:45" in found
    assert found[-1] == "12:30"


def test_it_offers_nothing_in_the_past(hours, doctor):
    with time_machine.travel(at(MONDAY, 12, 5), tick=False):
        found = local_times(slots(doctor, hours, MONDAY))
    assert found[0] == "12:15"


def test_it_offers_any_doctor_when_one_is_busy(now, hours, doctor, other_doctor, front_desk):
    from tests.scheduling.conftest import work_weekdays

    work_weekdays(other_doctor, hours)
    services.book_appointment(
        patient=PatientFactory(),
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(MONDAY, 8),
        by=desk_actor(front_desk),
    )
    found = free_slots(
        doctor_ids=[doctor.pk, other_doctor.pk],
        location=hours,
        first_day=MONDAY,
        last_day=MONDAY,
        minutes=30,
        step_minutes=15,
        buffer_minutes=5,
    )
    at_eight = [s.doctor for s in found if s.starts_at == at(MONDAY, 8)]
    assert at_eight == [other_doctor]


@pytest.fixture
def night_shift(office, doctor):
    """Hours across the night the clocks change (a Sunday), to see the DST hour itself."""
    WorkingHours.objects.create(
        doctor=doctor, location=office, weekday=6, starts=time(0), ends=time(4)
    )
    return office


def test_it_skips_the_hour_that_does_not_exist_in_spring(night_shift, doctor):
    with time_machine.travel(instant(date(2026, 3, 1), time(9), TZ)):
        found = slots(doctor, night_shift, SPRING_FORWARD, minutes=15, buffer=0)
    times = local_times(found)
    assert not any(t.startswith("02:") for t in times)
    assert len(times) == 12  # 00:00-04:00 local is three real hours
    assert times[:5] == ["00:00", "00:15", "00:30", "00:45", "01:00"]
    assert times[8] == "03:00"


def test_it_offers_the_repeated_hour_in_autumn_once_per_real_time(night_shift, doctor):
    with time_machine.travel(instant(date(2026, 10, 25), time(9), TZ)):
        found = slots(doctor, night_shift, FALL_BACK, minutes=15, buffer=0)
    assert len(found) == 20  # five real hours
    instants = [s.starts_at for s in found]
    assert all(b - a == timedelta(minutes=15) for a, b in zip(instants, instants[1:], strict=False))


@pytest.mark.parametrize(
    ("day", "at_time", "message"),
    [(SPRING_FORWARD, time(2, 30), "does not exist"), (FALL_BACK, time(1, 30), "happens twice")],
)
def test_it_refuses_a_local_time_that_does_not_exist_or_is_ambiguous(day, at_time, message):
    with pytest.raises(LocalTimeError, match=message):
        instant(day, at_time, TZ)


def test_it_keeps_a_session_length_across_the_dst_change(night_shift, doctor, front_desk):
    SchedulingSettings.objects.update(buffer_minutes=0)
    with time_machine.travel(instant(date(2026, 10, 25), time(9), TZ)):
        appointment = services.book_appointment(
            patient=PatientFactory(),
            doctor=doctor,
            kind=Kind.CONSULTATION,
            starts_at=instant(FALL_BACK, time(0, 45), TZ),
            by=desk_actor(front_desk),
        )
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
    assert appointment.ends_at.astimezone(TZ).strftime("%H:%M %Z") == "01:15 PDT"
