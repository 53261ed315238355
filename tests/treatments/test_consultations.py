"""Consultation: findings and decision per leg; relative contraindications acknowledged;
absolute ones and untreated varicose veins stop a plan unless overridden with a reason."""

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import AuditEntry
from tests.factories import PatientFactory, screen
from tests.treatments.conftest import as_doctor, make_consultation, make_plan
from treatments import services
from treatments.models import Consultation


def form_data(**changes) -> dict:
    return {
        "held_on": timezone.localdate().isoformat(),
        "ceap_right": "C1",
        "ceap_left": "C2",
        "vessels_right": ["spider"],
        "vessels_left": ["reticular", "varicose"],
        "decision": "precautions",
        "notes": "",
        **changes,
    }


def test_it_records_findings_per_leg_and_the_screening_as_reviewed(client, doctor, record):
    screen(record, estrogen="yes")
    client.force_login(doctor)
    response = client.post(
        reverse("treatments:consultation_create", args=[record.pk]),
        form_data(acknowledged=["estrogen"]),
    )
    consultation = Consultation.objects.get()
    assert response.status_code == 302
    assert (consultation.ceap_right, consultation.ceap_left) == ("C1", "C2")
    assert consultation.vessels_left == ["reticular", "varicose"]
    assert consultation.decision == "precautions"
    assert consultation.screening_reviewed["estrogen"] == "yes"
    assert consultation.acknowledged == ["estrogen"]
    assert consultation.doctor == doctor
    assert AuditEntry.objects.filter(subject=f"consultation:{consultation.pk}").exists()


def test_it_wants_each_relative_contraindication_acknowledged(client, doctor, record):
    screen(record, estrogen="yes", migraine="yes")
    client.force_login(doctor)
    response = client.post(
        reverse("treatments:consultation_create", args=[record.pk]),
        form_data(acknowledged=["estrogen"]),
    )
    assert response.status_code == 200
    assert "Tick every relative contraindication" in response.content.decode()
    assert not Consultation.objects.exists()


def test_the_service_also_refuses_an_unacknowledged_relative_one(doctor, record):
    screen(record, pregnancy="yes")
    with pytest.raises(services.TreatmentError, match="Acknowledge"):
        make_consultation(record, doctor)


def test_an_absolute_contraindication_blocks_an_eligible_decision(client, doctor, record):
    screen(record, sclerosant_allergy="yes")
    client.force_login(doctor)
    response = client.post(
        reverse("treatments:consultation_create", args=[record.pk]), form_data(decision="eligible")
    )
    assert response.status_code == 200
    assert "absolute contraindication" in response.content.decode()
    assert not Consultation.objects.exists()


def test_it_lets_an_absolute_contraindication_be_recorded_as_not_eligible(doctor, record):
    screen(record, acute_dvt_pe="yes")
    assert make_consultation(record, doctor, decision="not_eligible").pk


def test_untreated_varicose_veins_block_a_plan_without_override(doctor, record):
    screen(record, untreated_varicose="yes")
    consultation = make_consultation(record, doctor, acknowledged=["untreated_varicose"])
    with pytest.raises(services.TreatmentError, match="varicose"):
        make_plan(record, doctor, consultation=consultation)


def test_an_override_needs_a_written_reason(client, doctor, record):
    screen(record, untreated_varicose="yes")
    client.force_login(doctor)
    response = client.post(
        reverse("treatments:consultation_create", args=[record.pk]),
        form_data(acknowledged=["untreated_varicose"], varicose_override="on"),
    )
    assert "Write why you override" in response.content.decode()
    assert not Consultation.objects.exists()


def test_an_override_with_reason_keeps_who_and_when_and_allows_the_plan(client, doctor, record):
    screen(record, untreated_varicose="yes")
    client.force_login(doctor)
    client.post(
        reverse("treatments:consultation_create", args=[record.pk]),
        form_data(
            acknowledged=["untreated_varicose"],
            varicose_override="on",
            varicose_override_reason="Small reticular feeders only; vascular surgeon agrees.",
        ),
    )
    consultation = Consultation.objects.get()
    assert consultation.varicose_override_by == doctor
    assert consultation.varicose_override_at is not None
    assert consultation.varicose_override_reason.startswith("Small reticular")
    assert make_plan(record, doctor, consultation=consultation).pk
    page = client.get(reverse("treatments:consultation", args=[record.pk, consultation.pk]))
    assert "Small reticular feeders" in page.content.decode()


def test_a_deferred_consultation_does_not_allow_a_plan(doctor, record):
    consultation = make_consultation(record, doctor, decision="deferred")
    with pytest.raises(services.TreatmentError, match="eligible"):
        make_plan(record, doctor, consultation=consultation)


def test_only_a_doctor_may_record_a_consultation(front_desk, record):
    from goodskin.actors import Actor
    from goodskin.roles import Role

    with pytest.raises(services.TreatmentError):
        services.record_consultation(
            patient=record,
            data={"held_on": timezone.localdate(), "ceap_right": "C1", "ceap_left": "C1",
                  "decision": "eligible"},
            acknowledged=[],
            by=Actor(user=front_desk, role=Role.FRONT_DESK),
        )  # fmt: skip


def test_a_consultation_of_another_patient_cannot_start_a_plan(doctor, record):
    other = PatientFactory()
    consultation = make_consultation(other, doctor)
    with pytest.raises(services.TreatmentError, match="another patient"):
        services.create_plan(
            patient=record, consultation=consultation, areas=["L-foot"], sessions=2,
            interval_weeks=4, hose_days=14, start=True, notes="", by=as_doctor(doctor),
        )  # fmt: skip


# --- A complete screening before a decision (issue 13, point 2) -----------------------------


@pytest.fixture
def half_screened(db):
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return patient


def test_it_refuses_eligible_while_a_question_has_no_answer(client, doctor, half_screened):
    client.force_login(doctor)
    url = reverse("treatments:consultation_create", args=[half_screened.pk])
    response = client.post(url, form_data(ceap_left="C1", decision="eligible"))
    assert response.status_code == 200
    assert "screening questions have no answer yet" in response.content.decode()
    assert not Consultation.objects.exists()
    with pytest.raises(services.TreatmentError, match="Answer every screening question"):
        make_consultation(half_screened, doctor, complete=False)
    assert not Consultation.objects.exists()


def test_a_deferral_is_recorded_whatever_is_still_unanswered(doctor, half_screened):
    consultation = make_consultation(half_screened, doctor, complete=False, decision="deferred")
    assert consultation.decision == "deferred"


def test_an_answer_the_patient_did_not_know_is_acknowledged_before_a_plan(client, doctor, record):
    screen(record, thrombophilia="unknown")
    client.force_login(doctor)
    url = reverse("treatments:consultation_create", args=[record.pk])
    response = client.post(url, form_data(ceap_left="C1", decision="eligible"))
    assert response.status_code == 200
    assert "did not know" in response.content.decode()
    assert not Consultation.objects.exists()
    response = client.post(
        url, form_data(ceap_left="C1", decision="eligible", acknowledged=["thrombophilia"])
    )
    assert response.status_code == 302
    assert Consultation.objects.get().acknowledged == ["thrombophilia"]
