"""Printouts (issue 18, point 1): the aftercare sheet of a treatment visit and a plan's
treatment summary, each as a page to print and as a PDF, for the staff from the appointment
and the plan, and for the patient from the portal. Only the row's own patient and the clinic's
staff open them (another patient's id and the administrator get 404), each read is audited,
a PDF download as the record's export is, and the queries do not grow with the plan."""

import subprocess
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import AuditEntry
from scheduling import services
from scheduling.models import Kind
from tests.english import english_left
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import area, chart_session, make_plan
from treatments.models import AdverseEvent

PHONE = "(503) 555-0100"


@pytest.fixture
def rosa(now, hours, patient):
    hours.phone = PHONE
    hours.address = "1 Main St, Portland"
    hours.save()
    record = PatientFactory(
        legal_first_name="Rosa", legal_last_name="Quintana", portal_user=patient
    )
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    return record


@pytest.fixture
def plan(rosa, doctor, front_desk):
    """Session 1 charted 30 days ago with a bruise; session 2 booked on Thursday at 10:00."""
    plan = make_plan(rosa, doctor, sessions=4)
    plan.hose_days = 21
    plan.save()
    chart = chart_session(
        plan,
        doctor,
        treated_on=MONDAY - timedelta(days=30),
        areas=[area("R-thigh-anterior"), area("L-calf-medial", volume_ml="1.5")],
    )
    AdverseEvent.objects.create(
        plan=plan,
        chart=chart,
        type="bruising",
        onset_on=chart.treated_on,
        severity="mild",
        reported_by=doctor,
    )
    return plan


@pytest.fixture
def session(plan, doctor, front_desk):
    return services.book_appointment(
        patient=plan.patient,
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=3), 10),
        by=desk_actor(front_desk),
        kind=Kind.SESSION,
        plan=plan,
        session_number=2,
    )


@pytest.fixture
def someone_elses(hours, doctor, front_desk):
    other = PatientFactory(legal_first_name="Zelda", legal_last_name="Otherwise")
    screen(other, sclerosant_allergy="no", untreated_varicose="no")
    theirs = make_plan(other, doctor, sessions=2)
    visit = services.book_appointment(
        patient=other,
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=3), 14),
        by=desk_actor(front_desk),
        kind=Kind.SESSION,
        plan=theirs,
        session_number=1,
    )
    return theirs, visit


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert "Rosa" not in response["Content-Disposition"]
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True, check=True
    )
    return " ".join(done.stdout.decode().split())


def staff_sheet(session, suffix=""):
    return reverse(f"scheduling:aftercare_sheet{suffix}", args=[session.pk])


def own_sheet(session, suffix=""):
    return reverse(f"portal:aftercare_sheet{suffix}", args=[session.pk])


def staff_summary(plan, suffix="", patient_pk=None):
    args = [patient_pk or plan.patient_id, plan.pk]
    return reverse(f"scheduling:plan_summary{suffix}", args=args)


def own_summary(plan, suffix=""):
    return reverse(f"portal:plan_summary{suffix}", args=[plan.pk])


# --- The aftercare sheet ------------------------------------------------------------------


def test_the_sheet_names_the_visit_its_doctor_and_office_with_the_phone(
    client, front_desk, doctor, session
):
    client.force_login(front_desk)
    page = client.get(staff_sheet(session)).content.decode()
    assert "Thursday, December 3, 2026 at 10:00 AM" in page
    assert f"Dr {doctor.get_full_name()}" in page
    assert "Goodskin Dermatology, Oregon office, 1 Main St, Portland" in page
    assert f"phone {PHONE}" in page
    assert staff_sheet(session, "_pdf") in page and "data-print" in page


@pytest.mark.parametrize("role", ["front_desk", "doctor"])
def test_the_staff_download_the_sheet_as_a_pdf_with_the_dates_and_the_phone(
    client, request, session, role, django_assert_max_num_queries
):
    client.force_login(request.getfixturevalue(role))
    with django_assert_max_num_queries(16):
        response = client.get(staff_sheet(session, "_pdf"))
    text = pdf_text(response)
    assert "Rosa Quintana" in text
    assert "Your session: Thursday, December 3, 2026" in text
    assert "from Thursday, December 24 you can stop" in text  # the plan's 21 days
    assert f"The clinic's phone: {PHONE}" in text
    assert "pain or swelling in the calf" in text  # the warning signs
    assert response["Content-Disposition"] == 'inline; filename="aftercare-2026-12-03.pdf"'
    export = AuditEntry.objects.get(action="export", subject=f"aftercare sheet:{session.pk} (pdf)")
    assert export.patient == session.patient and export.role == role


