"""Correcting a treated area asks for the volume confirmation a new chart asks for: a volume per
injection outside the usual range, or a session maximum passed with the chart's other areas,
is saved only once the doctor confirms it, and the chart then records the warnings (a signed
chart keeps the earlier ones in an amendment)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import AuditEntry
from tests.treatments.conftest import area, as_doctor, chart_session
from tests.treatments.test_area_amendments import form_data, page_text, url_for, values
from treatments import services
from treatments.models import ChartAmendment

PER_INJECTION = (
    "Right anterior thigh: 4.00 mL in 8 injections is 0.50 mL per injection, outside the usual "
    "0.10–0.30 mL."
)


@pytest.fixture
def chart(plan, doctor):
    """Signed, 2 mL in 8 injections (0.25 mL each): no warning."""
    return chart_session(plan, doctor, areas=[area()])


def amend(chart, *, by, confirmed=False, reason="Volume misread", **data):
    return services.amend_treated_area(
        chart=chart,
        area=chart.areas.get(region=data.pop("region", "R-thigh-anterior")),
        data=data,
        reason=reason,
        by=as_doctor(by),
        volumes_confirmed=confirmed,
    )


def test_the_service_refuses_an_unconfirmed_volume_outside_the_range(doctor, chart):
    treated = chart.areas.get()
    unchanged = values(treated)
    with pytest.raises(services.VolumesNotConfirmed) as refused:
        amend(chart, by=doctor, volume_ml=Decimal(4))
    assert refused.value.warnings == [PER_INJECTION]
    assert values(treated) == unchanged
    chart.refresh_from_db()
    assert not chart.volumes_confirmed and chart.volume_warnings == ""
    assert not ChartAmendment.objects.exists()
    assert not AuditEntry.objects.filter(action="change", subject=f"chart:{chart.pk}").exists()


def test_a_confirmed_correction_records_the_warnings_and_keeps_the_earlier_ones(doctor, chart):
    amendments = amend(chart, by=doctor, volume_ml=Decimal(4), confirmed=True)
    chart.refresh_from_db()
    assert chart.volumes_confirmed and chart.volume_warnings == PER_INJECTION
    kept = ChartAmendment.objects.get(field="volume_warnings")
    assert (kept.old_text, kept.new_text, kept.reason, kept.by) == (
        "",
        PER_INJECTION,
        "Volume misread",
        doctor,
    )
    assert kept in amendments
    entry = AuditEntry.objects.get(action="change", subject=f"chart:{chart.pk}")
    assert entry.details["volumes_confirmed"] is True
    assert kept.pk in entry.details["amendments"]


def test_the_other_areas_count_towards_the_session_maximum(doctor, plan):
    chart = chart_session(
        plan,
        doctor,
        areas=[
            area(volume_ml=Decimal(5), injections=20),
            area("L-foot", volume_ml=4, injections=16),
        ],
    )
    with pytest.raises(services.VolumesNotConfirmed) as refused:
        amend(chart, by=doctor, region="L-foot", volume_ml=Decimal(6), injections=24)
    assert refused.value.warnings == [
        "Polidocanol (Asclera): 11.00 mL in this session, more than the most of 10.00 mL."
    ]
    amend(chart, by=doctor, region="L-foot", volume_ml=Decimal(6), injections=24, confirmed=True)
    chart.refresh_from_db()
    assert chart.volume_warnings == refused.value.warnings[0]


def test_warnings_the_chart_already_confirmed_need_no_new_confirmation(doctor, plan):
    chart = services.record_session(
        plan=plan,
        treated_on=timezone.localdate(),
        areas=[area(volume_ml=Decimal(4))],
        immediate_reactions="",
        compression="",
        notes="",
        sign=True,
        by=as_doctor(doctor),
        volumes_confirmed=True,
    )
    amend(chart, by=doctor, vessel_type="reticular", concentration=Decimal(1))
    chart.refresh_from_db()
    assert chart.volumes_confirmed and chart.volume_warnings == PER_INJECTION
    assert not ChartAmendment.objects.filter(field="volume_warnings").exists()
    # A new number is a new warning: confirmed again.
    with pytest.raises(services.VolumesNotConfirmed):
        amend(chart, by=doctor, volume_ml=Decimal("4.5"))


def test_a_correction_back_inside_the_range_clears_the_warnings_and_keeps_them(doctor, plan):
    chart = chart_session(plan, doctor, areas=[area()])
    amend(chart, by=doctor, volume_ml=Decimal(4), confirmed=True)
    amend(chart, by=doctor, volume_ml=Decimal(2), reason="It was 2 mL after all")
    chart.refresh_from_db()
    assert not chart.volumes_confirmed and chart.volume_warnings == ""
    history = ChartAmendment.objects.filter(field="volume_warnings").order_by("id")
    assert [(a.old_text, a.new_text) for a in history] == [
        ("", PER_INJECTION),
        (PER_INJECTION, ""),
    ]


def test_an_unsigned_chart_records_the_warnings_in_place(doctor, plan):
    chart = chart_session(plan, doctor, areas=[area()], sign=False)
    assert amend(chart, by=doctor, volume_ml=Decimal(4), reason="", confirmed=True) == []
    chart.refresh_from_db()
    assert chart.volumes_confirmed and chart.volume_warnings == PER_INJECTION
    assert not ChartAmendment.objects.exists()


def test_the_page_refuses_an_unconfirmed_volume_with_the_warning(client, doctor, chart):
    treated = chart.areas.get()
    unchanged = values(treated)
    client.force_login(doctor)
    assert "I confirm these volumes" not in page_text(client.get(url_for(chart)))
    response = client.post(url_for(chart), form_data(treated, volume_ml="4"))
    assert response.status_code == 200
    text = page_text(response)
    assert "Check the volumes below" in text
    assert PER_INJECTION in text
    assert "I confirm these volumes" in text
    assert values(treated) == unchanged
    assert not ChartAmendment.objects.exists()


def test_the_page_saves_a_confirmed_volume_and_the_chart_shows_it(client, doctor, chart):
    treated = chart.areas.get()
    client.force_login(doctor)
    data = form_data(treated, volume_ml="4", confirm_volumes="on")
    response = client.post(url_for(chart), data)
    assert response.status_code == 302
    assert values(treated)["volume_ml"] == Decimal(4)
    chart.refresh_from_db()
    assert chart.volumes_confirmed and chart.volume_warnings == PER_INJECTION
    page = client.get(reverse("treatments:chart", args=[chart.plan.patient_id, chart.pk]))
    text = page_text(page)
    assert f"Volumes confirmed by the doctor: {PER_INJECTION}" in text
    assert f"Volume warnings confirmed Before: — After: {PER_INJECTION} Why: Volume misread" in text
