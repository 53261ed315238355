"""Treatment plans: sessions within the clinic's range, suggestion by area, derived length,
status with a stop reason, the screening gate and the blush warning."""

import pytest
from django.urls import reverse

from patients.models import AuditEntry
from tests.factories import screen
from tests.treatments.conftest import as_doctor, make_consultation, make_plan
from treatments import services
from treatments.models import PlanStatus, TreatmentPlan


def plan_data(consultation, **changes) -> dict:
    return {
        "consultation": consultation.pk,
        "areas": ["R-thigh-anterior", "L-thigh-anterior"],
        "sessions": "4",
        "interval_weeks": "4",
        "hose_days": "14",
        "start": "on",
        **changes,
    }


def post_plan(client, patient, data):
    return client.post(reverse("treatments:plan_create", args=[patient.pk]), data)


def test_it_makes_a_plan_from_the_form(client, doctor, record):
    consultation = make_consultation(record, doctor)
    client.force_login(doctor)
    response = post_plan(client, record, plan_data(consultation))
    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302
    assert sorted(plan.areas) == ["L-thigh-anterior", "R-thigh-anterior"]
    assert (plan.sessions_planned, plan.interval_weeks, plan.hose_days) == (4, 4, 14)
    assert plan.status == PlanStatus.ACTIVE
    assert plan.session_minutes == 17
    assert AuditEntry.objects.filter(subject=f"plan:{plan.pk}", action="create").exists()


@pytest.mark.parametrize("sessions", ["1", "7", "0", "-3", "99999999999", "four"])
def test_it_refuses_sessions_outside_two_to_six(client, doctor, record, sessions):
    consultation = make_consultation(record, doctor)
    client.force_login(doctor)
    response = post_plan(client, record, plan_data(consultation, sessions=sessions))
    assert response.status_code == 200
    assert not TreatmentPlan.objects.exists()


def test_the_service_also_refuses_seven_sessions(doctor, record):
    with pytest.raises(services.TreatmentError, match="between 2 and 6"):
        make_plan(record, doctor, sessions=7)


@pytest.mark.parametrize(("count", "suggested"), [(2, 2), (5, 4), (10, 6)])
def test_it_uses_the_suggested_sessions_when_left_empty(client, doctor, record, count, suggested):
    from treatments.regions import REGIONS

    consultation = make_consultation(record, doctor)
    client.force_login(doctor)
    areas = [r.key for r in REGIONS[:count]]
    post_plan(client, record, plan_data(consultation, sessions="", areas=areas))
    assert TreatmentPlan.objects.get().sessions_planned == suggested


def test_the_form_states_the_suggestion(client, doctor, record):
    make_consultation(record, doctor)
    client.force_login(doctor)
    page = client.get(reverse("treatments:plan_create", args=[record.pk])).content.decode()
    assert "Suggested: 2 for up to 3 areas, 4 for an average plan, 6 from 9 areas" in page


def test_it_refuses_an_area_that_does_not_exist(client, doctor, record):
    consultation = make_consultation(record, doctor)
    client.force_login(doctor)
    response = post_plan(client, record, plan_data(consultation, areas=["L-elbow"]))
    assert "does not exist" in response.content.decode()
    assert not TreatmentPlan.objects.exists()


def test_a_plan_cannot_be_made_when_the_screening_blocks_it(client, doctor, record):
    consultation = make_consultation(record, doctor)
    screen(record, infection="yes")  # found after the consultation
    client.force_login(doctor)
    response = post_plan(client, record, plan_data(consultation))
    assert "absolute contraindication" in response.content.decode()
    assert not TreatmentPlan.objects.exists()


def test_estrogen_shows_the_blush_warning_on_the_plan(client, doctor, record):
    screen(record, estrogen="yes")
    plan = make_plan(
        record, doctor, consultation=make_consultation(record, doctor, acknowledged=["estrogen"])
    )
    assert plan.estrogen_warning
    client.force_login(doctor)
    page = client.get(reverse("treatments:plan", args=[record.pk, plan.pk])).content.decode()
    assert 'data-warning="blush"' in page
    assert "“Blush” warning" in page


def test_a_double_posted_plan_form_saves_one_plan(client, doctor, record):
    consultation = make_consultation(record, doctor)
    client.force_login(doctor)
    data = plan_data(consultation, form_token="6f1c1f9e-3b7e-4c3f-9a55-2f7f5d7b4c11")
    first = post_plan(client, record, data)
    second = post_plan(client, record, data)
    assert TreatmentPlan.objects.count() == 1
    assert first.url == second.url


def test_a_draft_plan_starts_and_an_open_plan_stops_with_a_reason(client, doctor, record):
    plan = make_plan(record, doctor, start=False)
    assert plan.status == PlanStatus.DRAFT
    client.force_login(doctor)
    url = reverse("treatments:plan_status", args=[record.pk, plan.pk])
    client.post(url, {"status": "active"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    client.post(url, {"status": "stopped", "reason": ""})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    client.post(url, {"status": "stopped", "reason": "Patient moved to Seattle."})
    plan.refresh_from_db()
    assert (plan.status, plan.stop_reason) == (PlanStatus.STOPPED, "Patient moved to Seattle.")


def test_a_stopped_plan_cannot_restart(doctor, plan):
    services.set_plan_status(plan=plan, status="stopped", reason="No", by=as_doctor(doctor))
    with pytest.raises(services.TreatmentError):
        services.set_plan_status(plan=plan, status="active", by=as_doctor(doctor))


def test_it_refuses_a_second_active_plan_for_a_patient(doctor, record):
    first = make_plan(record, doctor)
    with pytest.raises(
        services.TreatmentError, match=f"already has an active plan \\(#{first.pk}\\)"
    ):
        make_plan(record, doctor)
    assert TreatmentPlan.objects.filter(patient=record).count() == 1


def test_it_refuses_to_start_a_draft_while_another_plan_is_active(doctor, record):
    make_plan(record, doctor)
    draft = make_plan(record, doctor, start=False)
    with pytest.raises(services.TreatmentError, match="already has an active plan"):
        services.set_plan_status(plan=draft, status=PlanStatus.ACTIVE, by=as_doctor(doctor))
    draft.refresh_from_db()
    assert draft.status == PlanStatus.DRAFT


def test_it_starts_a_new_plan_once_the_active_one_is_stopped(doctor, record):
    first = make_plan(record, doctor)
    services.set_plan_status(
        plan=first, status=PlanStatus.STOPPED, reason="Changed course", by=as_doctor(doctor)
    )
    second = make_plan(record, doctor)
    assert second.status == PlanStatus.ACTIVE


def test_it_shows_the_one_active_plan_rule_on_the_plan_form(client, doctor, record):
    make_plan(record, doctor)
    client.force_login(doctor)
    response = post_plan(client, record, plan_data(make_consultation(record, doctor)))
    assert response.status_code == 200
    assert "already has an active plan" in response.content.decode()
    assert TreatmentPlan.objects.filter(patient=record).count() == 1
