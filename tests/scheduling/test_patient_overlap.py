"""A patient is never in two places (issue 13, point 3): the booking rules refuse a time the
patient spends with another doctor, the free-time search and the patient's move options
don't offer one, and a PostgreSQL exclusion constraint stops two bookings made at once."""

from datetime import timedelta

import pytest
from django.db import connection

from scheduling import rules, services
from scheduling.models import Appointment, Kind, Room, Status
from scheduling.slots import free_slots
from tests.concurrency import contend
from tests.factories import PatientFactory
from tests.scheduling.conftest import MONDAY, at, desk_actor, work_weekdays

WEDNESDAY = MONDAY + timedelta(days=2)


@pytest.fixture
def two_doctors(office, doctor, other_doctor):
    work_weekdays(doctor, office)
    work_weekdays(other_doctor, office)
    return doctor, other_doctor


def book(desk, patient, doctor, starts_at, room=None):
    return services.book_appointment(
        patient=patient,
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=starts_at,
        by=desk_actor(desk),
        room=room,
    )


def test_it_refuses_a_time_the_patient_spends_with_another_doctor(now, two_doctors, front_desk):
    first, second = two_doctors
    patient = PatientFactory()
    book(front_desk, patient, first, at(WEDNESDAY, 10))
    with pytest.raises(services.Refused, match="The patient has another appointment"):
        book(front_desk, patient, second, at(WEDNESDAY, 10, 15))
    assert Appointment.objects.filter(patient=patient).count() == 1
    # Back to back is fine, and so is the time of a cancelled visit.
    book(front_desk, patient, second, at(WEDNESDAY, 10, 30))
    cancelled = book(front_desk, patient, first, at(WEDNESDAY, 14))
    services.cancel_appointment(
        appointment=cancelled, by=desk_actor(front_desk), cancelled_by="clinic", reason="x"
    )
    book(front_desk, patient, second, at(WEDNESDAY, 14))


def test_the_search_and_the_move_options_skip_the_patients_other_appointments(
    now, two_doctors, front_desk, office
):
    first, second = two_doctors
    patient = PatientFactory()
    book(front_desk, patient, first, at(WEDNESDAY, 10))
    starts = {
        slot.starts_at
        for slot in free_slots(
            doctor_ids=[second.pk],
            location=office,
            first_day=WEDNESDAY,
            last_day=WEDNESDAY,
            minutes=30,
            step_minutes=15,
            buffer_minutes=5,
            patient_id=patient.pk,
        )
    }
    assert at(WEDNESDAY, 9, 30) in starts and at(WEDNESDAY, 10, 30) in starts
    assert not {at(WEDNESDAY, 9, 45), at(WEDNESDAY, 10), at(WEDNESDAY, 10, 15)} & starts
    later = book(front_desk, patient, second, at(WEDNESDAY + timedelta(days=7), 9))
    options = services.patient_move_options(later, days=14)
    offered = {slot.starts_at for slot in options}
    assert at(WEDNESDAY, 10) not in offered and at(WEDNESDAY, 10, 15) not in offered


def test_the_rule_is_one_statement_for_booking_and_search():
    busy = rules.Refusal(rules.Reason.PATIENT_BUSY)
    assert str(busy) == "The patient has another appointment at that time."


@pytest.mark.django_db(transaction=True)
def test_two_bookings_of_one_patient_at_once_with_two_doctors_make_one(
    now, office, doctor, other_doctor, front_desk
):
    # The exclusion constraint (migration 0011): each booking locks only its own doctor and
    # takes its own room, so both pass the rules; the second insert waits for the first and
    # is refused.
    work_weekdays(doctor, office)
    work_weekdays(other_doctor, office)
    patient = PatientFactory()
    one, two = Room.objects.filter(location=office).order_by("name")[:2]
    holder, contender, waited = contend(
        lambda: book(front_desk, patient, doctor, at(WEDNESDAY, 10), room=one),
        lambda: book(front_desk, patient, other_doctor, at(WEDNESDAY, 10), room=two),
    )
    assert isinstance(holder, Appointment), holder
    assert isinstance(contender, services.Refused), contender
    assert "another appointment" in str(contender)
    assert waited
    active = Appointment.objects.filter(patient=patient, status=Status.BOOKED)
    assert active.count() == 1


@pytest.mark.django_db
def test_the_database_holds_the_constraint():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conname = 'appointment_no_patient_overlap'"
        )
        assert cursor.fetchone()[0] == 1
