"""The patient chooses per kind of message (issue 13, point 8): appointment reminders and
aftercare advice, besides the channel. An unsubscribe link stops only the kind it came with,
never the warning signs: a patient who wants no aftercare advice (or declined the channel)
still gets, in place of the first message after each session, one with the warning signs.

These tests commit (transaction=True) and go the whole way: the link is taken from an email
the real sending code rendered and sent, posted as a mail program's one-click request (with
CSRF checks on), and what the sender then sends or withholds is read back from the outbox."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from messaging import outbox as writing
from messaging import sending
from messaging.models import MessageStatus
from scheduling import reminders, services
from scheduling.models import Kind, Status
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import make_plan
from treatments.models import AftercareStep

# These tests count the reminders and aftercare a dispatcher sends (see reminders_alone).
pytestmark = pytest.mark.usefixtures("reminders_alone")

committing = pytest.mark.django_db(transaction=True)
WARNING = "pain or swelling in the calf"
SAFETY_SUBJECT = "Warning signs to watch for after your session"


@pytest.fixture(autouse=True)
def no_check_ins(settings):
    """These count the reminders and the aftercare advice one by one; the safety check-in,
    which also goes out whatever the patient chose, has its own tests (portal/test_check_in)."""
    settings.SAFETY_CHECK_IN_DAYS = []


@pytest.fixture
def programme(db):
    """The aftercare programme as the migrations leave it: a committing test starts with the
    tables a previous one emptied."""
    from importlib import import_module

    AftercareStep.objects.all().delete()
    import_module("treatments.migrations.0002_aftercare_programme").seed(apps, None)
    import_module("treatments.migrations.0012_aftercare_placeholders").rewrite(apps, None)


@pytest.fixture
def record(db):
    patient = PatientFactory(email="rosa@example.org", consent_email=True)
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return patient


def book(front_desk, record, doctor, starts_at, plan, number, *, booked_at):
    with time_machine.travel(booked_at, tick=False):
        return services.book_appointment(
            patient=record,
            doctor=doctor,
            starts_at=starts_at,
            by=desk_actor(front_desk),
            kind=Kind.SESSION,
            plan=plan,
            session_number=number,
        )


def complete(appointment, front_desk, at_instant):
    with time_machine.travel(at_instant, tick=False):
        for status in (Status.CHECKED_IN, Status.COMPLETED):
            services.set_status(appointment=appointment, status=status, by=desk_actor(front_desk))


def send_at(instant) -> list:
    """The dispatcher's batch at `instant`; returns the emails it sent."""
    before = len(mail.outbox)
    with time_machine.travel(instant, tick=False):
        sending.send_batch(50)
    return mail.outbox[before:]


def stop_link(email) -> str:
    """The path of the stop link in an email's text, as the patient would click it."""
    found = re.search(r"https?://[^/\s]+(/messages/stop/\S+/)", email.body)
    assert found, email.body
    assert email.extra_headers["List-Unsubscribe"] == f"<http://127.0.0.1:8000{found[1]}>"
    return found[1]


def one_click(path: str):
    """What a mail program posts for List-Unsubscribe-Post (RFC 8058): no CSRF token."""
    return Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})


def statuses(appointment) -> dict:
    rows = reminders.of(appointment).values_list("kind", "status", "last_error")
    return {kind: (status, error) for kind, status, error in rows}


@committing
def test_the_stop_link_of_a_reminder_stops_reminders_and_never_the_aftercare(
    hours, programme, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=2)
    wednesday = MONDAY + timedelta(days=2)
    visit = book(front_desk, record, doctor, at(wednesday, 9), plan, 1, booked_at=at(MONDAY, 7))
    (reminder,) = send_at(at(MONDAY, 9, 1))  # 48 hours before
    assert "reminder of your Sclerotherapy session" in reminder.body
    assert "Stop appointment reminders:" in reminder.body
    page = one_click(stop_link(reminder))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Appointment reminders are turned off" in text
    assert "Aftercare advice after a session, with the warning signs" in text
    assert reverse("portal:preferences") in text  # turn them back on
    record.refresh_from_db()
    assert (record.consent_reminders, record.consent_aftercare, record.consent_email) == (
        False,
        True,
        True,
    )
    assert send_at(at(wednesday, 7, 1)) == []  # the 2-hour reminder is withheld
    assert statuses(visit)["reminder_second"] == (
        MessageStatus.CANCELLED,
        "patient wants no appointment reminders",
    )
    complete(visit, front_desk, at(wednesday, 9, 30))
    (checkout,) = send_at(at(wednesday, 9, 31))
    assert checkout.subject == "After your sclerotherapy session today"
    assert "Keep your support hose on" in checkout.body and WARNING in checkout.body
    assert "Stop aftercare advice:" in checkout.body
    (rest_end,) = send_at(at(wednesday + timedelta(days=4), 9, 1))
    assert rest_end.subject == "You can go back to exercise" and WARNING in rest_end.body


