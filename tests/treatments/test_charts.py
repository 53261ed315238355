"""Session charts: areas from the diagram or the list, per-area details, the volume total and
its warning, signing, amendments, completing the plan, and bad input that saves nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import AuditEntry
from tests.factories import PatientFactory, screen
from tests.treatments.conftest import area, as_doctor, chart_session, make_plan
from treatments import services
from treatments.models import ChartAmendment, PlanStatus, SessionChart, TreatedArea


def chart_data(regions=("R-thigh-anterior",), **changes) -> dict:
    data = {
        "treated_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "regions": list(regions),
        "immediate_reactions": "Mild redness",
        "compression": "Support hose for 14 days",
        "notes": "",
        "sign": "on",
    }
    for key in regions:
        data.update(
            {
                f"area-{key}-vessel_type": "spider",
                f"area-{key}-agent": "polidocanol",
                f"area-{key}-concentration": "0.5",
                f"area-{key}-form": "liquid",
                f"area-{key}-volume_ml": "2",
                f"area-{key}-injections": "8",
            }
        )
    data.update(changes)
    return data


def post_chart(client, plan, data):
    return client.post(reverse("treatments:chart_create", args=[plan.patient_id, plan.pk]), data)


def test_it_charts_a_session_with_its_areas(client, doctor, plan):
    client.force_login(doctor)
    response = post_chart(client, plan, chart_data(["R-thigh-anterior", "L-knee-popliteal"]))
    chart = SessionChart.objects.get()
    assert response.status_code == 302
    assert chart.number == 1
    assert chart.is_signed and chart.signed_by == doctor
    assert sorted(chart.areas.values_list("region", flat=True)) == [
        "L-knee-popliteal",
        "R-thigh-anterior",
    ]
    assert AuditEntry.objects.filter(subject=f"chart:{chart.pk}", action="create").exists()


def test_the_form_offers_the_diagram_and_the_same_choice_as_a_list(client, doctor, plan):
    client.force_login(doctor)
    page = client.get(reverse("treatments:chart_create", args=[plan.patient_id, plan.pk]))
    html = page.content.decode()
    assert html.count('role="button" aria-pressed=') == 30
    assert 'tabindex="0" role="button" aria-pressed="false"' in html
    assert html.count('type="checkbox" name="regions"') == 30


def test_it_shows_the_total_volume_and_warns_above_the_agent_maximum(client, doctor, plan):
    client.force_login(doctor)
    data = chart_data(["R-thigh-anterior", "L-calf-medial"])
    data["area-R-thigh-anterior-volume_ml"] = "6"
    data["area-L-calf-medial-volume_ml"] = "5.5"
    data["confirm_volumes"] = "on"  # 11.5 mL is above the maximum: saved once confirmed
    post_chart(client, plan, data)
    chart = SessionChart.objects.get()
    page = client.get(reverse("treatments:chart", args=[plan.patient_id, chart.pk]))
    html = page.content.decode()
    assert "11.50 mL" in html
    assert (
        "Polidocanol (Asclera): 11.50 mL in this session, more than the most of 10.00 mL." in html
    )


def test_it_does_not_warn_at_or_below_the_maximum(client, doctor, plan):
    chart = chart_session(plan, doctor, areas=[area(volume_ml=10, injections=40)])
    client.force_login(doctor)
    html = client.get(reverse("treatments:chart", args=[plan.patient_id, chart.pk])).content
    assert b"more than 10 mL" not in html


def test_a_signed_chart_is_changed_only_by_an_amendment_with_a_reason(client, doctor, plan):
    chart = chart_session(plan, doctor)
    client.force_login(doctor)
    url = reverse("treatments:chart_amend", args=[plan.patient_id, chart.pk])
    response = client.post(url, {"field": "notes", "new_text": "Changed", "reason": ""})
    assert "needs a reason" in response.content.decode()
    chart.refresh_from_db()
    assert chart.notes == "Went well"
    client.post(url, {"field": "notes", "new_text": "Changed", "reason": "Typo"})
    chart.refresh_from_db()
    amendment = ChartAmendment.objects.get()
    assert chart.notes == "Changed"
    assert (amendment.old_text, amendment.new_text, amendment.reason) == (
        "Went well",
        "Changed",
        "Typo",
    )
    assert amendment.by == doctor and amendment.at is not None
    page = client.get(reverse("treatments:chart", args=[plan.patient_id, chart.pk]))
    assert "Went well" in page.content.decode()


def test_an_unsigned_chart_changes_in_place_until_signed(client, doctor, plan):
    chart = chart_session(plan, doctor, sign=False)
    services.change_chart_text(
        chart=chart, field="notes", new_text="More", reason="", by=as_doctor(doctor)
    )
    assert not ChartAmendment.objects.exists()
    client.force_login(doctor)
    client.post(reverse("treatments:chart_sign", args=[plan.patient_id, chart.pk]))
    chart.refresh_from_db()
    assert chart.is_signed
    with pytest.raises(services.TreatmentError, match="reason"):
        services.change_chart_text(
            chart=chart, field="notes", new_text="Again", reason=" ", by=as_doctor(doctor)
        )


def test_charting_the_last_session_completes_the_plan_and_sets_the_touch_up(doctor, record):
    plan = make_plan(record, doctor, sessions=2)
    first = timezone.localdate() - timedelta(weeks=8)
    chart_session(plan, doctor, treated_on=first)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    last = chart_session(plan, doctor, treated_on=first + timedelta(weeks=5))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert plan.touch_up_due == last.treated_on.replace(year=last.treated_on.year + 1)


def test_it_refuses_a_session_beyond_the_plan(doctor, record):
    plan = make_plan(record, doctor, sessions=2)
    chart_session(plan, doctor)
    chart_session(plan, doctor)
    with pytest.raises(services.TreatmentError):
        chart_session(plan, doctor)
    assert SessionChart.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("volume_ml", "-1", "greater than or equal to 0.01"),
        ("volume_ml", "0", "greater than or equal to 0.01"),
        ("volume_ml", "250", "less than or equal to 20"),
        ("volume_ml", "NaN", "Enter a number"),
        ("injections", "0", "greater than or equal to 1"),
        ("concentration", "40", "concentration for this agent"),
    ],
)
def test_bad_area_values_give_a_form_error_and_save_nothing(
    client, doctor, plan, field, value, message
):
    client.force_login(doctor)
    response = post_chart(client, plan, chart_data(**{f"area-R-thigh-anterior-{field}": value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SessionChart.objects.exists() and not TreatedArea.objects.exists()


def test_a_region_that_does_not_exist_is_refused(client, doctor, plan):
    client.force_login(doctor)
    response = post_chart(client, plan, chart_data(regions=["R-thigh-anterior", "X-elbow"]))
    assert "does not exist" in response.content.decode()
    assert not SessionChart.objects.exists()


def test_no_area_is_refused(client, doctor, plan):
    client.force_login(doctor)
    response = post_chart(client, plan, chart_data(regions=[]))
    assert response.status_code == 200
    assert not SessionChart.objects.exists()


def test_foam_is_refused_for_glycerin_and_for_a_known_shunt(client, doctor, plan):
    client.force_login(doctor)
    data = chart_data(**{
        "area-R-thigh-anterior-agent": "glycerin",
        "area-R-thigh-anterior-concentration": "72",
        "area-R-thigh-anterior-form": "foam",
    })  # fmt: skip
    assert "Glycerin is not used as foam" in post_chart(client, plan, data).content.decode()
    screen(plan.patient, rl_shunt="yes")
    data = chart_data(**{"area-R-thigh-anterior-form": "foam"})
    assert "No foam" in post_chart(client, plan, data).content.decode()
    assert not SessionChart.objects.exists()


def test_a_double_posted_chart_saves_one_session(client, doctor, plan):
    client.force_login(doctor)
    data = chart_data(form_token="0b8a2c4e-7f0e-4f8e-8a8e-0e7f5b3a2c11")
    first = post_chart(client, plan, data)
    second = post_chart(client, plan, data)
    assert SessionChart.objects.count() == 1
    assert first.url == second.url


def test_charting_someone_elses_plan_is_not_found(client, doctor, plan):
    other = PatientFactory()
    client.force_login(doctor)
    url = reverse("treatments:chart_create", args=[other.pk, plan.pk])
    assert client.post(url, chart_data()).status_code == 404
    assert not SessionChart.objects.exists()


def test_the_refresh_button_shows_rows_without_saving(client, doctor, plan):
    client.force_login(doctor)
    data = chart_data(["L-foot"])
    data["refresh"] = "1"
    response = post_chart(client, plan, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-area-row="L-foot" hidden' not in html
    assert 'data-area-row="R-foot" hidden' in html
    assert not SessionChart.objects.exists()


def test_another_doctor_changes_an_unsigned_chart_only_as_a_kept_amendment(
    client, doctor, other_doctor, plan
):
    """The treating doctor's draft is theirs: another doctor's change needs a reason and keeps
    the earlier text, who and when, as on a signed chart (it used to change in place)."""
    chart = chart_session(plan, doctor, sign=False)
    before = chart.notes
    with pytest.raises(services.TreatmentError, match="Another doctor treated this session"):
        services.change_chart_text(
            chart=chart, field="notes", new_text="Rewritten", reason=" ", by=as_doctor(other_doctor)
        )
    chart.refresh_from_db()
    assert chart.notes == before and not ChartAmendment.objects.exists()
    amendment = services.change_chart_text(
        chart=chart,
        field="notes",
        new_text="Rewritten",
        reason="Covering for Dr Lee: the patient called",
        by=as_doctor(other_doctor),
    )
    assert (amendment.old_text, amendment.new_text, amendment.by) == (
        before,
        "Rewritten",
        other_doctor,
    )
    client.force_login(other_doctor)
    page = client.get(reverse("treatments:chart_amend", args=[plan.patient_id, chart.pk]))
    assert "has not signed the chart: the earlier text stays beside it" in page.content.decode()
