"""Issue 17, point 5: the doctor's home shows their patients today and the charts they have
still to sign, beside the alerts; a fixed number of queries however full the day."""

from datetime import timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import AuditEntry
from scheduling import services
from scheduling.models import Kind
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import chart_session, make_plan


def booked_today(front_desk, doctor, count: int, *, first_hour: int = 9):
    patients = []
    for n in range(count):
        patient = PatientFactory()
        screen(patient, sclerosant_allergy="no", untreated_varicose="no")
        services.book_appointment(
            patient=patient,
            doctor=doctor,
            kind=Kind.CONSULTATION,
            starts_at=at(MONDAY, first_hour + n),
            by=desk_actor(front_desk),
        )
        patients.append(patient)
    return patients


def home(client, doctor) -> str:
    with time_machine.travel(at(MONDAY, 8), tick=False):
        client.force_login(doctor)
        return client.get(reverse("doctor_home")).content.decode()


def test_the_doctors_home_lists_their_patients_today(client, now, hours, front_desk, doctor):
    patients = booked_today(front_desk, doctor, 2)
    html = home(client, doctor)
    assert "Your patients today" in html
    for patient in patients:
        assert patient.full_name in html
    assert "9:00 AM" in html and "10:00 AM" in html
    assert AuditEntry.objects.filter(user=doctor, action="view").exists()


def test_a_day_with_no_one_says_so(client, now, hours, doctor):
    assert "No patients booked with you today." in home(client, doctor)


def test_the_doctors_unsigned_charts_wait_on_their_home(client, now, hours, doctor, other_doctor):
    record = PatientFactory()
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(record, doctor)
    chart = chart_session(plan, doctor, sign=False, treated_on=MONDAY - timedelta(days=3))
    html = home(client, doctor)
    assert reverse("treatments:chart", args=[record.pk, chart.pk]) in html
    assert "Charts to sign" in html and record.full_name in html
    assert "All your charts are signed." in home(client, other_doctor)


def test_the_home_reads_the_same_number_of_queries_for_a_full_day(
    client, now, hours, front_desk, doctor
):
    counts = []
    for extra, first_hour in ((1, 9), (4, 10)):
        booked_today(front_desk, doctor, extra, first_hour=first_hour)
        with time_machine.travel(at(MONDAY, 8), tick=False):
            client.force_login(doctor)
            with CaptureQueriesContext(connection) as queries:
                client.get(reverse("doctor_home"))
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