def test_the_patient_opens_their_own_sheet_from_the_appointment_page(
    client, patient, session, django_assert_max_num_queries
):
    client.force_login(patient)
    page = client.get(reverse("portal:appointment", args=[session.pk])).content.decode()
    assert own_sheet(session) in page and own_sheet(session, "_pdf") in page
    with django_assert_max_num_queries(14):
        sheet = client.get(own_sheet(session)).content.decode()
    assert "Your session: Thursday, December 3, 2026" in sheet and PHONE in sheet
    assert reverse("portal:appointment", args=[session.pk]) in sheet
    text = pdf_text(client.get(own_sheet(session, "_pdf")))
    assert "from Thursday, December 24 you can stop" in text and PHONE in text
    assert AuditEntry.objects.filter(
        action="export", subject=f"aftercare sheet:{session.pk} (pdf)", role="patient"
    ).exists()


def test_a_patient_gets_404_for_another_patients_sheet_and_for_a_visit_with_none(
    client, patient, front_desk, session, someone_elses
):
    _theirs, visit = someone_elses
    client.force_login(patient)
    for url in (own_sheet(visit), own_sheet(visit, "_pdf")):
        response = client.get(url)
        assert response.status_code == 404
        assert b"Otherwise" not in response.content
    # The staff's addresses are not the patient's, even for their own visit.
    assert client.get(staff_sheet(session, "_pdf")).status_code == 404
    consultation = services.book_appointment(
        patient=session.patient,
        doctor=session.doctor,
        starts_at=at(MONDAY + timedelta(days=4), 9),
        by=desk_actor(front_desk),
        kind=Kind.CONSULTATION,
    )
    assert client.get(own_sheet(consultation)).status_code == 404  # no aftercare to print
    page = client.get(reverse("portal:appointment", args=[consultation.pk])).content.decode()
    assert "aftercare" not in page
    services.cancel_appointment(
        appointment=session, by=desk_actor(front_desk), cancelled_by="patient", reason="ill"
    )
    assert client.get(own_sheet(session)).status_code == 404
    assert client.get(own_sheet(session, "_pdf")).status_code == 404


def test_the_administrator_and_strangers_get_no_sheet(client, clinic_admin, session):
    for suffix in ("", "_pdf"):
        assert client.get(staff_sheet(session, suffix)).status_code == 302  # to the login page
    client.force_login(clinic_admin)
    for url in (staff_sheet(session), staff_sheet(session, "_pdf")):
        assert client.get(url).status_code == 404
    for url in (own_sheet(session), own_sheet(session, "_pdf")):
        assert client.get(url).status_code in (403, 404)
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_staff_cannot_open_the_patients_own_sheet_addresses(client, front_desk, session):
    client.force_login(front_desk)
    assert client.get(own_sheet(session)).status_code in (403, 404)
    assert client.get(reverse("scheduling:aftercare_sheet_pdf", args=[999999])).status_code == 404


# --- The treatment summary ----------------------------------------------------------------


def test_the_doctors_summary_has_each_session_what_was_treated_and_what_comes_next(
    client, doctor, session, django_assert_max_num_queries
):
    client.force_login(doctor)
    plan_page = client.get(reverse("treatments:plan", args=[session.patient_id, session.plan_id]))
    assert staff_summary(session.plan, "_pdf") in plan_page.content.decode()
    with django_assert_max_num_queries(16):
        page = client.get(staff_summary(session.plan)).content.decode()
    assert "Treatment summary" in page and "Rosa Quintana" in page
    assert "Saturday, October 31, 2026" in page and "Done" in page  # session 1, charted
    assert "Thursday, December 3, 2026 at 10:00 AM" in page and "Booked" in page  # session 2
    assert page.count("Not booked yet") == 2  # sessions 3 and 4
    assert "Right anterior thigh: Polidocanol (Asclera) 0.5 %, Liquid, 2 mL" in page
    assert "1.5 mL" in page
    assert "Bruising" in page and "began Saturday, October 31" in page
    assert "data-coming" in page and f"The clinic's phone: {PHONE}" in page


def test_the_front_desks_summary_leaves_out_what_the_charts_say(client, front_desk, session):
    client.force_login(front_desk)
    plan_page = client.get(reverse("treatments:plan", args=[session.patient_id, session.plan_id]))
    assert staff_summary(session.plan) in plan_page.content.decode()
    page = client.get(staff_summary(session.plan)).content.decode()
    assert "Saturday, October 31, 2026" in page and "Thursday, December 3, 2026" in page
    for clinical in ("Polidocanol", " mL", "Bruising", "What was treated", "Side effects"):
        assert clinical not in page, clinical
    text = pdf_text(client.get(staff_summary(session.plan, "_pdf")))
    assert "Thursday, December 3, 2026" in text and "Polidocanol" not in text