@committing
def test_the_stop_link_of_aftercare_stops_the_advice_but_never_the_warning_signs(
    hours, programme, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=2)
    first = book(front_desk, record, doctor, at(MONDAY, 9), plan, 1, booked_at=at(MONDAY, 7))
    second_day = MONDAY + timedelta(weeks=4)
    second = book(front_desk, record, doctor, at(second_day, 9), plan, 2, booked_at=at(MONDAY, 7))
    complete(first, front_desk, at(MONDAY, 9, 30))
    (checkout,) = send_at(at(MONDAY, 9, 31))
    path = stop_link(checkout)
    client = Client(enforce_csrf_checks=True)
    asked = client.get(path).content.decode()
    assert "Stop aftercare advice" in asked and "Yes, stop aftercare advice" in asked
    record.refresh_from_db()
    assert record.consent_aftercare  # a GET changes nothing
    done = one_click(path).content.decode()
    assert "Aftercare advice is turned off" in done
    assert "we will still send you one message with the warning signs" in done
    record.refresh_from_db()
    assert (record.consent_aftercare, record.consent_reminders) == (False, True)

    assert send_at(at(MONDAY + timedelta(days=4), 9, 1)) == []
    assert statuses(first)["aftercare:rest-end"] == (
        MessageStatus.CANCELLED,
        "patient wants no aftercare advice",
    )
    # Appointment reminders still reach the patient.
    reminder = send_at(at(second_day, 9, 1) - timedelta(days=2))
    assert [m.subject for m in reminder if "reminder of your Sclerotherapy session" in m.body]

    # The next session: the warning signs, alone, in place of the advice at checkout.
    complete(second, front_desk, at(second_day, 9, 30))
    sent = send_at(at(second_day, 9, 31))
    safety = [m for m in sent if m.subject == SAFETY_SUBJECT]
    assert len(safety) == 1, [m.subject for m in sent]
    assert WARNING in safety[0].body and "Keep your support hose on" not in safety[0].body
    assert "List-Unsubscribe" not in safety[0].extra_headers
    assert "/messages/stop/" not in safety[0].body
    assert statuses(second)["aftercare:checkout"] == (
        MessageStatus.SENT,
        "warning signs only: patient wants no aftercare advice",
    )
    assert send_at(at(second_day + timedelta(days=4), 9, 1)) == []


@committing
def test_a_patient_who_declined_everything_still_gets_the_warning_signs_once_per_session(
    hours, programme, front_desk, doctor, record, client
):
    type(record).objects.filter(pk=record.pk).update(
        consent_email=False, consent_sms=False, consent_reminders=False, consent_aftercare=False
    )
    plan = make_plan(record, doctor, sessions=2)
    visit = book(front_desk, record, doctor, at(MONDAY, 9), plan, 1, booked_at=at(MONDAY, 7))
    complete(visit, front_desk, at(MONDAY, 9, 30))
    for days in (0, 4, 14, 28):
        send_at(at(MONDAY + timedelta(days=days), 9, 31))
    assert [m.subject for m in mail.outbox] == [SAFETY_SUBJECT]
    found = statuses(visit)
    assert found["aftercare:checkout"] == (
        MessageStatus.SENT,
        "warning signs only: no consent to email",
    )
    for kind in ("aftercare:rest-end", "aftercare:hose-end", "aftercare:book-next"):
        assert found[kind] == (MessageStatus.CANCELLED, "no consent to email"), kind
    # The staff see it on the patient's messages.
    client.force_login(front_desk)
    page = client.get(reverse("messaging:patient", args=[record.pk])).content.decode()
    assert "warning signs only: no consent to email" in page and SAFETY_SUBJECT in page


@committing
def test_the_warning_signs_reach_a_patient_who_declined_text_messages_by_text(
    hours, programme, front_desk, doctor, record, settings, tmp_path
):
    settings.SMS_BACKEND = "messaging.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    type(record).objects.filter(pk=record.pk).update(reminder_channel="sms", consent_sms=False)
    plan = make_plan(record, doctor, sessions=2)
    visit = book(front_desk, record, doctor, at(MONDAY, 9), plan, 1, booked_at=at(MONDAY, 7))
    complete(visit, front_desk, at(MONDAY, 9, 30))
    send_at(at(MONDAY, 9, 31))
    texts = (tmp_path / "sms.jsonl").read_text().splitlines()
    assert len(texts) == 1 and WARNING in texts[0] and "warning signs" in texts[0]


def test_a_stop_link_sent_before_messages_had_kinds_stops_reminders_only(client, record):
    token = signing.dumps({"p": record.pk, "c": "email"}, salt=writing.UNSUBSCRIBE_SALT)
    page = client.post(reverse("messaging:unsubscribe", args=[token])).content.decode()
    assert "Appointment reminders are turned off" in page
    record.refresh_from_db()
    assert (record.consent_reminders, record.consent_aftercare) == (False, True)


def test_a_stop_link_of_a_merged_record_changes_the_kept_record(client, record):
    duplicate = PatientFactory(merged_into=record)
    path = writing.unsubscribe_url(duplicate.pk, "email", "aftercare").split("8000", 1)[1]
    client.post(path)
    record.refresh_from_db()
    assert record.consent_aftercare is False


def test_a_reminder_turned_back_on_in_the_portal_before_it_falls_due_goes_out(
    client, now, hours, front_desk, doctor, patient, record
):
    type(record).objects.filter(pk=record.pk).update(portal_user=patient)
    appointment = services.book_appointment(
        patient=record,
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=3), 10),
        by=desk_actor(front_desk),
        kind=Kind.CONSULTATION,
    )
    path = writing.unsubscribe_url(record.pk, "email", "reminders").split("8000", 1)[1]
    client.post(path)
    record.refresh_from_db()
    client.force_login(patient)
    response = client.post(
        reverse("portal:preferences"),
        {
            "email": record.email,
            "state": "OR",
            "reminder_channel": "email",
            "consent_email": "on",
            "consent_reminders": "on",
            "consent_aftercare": "on",
            "version": record.version,
        },
    )
    assert response.status_code == 302
    reminders.of(appointment).update(due_at=at(MONDAY, 6))
    assert sending.send_batch(10)["sent"] == 2
