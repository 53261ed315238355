"""Volume per injection and per session: outside the clinic's usual range a chart is saved only
once the doctor confirms the volumes, and the confirmation stays on the chart."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.treatments.conftest import area, chart_session
from tests.treatments.test_charts import chart_data, post_chart
from treatments import services
from treatments.models import SessionChart
from treatments.selectors import get_clinic_settings


def test_it_refuses_a_volume_per_injection_above_the_range_without_confirmation(
    client, doctor, plan
):
    client.force_login(doctor)
    response = post_chart(client, plan, chart_data(**{"area-R-thigh-anterior-volume_ml": "4"}))
    html = response.content.decode()
    assert response.status_code == 200
    assert not SessionChart.objects.exists()
    assert (
        "Right anterior thigh: 4.00 mL in 8 injections is 0.50 mL per injection, outside the "
        "usual 0.10–0.30 mL."
    ) in html
    assert "I confirm these volumes" in html


def test_it_refuses_a_volume_per_injection_below_the_range_without_confirmation(doctor, plan):
    with pytest.raises(services.VolumesNotConfirmed) as refused:
        chart_session(plan, doctor, areas=[area(volume_ml=Decimal("0.5"), injections=10)])
    assert refused.value.warnings == [
        "Right anterior thigh: 0.50 mL in 10 injections is 0.05 mL per injection, outside the "
        "usual 0.10–0.30 mL."
    ]
    assert not SessionChart.objects.exists()


def test_it_saves_confirmed_volumes_and_records_the_confirmation(client, doctor, plan):
    client.force_login(doctor)
    data = chart_data(**{"area-R-thigh-anterior-volume_ml": "4", "confirm_volumes": "on"})
    assert post_chart(client, plan, data).status_code == 302
    chart = SessionChart.objects.get()
    assert chart.volumes_confirmed
    assert "0.50 mL per injection" in chart.volume_warnings
    page = client.get(reverse("treatments:chart", args=[plan.patient_id, chart.pk]))
    assert "Volumes confirmed by the doctor:" in page.content.decode()


def test_it_refuses_a_session_total_above_the_maximum_without_confirmation(doctor, plan):
    areas = [area(volume_ml=Decimal(6), injections=20), area("L-foot", volume_ml=6, injections=20)]
    with pytest.raises(services.VolumesNotConfirmed) as refused:
        chart_session(plan, doctor, areas=areas)
    assert refused.value.warnings == [
        "Polidocanol (Asclera): 12.00 mL in this session, more than the most of 10.00 mL."
    ]
    assert not SessionChart.objects.exists()


def test_volumes_inside_the_range_need_no_confirmation(client, doctor, plan):
    client.force_login(doctor)
    page = client.get(reverse("treatments:chart_create", args=[plan.patient_id, plan.pk]))
    assert "I confirm these volumes" not in page.content.decode()
    assert post_chart(client, plan, chart_data()).status_code == 302  # 2 mL in 8: 0.25 each
    chart = SessionChart.objects.get()
    assert not chart.volumes_confirmed and chart.volume_warnings == ""


def test_it_follows_the_range_an_administrator_set(doctor, plan):
    clinic = get_clinic_settings()
    clinic.injection_ml_max = Decimal("0.2")
    clinic.save()
    with pytest.raises(services.VolumesNotConfirmed):
        chart_session(plan, doctor, areas=[area()])  # 0.25 mL per injection
