"""Issue 17, point 1: the patient's record shows their appointments (coming and past) and the
sessions of their active plan with the time each is booked, and offers "Book consultation",
"Book the series" and "Book next session", which open the free times (or the series) for this
patient with the kind and doctor already chosen."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scheduling import services
from scheduling.models import Kind
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import make_plan


def record_with_visits(front_desk, doctor, *, sessions_booked=2, hour=10):
    patient = PatientFactory(legal_first_name="Katherine", legal_last_name="Anderson")
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(patient, doctor, sessions=4)
    with time_machine.travel(at(MONDAY - timedelta(days=14), 7), tick=False):
        past = services.book_appointment(
            patient=patient,
            doctor=doctor,
            kind=Kind.CONSULTATION,
            starts_at=at(MONDAY - timedelta(days=14), hour - 1),
            by=desk_actor(front_desk),
        )
    booked = [
        services.book_appointment(
            patient=patient,
            doctor=doctor,
            kind=Kind.SESSION,
            plan=plan,
            session_number=n,
            starts_at=at(MONDAY + timedelta(weeks=4 * (n - 1)), hour),
            by=desk_actor(front_desk),
        )
        for n in range(1, sessions_booked + 1)
    ]
    return patient, plan, past, booked


def page(client, user, patient) -> str:
    client.force_login(user)
    response = client.get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_record_lists_coming_and_past_visits_and_the_plans_sessions(
    client, now, hours, front_desk, doctor
):
    patient, plan, past, booked = record_with_visits(front_desk, doctor)
    html = page(client, front_desk, patient)
    for appointment in (past, *booked):
        assert reverse("scheduling:appointment", args=[appointment.pk]) in html
    assert "Sessions of the active plan" in html
    assert html.count("not booked yet") == 2  # sessions 3 and 4
    assert "Monday, November 30, 2026 · 10:00 AM" in html


def test_the_buttons_open_the_free_times_with_patient_kind_and_doctor_chosen(
    client, now, hours, front_desk, doctor
):
    patient, plan, past, booked = record_with_visits(front_desk, doctor)
    html = page(client, front_desk, patient)
    series = reverse("scheduling:book_series", args=[plan.pk])
    assert "Book the series" in html and series in html
    slots_url = reverse("scheduling:slots")
    next_session = f"{slots_url}?kind=session&amp;patient={patient.pk}&amp;doctor={doctor.pk}"
    assert "Book next session" in html and next_session in html
    slots = client.get(next_session.replace("&amp;", "&"))
    assert slots.status_code == 200
    assert slots.context["patient"] == patient and slots.context["plan"] == plan
    assert slots.context["form"].cleaned_data["doctor"] == doctor
    consultation = f"{reverse('scheduling:slots')}?kind=consultation&amp;patient={patient.pk}"
    assert "Book consultation" in html and consultation in html


def test_a_fully_booked_plan_offers_no_series_and_a_doctor_sees_no_booking_buttons(
    client, now, hours, front_desk, doctor
):
    patient, plan, past, booked = record_with_visits(front_desk, doctor, sessions_booked=4)
    html = page(client, front_desk, patient)
    assert "Book the series" not in html and "not booked yet" not in html
    assert "Book consultation" in html
    html = page(client, doctor, patient)
    assert "Book consultation" not in html and "Appointments" in html


def test_a_cancelled_session_shows_as_not_booked(client, now, hours, front_desk, doctor):
    patient, plan, past, booked = record_with_visits(front_desk, doctor)
    services.cancel_appointment(
        appointment=booked[1], by=desk_actor(front_desk), cancelled_by="patient", reason="Flu"
    )
    html = page(client, front_desk, patient)
    assert html.count("not booked yet") == 3


def test_the_record_reads_the_same_number_of_queries_however_many_visits(
    client, now, hours, front_desk, doctor
):
    few, *_ = record_with_visits(front_desk, doctor, sessions_booked=1)
    many, *_ = record_with_visits(front_desk, doctor, sessions_booked=4, hour=13)
    client.force_login(front_desk)
    counts = []
    for patient in (few, many):
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("patients:detail", args=[patient.pk]))
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_the_plan_page_shows_each_sessions_booked_time(client, now, hours, front_desk, doctor):
    patient, plan, past, booked = record_with_visits(front_desk, doctor)
    url = reverse("treatments:plan", args=[patient.pk, plan.pk])
    for user in (doctor, front_desk):
        client.force_login(user)
        html = client.get(url).content.decode()
        assert "Sessions booked" in html
        for appointment in booked:
            assert reverse("scheduling:appointment", args=[appointment.pk]) in html
        assert html.count(">not booked yet<") == 2
    assert "Book the sessions not booked yet" in html  # the front desk books them


# --- Kept in the cache (scheduling.card_cache): every change shows on the next page ---------


def _rename_doctor(patient, plan, booked, doctor, front_desk):
    doctor.first_name = "Renamed"
    doctor.save(update_fields=["first_name"])
    return lambda html: "Renamed" in html


def _cancel(patient, plan, booked, doctor, front_desk):
    services.cancel_appointment(
        appointment=booked[0], by=desk_actor(front_desk), cancelled_by="clinic", reason="Ill"
    )
    return lambda html: html.count("not booked yet") == 3  # sessions 1, 3 and 4


def _book(patient, plan, booked, doctor, front_desk):
    made = services.book_appointment(
        patient=patient,
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(MONDAY + timedelta(days=1), 9),
        by=desk_actor(front_desk),
    )
    return lambda html: reverse("scheduling:appointment", args=[made.pk]) in html


def _plan_grows(patient, plan, booked, doctor, front_desk):
    type(plan).objects.filter(pk=plan.pk).update(sessions_planned=5)
    return lambda html: html.count("not booked yet") == 3


def _waitlist(patient, plan, booked, doctor, front_desk):
    from scheduling.models import WaitlistEntry

    WaitlistEntry.objects.create(patient=patient, kind=Kind.CONSULTATION, not_before=MONDAY)
    return lambda html: "waiting since" in html


@pytest.mark.parametrize(
    "change", [_rename_doctor, _cancel, _book, _plan_grows, _waitlist], ids=lambda f: f.__name__
)
def test_a_record_kept_in_the_cache_shows_a_change_on_the_next_page(
    change, client, now, hours, front_desk, doctor
):
    patient, plan, past, booked = record_with_visits(front_desk, doctor)
    first = page(client, front_desk, patient)
    assert page(client, front_desk, patient).count("<li") == first.count("<li")
    shown = change(patient, plan, booked, doctor, front_desk)
    assert not shown(first)
    assert shown(page(client, front_desk, patient))


@pytest.mark.django_db(transaction=True)
def test_a_visit_moves_from_coming_to_past_when_it_ends_with_nothing_written(
    client, now, hours, front_desk, doctor
):
    patient, plan, past, booked = record_with_visits(front_desk, doctor)
    link = reverse("scheduling:appointment", args=[booked[0].pk])

    def column(html, title):
        return html.split(f'<h3 class="h6">{title}</h3>', 1)[1].split("</ul>", 1)[0]

    html = page(client, front_desk, patient)
    assert link in column(html, "Coming") and link not in column(html, "Past")
    now.move_to(booked[0].ends_at)  # the very instant it ends: still coming
    html = page(client, front_desk, patient)
    assert link in column(html, "Coming") and link not in column(html, "Past")
    now.move_to(booked[0].ends_at + timedelta(microseconds=1))
    html = page(client, front_desk, patient)
    assert link not in column(html, "Coming") and link in column(html, "Past")


def test_a_record_kept_for_the_front_desk_shows_a_doctor_no_booking_buttons(
    client, now, hours, front_desk, doctor, other_doctor
):
    """other_doctor: a doctor whose own row is not in the panel's fingerprint."""
    patient, *_ = record_with_visits(front_desk, doctor)
    assert "Book consultation" in page(client, front_desk, patient)
    assert "Book consultation" not in page(client, other_doctor, patient)
