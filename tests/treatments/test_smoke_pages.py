"""Every treatments page renders for a doctor with real data (no 500, the key facts shown)."""

from django.urls import reverse

from tests.treatments.conftest import chart_session


def test_it_renders_every_doctor_page(client, doctor, plan):
    chart = chart_session(plan, doctor)
    client.force_login(doctor)
    p = plan.patient_id
    for url in (
        reverse("treatments:patient", args=[p]),
        reverse("treatments:consultation_create", args=[p]),
        reverse("treatments:consultation", args=[p, plan.consultation_id]),
        reverse("treatments:plan_create", args=[p]),
        reverse("treatments:plan", args=[p, plan.pk]),
        reverse("treatments:chart_create", args=[p, plan.pk]),
        reverse("treatments:chart", args=[p, chart.pk]),
        reverse("treatments:chart_amend", args=[p, chart.pk]),
        reverse("treatments:area_amend", args=[p, chart.pk, chart.areas.get().pk]),
        reverse("treatments:event_create", args=[p, plan.pk]),
    ):
        assert client.get(url).status_code == 200, url
