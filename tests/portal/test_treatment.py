"""The patient's treatment pages: their own plans' progress and the aftercare advice, never
another patient's plan nor the chart details, in a bounded number of queries."""

from django.urls import reverse

from tests.factories import PatientFactory
from tests.treatments.conftest import as_doctor, chart_session, make_plan, two_sessions
from treatments import services
from treatments.models import PlanStatus


def patient_with_portal(patient_user, doctor):
    record = PatientFactory(portal_user=patient_user)
    return record, make_plan(record, doctor)


def test_a_patient_sees_their_own_progress_and_aftercare(client, patient, doctor):
    record, plan = patient_with_portal(patient, doctor)
    two_sessions(plan, doctor)
    client.force_login(patient)
    overview = client.get(reverse("portal:treatment")).content.decode()
    assert "2 of 4 done, 2 left" in overview
    assert "Warning signs" in overview
    page = client.get(reverse("portal:plan", args=[plan.pk])).content.decode()
    assert "Left foot" in page and "progress-picture" in page
    assert "polidocanol" not in page.lower()  # chart details stay with the doctors


def test_a_patient_gets_404_for_another_patients_plan(client, patient, doctor):
    patient_with_portal(patient, doctor)
    someone_else = make_plan(PatientFactory(), doctor)
    client.force_login(patient)
    assert client.get(reverse("portal:plan", args=[someone_else.pk])).status_code == 404


def test_the_portal_says_so_when_there_is_no_plan(client, patient):
    PatientFactory(portal_user=patient)
    client.force_login(patient)
    assert "no treatment plan yet" in client.get(reverse("portal:treatment")).content.decode()


def test_the_portal_navigation_offers_my_treatment(client, patient):
    PatientFactory(portal_user=patient)
    client.force_login(patient)
    html = client.get(reverse("portal:treatment")).content.decode()
    assert f'href="{reverse("portal:treatment")}"' in html


def test_a_patient_of_someone_else_gets_404_for_a_charted_plan(client, patient, doctor, plan):
    chart_session(plan, doctor)
    PatientFactory(portal_user=patient)
    client.force_login(patient)
    assert client.get(reverse("portal:plan", args=[plan.pk])).status_code == 404


def test_the_portal_overview_runs_a_bounded_number_of_queries(
    client, patient, doctor, django_assert_max_num_queries
):
    record = PatientFactory(portal_user=patient)
    for number in range(3):
        plan = make_plan(record, doctor)
        chart_session(plan, doctor)
        if number < 2:  # one active plan at a time: the earlier ones were stopped
            services.set_plan_status(
                plan=plan, status=PlanStatus.STOPPED, reason="Changed course", by=as_doctor(doctor)
            )
    client.force_login(patient)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("portal:treatment")).status_code == 200
