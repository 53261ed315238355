"""Touch-up visits after a completed plan: charted under every chart rule, marked as a touch-up,
never counted among the plan's sessions, and refused on a plan that is not completed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from goodskin.roles import Role
from patients.models import AuditEntry
from tests.factories import PatientFactory
from tests.treatments.conftest import area, as_doctor, chart_session, make_plan, two_sessions
from tests.treatments.test_charts import chart_data
from treatments import services
from treatments.models import PlanStatus, SessionChart, TreatmentPlan, Visit
from treatments.selectors import plan_progress


@pytest.fixture
def completed(record, doctor):
    plan = make_plan(record, doctor, sessions=2)
    two_sessions(plan, doctor)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    return plan


def chart_touch_up(plan, doctor, **changes):
    fields = {
        "plan": plan,
        "treated_on": timezone.localdate(),
        "areas": [area("L-foot")],
        "immediate_reactions": "",
        "compression": "Support hose for 14 days",
        "notes": "Touch-up of the foot",
        "sign": True,
        "by": as_doctor(doctor),
        "visit": Visit.TOUCH_UP,
    }
    return services.record_session(**(fields | changes))


def touch_up_url(plan):
    return reverse("treatments:touch_up_create", args=[plan.patient_id, plan.pk])


def test_it_charts_and_signs_a_touch_up_of_a_completed_plan(doctor, completed):
    due, completed_at = completed.touch_up_due, completed.completed_at
    chart = chart_touch_up(completed, doctor)
    assert chart.visit == Visit.TOUCH_UP and chart.is_touch_up
    assert chart.is_signed and chart.signed_by == doctor
    assert list(chart.areas.values_list("region", flat=True)) == ["L-foot"]
    completed.refresh_from_db()
    assert completed.status == PlanStatus.COMPLETED
    assert (completed.touch_up_due, completed.completed_at) == (due, completed_at)
    audit = AuditEntry.objects.get(subject=f"chart:{chart.pk}", action="create")
    assert audit.details["visit"] == Visit.TOUCH_UP


def test_a_touch_up_is_not_counted_among_the_plans_sessions(doctor, completed):
    chart_touch_up(completed, doctor)
    chart_touch_up(completed, doctor)
    progress = plan_progress(completed)
    assert (progress.sessions_done, progress.sessions_left) == (2, 0)
    assert [c.number for c in progress.charts] == [1, 2]
    assert [c.number for c in progress.touch_ups] == [3, 4]
    assert TreatmentPlan.objects.with_chart_count().get(pk=completed.pk).charted == 2


def test_a_touch_up_can_be_saved_unsigned_and_signed_by_the_treating_doctor(doctor, completed):
    chart = chart_touch_up(completed, doctor, sign=False)
    services.sign_chart(chart=chart, by=as_doctor(doctor))
    chart.refresh_from_db()
    assert chart.is_signed and chart.signed_by == doctor


@pytest.mark.parametrize("start", [True, False], ids=["active", "draft"])
def test_a_touch_up_of_a_plan_not_completed_is_refused(record, doctor, start):
    plan = make_plan(record, doctor, start=start)
    with pytest.raises(services.TreatmentError, match="A touch-up follows a completed plan"):
        chart_touch_up(plan, doctor)
    assert not SessionChart.objects.exists()


def test_a_session_of_a_completed_plan_is_refused_and_points_to_the_touch_up(doctor, completed):
    with pytest.raises(services.TreatmentError, match="charted as a touch-up"):
        chart_session(completed, doctor, treated_on=timezone.localdate())
    assert completed.charts.count() == 2


def test_a_touch_up_keeps_the_chart_rules(doctor, completed):
    with pytest.raises(services.TreatmentError, match="concentration"):
        chart_touch_up(completed, doctor, areas=[area("L-foot", concentration=50)])
    with pytest.raises(services.TreatmentError, match="at least one treated area"):
        chart_touch_up(completed, doctor, areas=[])
    with pytest.raises(services.TreatmentError, match="before the plan's previous"):
        chart_touch_up(completed, doctor, treated_on=timezone.localdate() - timedelta(weeks=8))
    with pytest.raises(services.TreatmentError, match="Chart a session or a touch-up"):
        chart_touch_up(completed, doctor, visit="review")
    assert completed.charts.count() == 2


def test_a_doctor_charts_a_touch_up_on_its_page(client, doctor, completed):
    client.force_login(doctor)
    page = client.get(touch_up_url(completed))
    assert "Touch-up visit" in page.content.decode()
    response = client.post(touch_up_url(completed), chart_data(["L-foot"]))
    chart = SessionChart.objects.get(visit=Visit.TOUCH_UP)
    assert response.status_code == 302
    assert response.url == reverse("treatments:chart", args=[completed.patient_id, chart.pk])
    html = client.get(response.url).content.decode()
    assert "Touch-up visit" in html and "The touch-up is charted." in html


def test_the_plan_page_offers_the_touch_up_only_once_the_plan_is_completed(
    client, record, doctor, completed
):
    client.force_login(doctor)
    url = reverse("treatments:plan", args=[record.pk, completed.pk])
    assert touch_up_url(completed) in client.get(url).content.decode()
    active = make_plan(record, doctor)
    html = client.get(reverse("treatments:plan", args=[record.pk, active.pk])).content.decode()
    assert touch_up_url(active) not in html


def test_the_touch_up_page_of_an_active_plan_says_why_and_saves_nothing(client, doctor, plan):
    client.force_login(doctor)
    response = client.post(touch_up_url(plan), chart_data(["L-foot"]))
    assert response.status_code == 200
    assert "A touch-up follows a completed plan" in response.content.decode()
    assert not SessionChart.objects.exists()


@pytest.mark.parametrize(
    "data",
    [{}, {"treated_on": "not a day", "regions": ["nowhere"]}, chart_data(["L-foot"], sign="x")],
    ids=["empty", "garbage", "odd-sign"],
)
def test_bad_input_on_the_touch_up_page_is_a_page_not_a_500(client, doctor, completed, data):
    client.force_login(doctor)
    response = client.post(touch_up_url(completed), data)
    assert response.status_code in (200, 302)
    assert completed.charts.touch_ups().count() == (1 if response.status_code == 302 else 0)


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.PATIENT])
def test_front_desk_and_patients_cannot_chart_a_touch_up(client, users_by_role, completed, role):
    client.force_login(users_by_role[role])
    assert client.get(touch_up_url(completed)).status_code == 403
    assert client.post(touch_up_url(completed), chart_data(["L-foot"])).status_code == 403
    assert not completed.charts.touch_ups().exists()


def test_a_touch_up_of_someone_elses_plan_is_not_found(client, doctor, completed):
    client.force_login(doctor)
    url = reverse("treatments:touch_up_create", args=[PatientFactory().pk, completed.pk])
    assert client.post(url, chart_data(["L-foot"])).status_code == 404
    assert not completed.charts.touch_ups().exists()
