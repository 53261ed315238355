"""Who may see and write what: doctors write; the front desk sees a plan's summary but no
chart details; a patient sees no staff page (their own plans: tests/portal/); another patient's
ids give 404. Every read and write of clinical data is audited; list pages run a fixed number
of queries."""

import re

import pytest
from django.urls import reverse

from patients.models import AuditEntry
from tests.factories import PatientFactory, screen
from tests.treatments.conftest import as_doctor, chart_session, make_consultation, make_plan
from treatments import services
from treatments.models import (
    AdverseEvent,
    Consultation,
    PlanStatus,
    SessionChart,
    TreatmentPlan,
)


@pytest.fixture
def charted(doctor, record):
    screen(record, estrogen="yes")
    plan = make_plan(
        record, doctor, consultation=make_consultation(record, doctor, acknowledged=["estrogen"])
    )
    chart = chart_session(plan, doctor)
    event = AdverseEvent.objects.create(
        plan=plan, type="bruising", onset_on=chart.treated_on, severity="mild", reported_by=doctor
    )
    return plan, chart, event


def doctor_urls(plan, chart, event, patient_pk=None):
    p = patient_pk or plan.patient_id
    return [
        reverse("treatments:consultation_create", args=[p]),
        reverse("treatments:consultation", args=[p, plan.consultation_id]),
        reverse("treatments:plan_create", args=[p]),
        reverse("treatments:plan_status", args=[p, plan.pk]),
        reverse("treatments:chart_create", args=[p, plan.pk]),
        reverse("treatments:event_create", args=[p, plan.pk]),
        reverse("treatments:chart", args=[p, chart.pk]),
        reverse("treatments:chart_sign", args=[p, chart.pk]),
        reverse("treatments:chart_amend", args=[p, chart.pk]),
        reverse("treatments:area_amend", args=[p, chart.pk, chart.areas.get().pk]),
        reverse("treatments:event", args=[p, event.pk]),
    ]


def test_the_front_desk_sees_the_plan_summary_without_chart_details(client, front_desk, charted):
    plan, chart, _event = charted
    client.force_login(front_desk)
    html = client.get(reverse("treatments:plan", args=[plan.patient_id, plan.pk])).content.decode()
    # The random CSRF token can contain "mL": it is not page text.
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    assert "1 of 4 done, 3 left" in html
    assert "at least 4 weeks" in html
    assert "Next session from" in html
    assert "“Blush” warning" in html
    for clinical in ("Polidocanol", "mL", "Went well", "Mild redness", "Bruising"):
        assert clinical not in html
    listing = client.get(reverse("treatments:patient", args=[plan.patient_id])).content.decode()
    assert "Plan of " in listing and "Bruising" not in listing


def test_the_front_desk_cannot_open_or_write_clinical_pages(client, front_desk, charted):
    client.force_login(front_desk)
    for url in doctor_urls(*charted):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"status": "stopped", "reason": "x"}).status_code == 403, url
    assert Consultation.objects.count() == 1 and TreatmentPlan.objects.count() == 1
    assert SessionChart.objects.get().amendments.count() == 0


def test_a_patient_cannot_open_staff_pages(client, patient, charted):
    client.force_login(patient)
    plan = charted[0]
    for url in [
        *doctor_urls(*charted),
        reverse("treatments:plan", args=[plan.patient_id, plan.pk]),
    ]:
        assert client.get(url).status_code in (403, 404), url


def test_another_patients_ids_give_404(client, doctor, front_desk, charted):
    plan = charted[0]
    other = PatientFactory()
    client.force_login(doctor)
    for url in doctor_urls(*charted, patient_pk=other.pk):
        if "/new/" in url:
            continue  # creation pages name only the patient: nothing of the plan to mix up
        if not url.endswith(("/status/", "/sign/")):  # POST-only pages answer GET with 405
            assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url
    client.force_login(front_desk)
    assert client.get(reverse("treatments:plan", args=[other.pk, plan.pk])).status_code == 404


def test_every_read_of_clinical_data_is_audited(client, doctor, front_desk, charted):
    plan, chart, event = charted
    client.force_login(doctor)
    # The audit log can't be emptied (patients migration 0005): only what follows counts.
    since = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for url in (
        reverse("treatments:plan", args=[plan.patient_id, plan.pk]),
        reverse("treatments:chart", args=[plan.patient_id, chart.pk]),
        reverse("treatments:consultation", args=[plan.patient_id, plan.consultation_id]),
        reverse("treatments:event", args=[plan.patient_id, event.pk]),
    ):
        client.get(url)
    views = AuditEntry.objects.filter(action="view", id__gt=since)
    subjects = set(views.values_list("subject", flat=True))
    assert {
        f"plan:{plan.pk}",
        f"chart:{chart.pk}",
        f"consultation:{plan.consultation_id}",
        f"adverse event:{event.pk}",
    } <= subjects
    client.force_login(front_desk)
    client.get(reverse("treatments:plan", args=[plan.patient_id, plan.pk]))
    assert AuditEntry.objects.filter(user=front_desk, subject=f"plan:{plan.pk}").exists()


def test_every_write_is_audited_with_who_and_role(client, doctor, charted):
    plan, chart, _event = charted
    client.force_login(doctor)
    client.post(
        reverse("treatments:chart_amend", args=[plan.patient_id, chart.pk]),
        {"field": "notes", "new_text": "Better", "reason": "Clarify"},
    )
    entry = AuditEntry.objects.filter(action="change", subject=f"chart:{chart.pk}").get()
    assert (entry.user, entry.role, entry.patient_id) == (doctor, "doctor", plan.patient_id)
    assert "Better" not in str(entry.details)  # clinical text stays out of the audit trail


def test_the_patients_treatment_list_runs_a_fixed_number_of_queries(
    client, doctor, record, django_assert_max_num_queries
):
    for _ in range(5):
        plan = make_plan(record, doctor)
        chart_session(plan, doctor)
        # One active plan at a time: each is stopped before the next starts.
        services.set_plan_status(
            plan=plan, status=PlanStatus.STOPPED, reason="Changed course", by=as_doctor(doctor)
        )
    client.force_login(doctor)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("treatments:patient", args=[record.pk])).status_code == 200


def test_the_doctors_home_runs_a_fixed_number_of_queries(
    client, doctor, django_assert_max_num_queries
):
    for _ in range(5):
        plan = make_plan(p := PatientFactory(), doctor)
        screen(p, sclerosant_allergy="no")
        AdverseEvent.objects.create(
            plan=plan, type="dvt", onset_on=plan.created_at.date(), severity="severe",
            reported_by=doctor,
        )  # fmt: skip
    client.force_login(doctor)
    # One audit insert per patient shown, plus a fixed handful.
    with django_assert_max_num_queries(10 + 5):
        assert client.get(reverse("doctor_home")).status_code == 200
