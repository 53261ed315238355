"""Staff see when a patient will get no aftercare advice by message (no contact detail, no
consent to the channel, no aftercare advice wanted), on the record and on the appointment of a
treatment visit, with a printable aftercare sheet to hand them; only staff open the sheet
(issue 13, point 8)."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from messaging.selectors import reach
from patients.models import AuditEntry
from scheduling import services
from scheduling.models import Kind
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import chart_session, make_plan

NOTHING_AT_ALL = "will get no aftercare messages at all, not even the warning signs"
SIGNS_ONLY = "only one message with the warning signs after each session"


@pytest.fixture
def record(db):
    patient = PatientFactory(
        legal_first_name="Rosa", legal_last_name="Quintana", email="rosa@example.org"
    )
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return patient


@pytest.fixture
def session(hours, front_desk, doctor, record):
    hours.phone = "(503) 555-0100"
    hours.address = "1 Main St, Portland"
    hours.save()
    plan = make_plan(record, doctor, sessions=2)
    plan.hose_days, plan.interval_weeks = 21, 6
    plan.save()
    with time_machine.travel(at(MONDAY, 7), tick=False):
        return services.book_appointment(
            patient=record,
            doctor=doctor,
            starts_at=at(MONDAY, 9),
            by=desk_actor(front_desk),
            kind=Kind.SESSION,
            plan=plan,
            session_number=1,
        )


def change(record, **values):
    type(record).objects.filter(pk=record.pk).update(**values)
    record.refresh_from_db()


def record_page(client, user, record) -> str:
    with time_machine.travel(at(MONDAY, 8), tick=False):
        client.force_login(user)  # at the time of the visit: a session idle since ends
        return client.get(reverse("patients:detail", args=[record.pk])).content.decode()


@pytest.mark.parametrize(
    ("values", "note", "why"),
    [
        ({"email": ""}, NOTHING_AT_ALL, "there is no email address on the record"),
        ({"reminder_channel": "sms", "phone": ""}, NOTHING_AT_ALL, "no mobile number"),
        ({"consent_email": False}, SIGNS_ONLY, "they did not agree to emails"),
        ({"consent_aftercare": False}, SIGNS_ONLY, "they chose not to get aftercare advice"),
    ],
)
def test_the_record_says_when_aftercare_advice_will_not_reach_the_patient(
    client, front_desk, record, session, values, note, why
):
    change(record, **values)
    page = record_page(client, front_desk, record)
    assert note in page and why in page
    assert reverse("scheduling:aftercare_sheet", args=[session.pk]) in page


def test_the_record_says_nothing_when_the_advice_reaches_the_patient(
    client, front_desk, record, session
):
    change(record, consent_reminders=False)  # reminders off: the advice still goes out
    page = record_page(client, front_desk, record)
    assert NOTHING_AT_ALL not in page and SIGNS_ONLY not in page


def test_the_record_says_nothing_of_aftercare_before_a_plan(client, front_desk, record):
    change(record, email="")
    assert NOTHING_AT_ALL not in record_page(client, front_desk, record)


def test_the_appointment_of_a_session_says_so_with_the_sheet(client, doctor, record, session):
    change(record, consent_aftercare=False)
    client.force_login(doctor)
    page = client.get(reverse("scheduling:appointment", args=[session.pk])).content.decode()
    assert "data-no-aftercare" in page and SIGNS_ONLY in page
    assert reverse("scheduling:aftercare_sheet", args=[session.pk]) in page


def test_a_consultation_has_no_aftercare_note(client, front_desk, hours, doctor, record):
    change(record, email="")
    with time_machine.travel(at(MONDAY, 7), tick=False):
        consultation = services.book_appointment(
            patient=record,
            doctor=doctor,
            starts_at=at(MONDAY, 11),
            by=desk_actor(front_desk),
            kind=Kind.CONSULTATION,
        )
    client.force_login(front_desk)
    page = client.get(reverse("scheduling:appointment", args=[consultation.pk])).content.decode()
    assert "data-no-aftercare" not in page
    sheet = client.get(reverse("scheduling:aftercare_sheet", args=[consultation.pk]))
    assert sheet.status_code == 404


def test_the_sheet_gives_the_dates_the_advice_with_the_plans_numbers_and_the_phone(
    client, front_desk, session
):
    client.force_login(front_desk)
    page = client.get(reverse("scheduling:aftercare_sheet", args=[session.pk])).content.decode()
    assert "Rosa Quintana" in page and "Your session: Monday, November 30, 2026" in page
    assert "until Thursday, December 3 (that day included)" in page  # days 0-3
    assert "from Monday, December 21 you can stop" in page  # 21 days, the plan's
    assert "Your next session can be from Monday, January 11" in page  # 6 weeks
    assert "for the next 21 days" in page and "It has been 6 weeks" in page
    assert "Back to exercise" in page and "Friday, December 4" in page
    assert "pain or swelling in the calf" in page
    assert "The clinic's phone: (503) 555-0100" in page
    assert "{" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_a_touch_ups_sheet_has_no_next_session(client, hours, front_desk, doctor, record):
    plan = make_plan(record, doctor, sessions=2)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=60))
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=20))
    with time_machine.travel(at(MONDAY, 7), tick=False):
        touch_up = services.book_appointment(
            patient=record,
            doctor=doctor,
            starts_at=at(MONDAY, 9),
            by=desk_actor(front_desk),
            kind=Kind.TOUCH_UP,
            plan=plan,
        )
    client.force_login(front_desk)
    page = client.get(reverse("scheduling:aftercare_sheet", args=[touch_up.pk])).content.decode()
    assert "Your next session can be" not in page and "Book your next session" not in page
    assert "from Monday, December 14 you can stop" in page


def test_only_staff_open_the_sheet_and_each_read_is_audited(
    client, hours, front_desk, doctor, patient, record, session
):
    url = reverse("scheduling:aftercare_sheet", args=[session.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    assert "/login/" in client.get(url).url
    # A patient gets 404 for their own visit's sheet (it is the staff's) and for another's.
    change(record, portal_user=patient)
    # A name no page says by chance (a random one can be a word the 404 page uses).
    someone = PatientFactory(legal_first_name="Zenobia", legal_last_name="Quillfeather")
    with time_machine.travel(at(MONDAY, 7), tick=False):
        theirs = services.book_appointment(
            patient=someone,
            doctor=doctor,
            starts_at=at(MONDAY, 14),
            by=desk_actor(front_desk),
            kind=Kind.SESSION,
            plan=make_plan(someone, doctor),
            session_number=1,
        )
    client.force_login(patient)
    for visit in (session, theirs):
        response = client.get(reverse("scheduling:aftercare_sheet", args=[visit.pk]))
        assert response.status_code == 404
        assert someone.legal_last_name not in response.content.decode()
    for user in (front_desk, doctor):
        client.force_login(user)
        assert client.get(url).status_code == 200
    reads = AuditEntry.objects.filter(
        patient=record, action="view", subject=f"appointment:{session.pk}"
    )
    assert reads.count() == 2
    assert client.get(reverse("scheduling:aftercare_sheet", args=[999999])).status_code == 404


def test_reach_follows_the_patients_channel(db):
    texter = PatientFactory(reminder_channel="sms", consent_sms=True, email="")
    assert reach(texter, "aftercare").reaches  # no email needed for text messages
    texter.consent_sms = False
    assert (reach(texter, "aftercare").reaches, reach(texter, "aftercare").reachable) == (
        False,
        True,
    )


def test_a_session_s_chart_offers_the_aftercare_sheet_of_its_visit(
    client, doctor, front_desk, session
):
    with time_machine.travel(at(MONDAY, 10), tick=False):
        chart = chart_session(session.plan, doctor, treated_on=MONDAY)
        client.force_login(doctor)
        url = reverse("treatments:chart", args=[session.patient_id, chart.pk])
        page = client.get(url).content.decode()
    assert reverse("scheduling:aftercare_sheet", args=[session.pk]) in page
    assert reverse("scheduling:aftercare_sheet_pdf", args=[session.pk]) in page


def test_a_chart_without_a_booked_visit_that_day_offers_no_sheet(
    client, doctor, front_desk, session
):
    with time_machine.travel(at(MONDAY + timedelta(days=1), 10), tick=False):
        chart = chart_session(session.plan, doctor, treated_on=MONDAY + timedelta(days=1))
        client.force_login(doctor)
        url = reverse("treatments:chart", args=[session.patient_id, chart.pk])
        page = client.get(url).content.decode()
    assert "Aftercare sheet" not in page
