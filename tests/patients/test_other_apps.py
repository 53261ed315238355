"""Patients sits below the apps that keep rows about a patient: it reads their appointments and
moves their rows in a merge only through the functions they register (patients/upcoming.py,
patients/merging.py), never by their field names."""

from datetime import timedelta

import pytest
from django.db.models import ForeignObjectRel
from django.urls import reverse
from django.utils import timezone

from goodskin.actors import Actor
from goodskin.roles import Role
from messaging.models import Message
from patients import merging, upcoming
from patients.models import AuditEntry, Patient, PortalInvitation, ScreeningChange
from patients.services import merge_patients
from scheduling.models import Appointment, CalendarFeed, Location, Room
from tests.factories import PatientFactory, screen
from tests.treatments.conftest import make_plan

# Rows that stay on the duplicate by design: the trail of what was done to each record, and
# the screening history of the answers given on it (the merge's audit entry links the two).
STAY = {AuditEntry, ScreeningChange}


def test_every_model_that_points_at_a_patient_is_moved_by_some_app_s_merge():
    pointing = {
        relation.related_model
        for relation in Patient._meta.get_fields(include_hidden=True)
        if isinstance(relation, ForeignObjectRel) and relation.related_model is not Patient
    }
    missing = {model._meta.label for model in pointing - STAY - merging.covered_models()}
    assert not missing, f"register a merge function for {sorted(missing)} (patients/merging.py)"


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


def test_the_merge_moves_every_app_s_rows_and_counts_them_in_the_audit(doctor):
    keep = PatientFactory()
    duplicate = PatientFactory()
    screen(keep, sclerosant_allergy="no", untreated_varicose="no")
    screen(duplicate, sclerosant_allergy="no", untreated_varicose="no")
    PortalInvitation.objects.create(
        patient=duplicate, email=duplicate.email, token_hash="x" * 64, expires_at=timezone.now()
    )
    plan = make_plan(duplicate, doctor)
    screen(duplicate, migraine="yes")
    appointment = _appointment(duplicate, doctor, days=3)
    CalendarFeed.objects.create(patient=duplicate, token="t" * 64)
    Message.objects.create(
        key="k:1",
        patient=duplicate,
        kind="touch_up",
        channel="email",
        due_at=timezone.now(),
        give_up_at=timezone.now() + timedelta(days=1),
    )
    merge_patients(
        keep_id=keep.pk,
        duplicate_id=duplicate.pk,
        reason="Typed twice",
        by=Actor(user=doctor, role=Role.DOCTOR),
    )
    moved = {
        # The duplicate's screening was completed at its consultation (22 answers, migraine
        # "yes" among them); the kept record's two answers win.
        "patients.ScreeningAnswer": 20,
        "patients.PortalInvitation": 1,
        "treatments.Consultation": 1,
        "treatments.TreatmentPlan": 1,
        "scheduling.Appointment": 1,
        "messaging.Message": 1,
        "scheduling.CalendarFeed": 1,
    }
    for entry in AuditEntry.objects.filter(action="merge"):
        assert entry.details["moved"] == moved
    plan.refresh_from_db()
    appointment.refresh_from_db()
    assert plan.patient_id == appointment.patient_id == keep.pk
    assert plan.consultation.patient_id == keep.pk
    assert not Message.objects.filter(patient=duplicate).exists()
    assert not CalendarFeed.objects.filter(patient=duplicate).exists()


def test_the_search_shows_no_next_appointment_when_no_app_tells_it(
    client, front_desk, doctor, monkeypatch
):
    patient = PatientFactory(legal_last_name="Okafor")
    _appointment(patient, doctor, days=2)
    monkeypatch.setattr(upcoming, "_sources", [])
    client.force_login(front_desk)
    response = client.get(reverse("patients:list"), {"q": "okafor"})
    assert response.context["rows"] == [(patient, None)]


@pytest.mark.parametrize("status", ["cancelled", "checked_in"])
def test_scheduling_tells_the_search_only_of_booked_appointments_to_come(db, doctor, status):
    patient = PatientFactory()
    _appointment(patient, doctor, days=-1)
    _appointment(patient, doctor, days=2, status=status)
    later = _appointment(patient, doctor, days=9)
    assert upcoming.next_appointments([patient.pk]) == {patient.pk: later.starts_at}
