"""No double booking under concurrent use: real threads, each with its own PostgreSQL
connection, all asking for the same slot at once."""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from patients.models import Patient
from scheduling import rules, services
from scheduling.models import Appointment, Kind, Room
from tests.factories import PatientFactory, UserFactory
from tests.scheduling.conftest import MONDAY, at, desk_actor, work_weekdays

THREADS = 20


def race(targets) -> list:
    """Run each target in its own thread, released together; return what each returned."""
    barrier = threading.Barrier(len(targets))
    results = [None] * len(targets)

    def run(index, target):
        try:
            barrier.wait()
            results[index] = target()
        except Exception as error:  # noqa: BLE001 - the test inspects every outcome
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def overlapping_pairs() -> int:
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FROM scheduling_appointment a JOIN scheduling_appointment b
              ON a.id < b.id AND a.status <> 'cancelled' AND b.status <> 'cancelled'
             AND (a.doctor_id = b.doctor_id OR a.room_id = b.room_id)
             AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')
        """)
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_it_books_one_slot_once_under_twenty_concurrent_requests(now, office, front_desk):
    doctor = UserFactory(username="dr.race", role="doctor")
    work_weekdays(doctor, office)
    patients = [PatientFactory() for _ in range(THREADS)]

    def booking(patient: Patient):
        return lambda: services.book_appointment(
            patient=patient,
            doctor=doctor,
            kind=Kind.CONSULTATION,
            starts_at=at(MONDAY, 10),
            by=desk_actor(front_desk),
        )

    results = race([booking(p) for p in patients])
    booked = [r for r in results if isinstance(r, Appointment)]
    # Each waits for the doctor's lock, then the rules see the winner's appointment.
    refused = [
        r
        for r in results
        if isinstance(r, services.Refused) and r.refusal.reason == rules.Reason.BUSY
    ]
    assert len(booked) == 1
    assert len(refused) == THREADS - 1, results
    assert Appointment.objects.count() == 1
    assert overlapping_pairs() == 0


@pytest.mark.django_db(transaction=True)
def test_it_turns_a_lost_room_race_into_the_same_clean_message(now, office, front_desk):
    # Different doctors don't wait for each other, so only the room constraint stops them.
    Room.objects.exclude(name="Room 1").update(active=False)
    doctors = [UserFactory(username=f"dr.r{n}", role="doctor") for n in range(THREADS)]
    for doctor in doctors:
        work_weekdays(doctor, office)

    def booking(doctor):
        return lambda: services.book_appointment(
            patient=PatientFactory(),
            doctor=doctor,
            kind=Kind.CONSULTATION,
            starts_at=at(MONDAY, 11),
            by=desk_actor(front_desk),
        )

    results = race([booking(d) for d in doctors])
    assert sum(isinstance(r, Appointment) for r in results) == 1
    assert all(isinstance(r, Appointment | services.BookingError) for r in results), results
    assert overlapping_pairs() == 0


def test_it_has_the_database_refuse_an_overlap_the_service_did_not_see(now, hours, doctor):
    room1, room2 = Room.objects.filter(location=hours)[:2]
    fields = {
        "doctor": doctor,
        "location": hours,
        "kind": Kind.CONSULTATION,
        "starts_at": at(MONDAY, 9),
        "ends_at": at(MONDAY, 9, 30),
    }
    Appointment.objects.create(patient=PatientFactory(), room=room1, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            patient=PatientFactory(),
            room=room2,
            **{**fields, "starts_at": at(MONDAY, 9, 15), "ends_at": at(MONDAY, 9, 45)},
        )
    # Back to back is fine, and so is the same time once the first is cancelled.
    Appointment.objects.create(
        patient=PatientFactory(),
        room=room2,
        **{**fields, "starts_at": at(MONDAY, 9, 30), "ends_at": at(MONDAY, 10)},
    )
    Appointment.objects.filter(starts_at=at(MONDAY, 9)).update(status="cancelled")
    Appointment.objects.create(patient=PatientFactory(), room=room1, **fields)
    assert overlapping_pairs() == 0


@pytest.mark.django_db(transaction=True)
def test_it_finds_another_free_room_when_a_concurrent_booking_took_the_first(
    now, office, front_desk
):
    # Two rooms, two doctors, the same time: both pick Room 1 first; the loser looks again.
    doctors = [UserFactory(username=f"dr.pair{n}", role="doctor") for n in range(2)]
    for doctor in doctors:
        work_weekdays(doctor, office)

    def booking(doctor):
        return lambda: services.book_appointment(
            patient=PatientFactory(),
            doctor=doctor,
            kind=Kind.CONSULTATION,
            starts_at=at(MONDAY, 15),
            by=desk_actor(front_desk),
        )

    results = race([booking(d) for d in doctors])
    assert all(isinstance(r, Appointment) for r in results), results
    assert {r.room.name for r in results} == {"Room 1", "Room 2"}
    assert overlapping_pairs() == 0
