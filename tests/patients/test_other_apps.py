"""Patients sits below the apps that keep rows about a patient: it reads their appointments
only through the functions they register (patients/upcoming.py), never by their field names."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients import upcoming
from scheduling.models import Appointment, Location, Room
from tests.factories import PatientFactory


def _appointment(patient, doctor, *, days: int, status: str = "booked") -> Appointment:
    office = Location.objects.create(name=f"Office {days}")
    starts = timezone.now() + timedelta(days=days)
    return Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        location=office,
        room=Room.objects.create(location=office, name="1"),
        kind="review",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=15),
        status=status,
    )


def test_the_search_shows_no_next_appointment_when_no_app_tells_it(
    client, front_desk, doctor, monkeypatch
):
    patient = PatientFactory(legal_last_name="Okafor")
    _appointment(patient, doctor, days=2)
    monkeypatch.setattr(upcoming, "_sources", [])
    client.force_login(front_desk)
    response = client.get(reverse("patients:list"), {"q": "okafor"})
    assert response.context["patients"] == [patient]
    assert response.context["patients"][0].next_appointment_at is None


@pytest.mark.parametrize("status", ["cancelled", "checked_in"])
def test_scheduling_tells_the_search_only_of_booked_appointments_to_come(db, doctor, status):
    patient = PatientFactory()
    _appointment(patient, doctor, days=-1)
    _appointment(patient, doctor, days=2, status=status)
    later = _appointment(patient, doctor, days=9)
    assert upcoming.next_appointments([patient.pk]) == {patient.pk: later.starts_at}