def test_the_summary_pdf_holds_the_sessions_the_areas_and_the_phone(
    client, doctor, session, django_assert_max_num_queries
):
    client.force_login(doctor)
    with django_assert_max_num_queries(16):
        response = client.get(staff_summary(session.plan, "_pdf"))
    text = pdf_text(response)
    assert "Rosa Quintana" in text
    assert "Saturday, October 31, 2026" in text and "Thursday, December 3, 2026" in text
    assert "Polidocanol" in text and "Bruising" in text and PHONE in text
    assert response["Content-Disposition"].startswith('inline; filename="treatment-summary-')
    assert AuditEntry.objects.filter(
        action="export", subject=f"treatment summary:{session.plan_id} (pdf)", role="doctor"
    ).exists()


def test_the_summary_costs_the_same_queries_however_many_sessions(
    client, doctor, front_desk, session
):
    client.force_login(doctor)
    url = staff_summary(session.plan)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    chart_session(
        session.plan,
        doctor,
        treated_on=MONDAY - timedelta(days=2),
        areas=[area("L-foot"), area("R-foot"), area("L-knee-medial")],
    )
    services.book_appointment(
        patient=session.patient,
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=31), 10),
        by=desk_actor(front_desk),
        kind=Kind.SESSION,
        plan=session.plan,
        session_number=4,
    )
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_the_patient_prints_their_own_plans_summary_from_the_portal(
    client, patient, session, django_assert_max_num_queries
):
    client.force_login(patient)
    plan_page = client.get(reverse("portal:plan", args=[session.plan_id])).content.decode()
    assert own_summary(session.plan) in plan_page and own_summary(session.plan, "_pdf") in plan_page
    with django_assert_max_num_queries(14):
        page = client.get(own_summary(session.plan)).content.decode()
    assert "Polidocanol" in page and "Thursday, December 3, 2026" in page
    assert reverse("portal:plan", args=[session.plan_id]) in page
    assert "/patients/" not in page  # no staff address
    text = pdf_text(client.get(own_summary(session.plan, "_pdf")))
    assert "Saturday, October 31, 2026" in text and "Bruising" in text
    assert AuditEntry.objects.filter(
        action="export", subject=f"treatment summary:{session.plan_id} (pdf)", role="patient"
    ).exists()


def test_another_patients_plan_gives_404_to_the_patient_and_the_administrator(
    client, patient, clinic_admin, doctor, session, someone_elses
):
    theirs, _visit = someone_elses
    client.force_login(patient)
    for url in (own_summary(theirs), own_summary(theirs, "_pdf")):
        response = client.get(url)
        assert response.status_code == 404 and b"Otherwise" not in response.content
    for url in (staff_summary(session.plan), staff_summary(session.plan, "_pdf")):
        assert client.get(url).status_code in (403, 404)
    client.force_login(clinic_admin)
    for url in (
        staff_summary(session.plan),
        staff_summary(session.plan, "_pdf"),
        own_summary(session.plan),
    ):
        assert client.get(url).status_code in (403, 404)
    # A plan asked for under another patient's record is not found.
    client.force_login(doctor)
    wrong = staff_summary(session.plan, patient_pk=theirs.patient_id)
    assert client.get(wrong).status_code == 404
    assert not AuditEntry.objects.filter(action="export").exists()


# --- In the patient's language ------------------------------------------------------------


def test_the_patients_copies_are_in_spanish_with_no_english_left(client, patient, rosa, session):
    type(rosa).objects.filter(pk=rosa.pk).update(language="es")
    client.force_login(patient)
    sheet = pdf_text(client.get(own_sheet(session, "_pdf")))
    assert "Su sesión: jueves, 3 de diciembre de 2026" in sheet and PHONE in sheet
    assert not english_left(sheet), english_left(sheet)
    summary = pdf_text(client.get(own_summary(session.plan, "_pdf")))
    assert "3 de diciembre de 2026" in summary and "Polidocanol" in summary
    assert not english_left(summary), english_left(summary)


def test_the_staffs_sheet_pdf_is_in_the_patients_language(client, front_desk, rosa, session):
    type(rosa).objects.filter(pk=rosa.pk).update(language="es")
    client.force_login(front_desk)
    sheet = pdf_text(client.get(staff_sheet(session, "_pdf")))
    assert "Su sesión: jueves, 3 de diciembre de 2026" in sheet
    assert not english_left(sheet), english_left(sheet)
