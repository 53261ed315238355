"""Messages that could not go out (issue 11, point 2 and "Bad input"): a transient failure is
retried while the message is still useful; only a refused address or a passed deadline gives
up, and what was given up waits on the front desk's home and on the patient's record with
"send again". A message whose patient, appointment or plan has gone is withdrawn, with its
reason, without stopping the batch.

The mail server here is real in both states: nobody listening on a loopback port (down), or
Django's in-memory outbox once it is back."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from messaging import sending as outbox
from messaging.models import Message, MessageStatus
from scheduling import reminders
from tests.factories import PatientFactory
from tests.messaging import realparts
from tests.scheduling.conftest import MONDAY, at

FAILED, PENDING, SENT, CANCELLED = (
    MessageStatus.FAILED,
    MessageStatus.PENDING,
    MessageStatus.SENT,
    MessageStatus.CANCELLED,
)


@pytest.fixture
def mail_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = realparts.free_port()  # nobody listens here
    settings.EMAIL_TIMEOUT = 5
    return settings


def mail_back(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def touch_up(patient=None, *, useful_for=timedelta(days=30), key="t:1") -> Message:
    now = timezone.now()
    return Message.objects.create(
        key=key,
        patient=patient or PatientFactory(consent_email=True),
        kind=reminders.TOUCH_UP,
        channel="email",
        due_at=now,
        give_up_at=now + useful_for,
    )


def test_a_transient_failure_is_retried_with_growing_waits(db, mail_down):
    row = touch_up()
    waits = []
    for _ in range(7):
        with time_machine.travel(row.due_at, tick=False):
            assert outbox.send_batch(10)["retry"] == 1
            row.refresh_from_db()
            waits.append(row.due_at - timezone.now())
    minutes = [round(w.total_seconds() / 60) for w in waits]
    assert minutes == [1, 2, 4, 8, 16, 30, 30]
    assert row.status == PENDING and row.attempts == 7


def test_once_the_mail_server_fails_the_batch_s_other_emails_wait_and_texts_still_go(
    db, mail_down, tmp_path
):
    mail_down.SMS_BACKEND = "messaging.sms.FileBackend"
    mail_down.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    emails = [touch_up(key=f"email:{n}") for n in range(5)]
    texter = PatientFactory(consent_sms=True, reminder_channel="sms")
    text = touch_up(texter, key="sms")
    Message.objects.filter(pk=text.pk).update(channel="sms")
    outcome = outbox.send_batch(10)
    assert (outcome["retry"], outcome["deferred"], outcome["sent"]) == (1, 4, 1)
    rows = Message.objects.filter(pk__in=[e.pk for e in emails])
    assert set(rows.values_list("status", flat=True)) == {PENDING}
    assert len(set(rows.values_list("due_at", flat=True))) == 1  # all wait for the same try
    assert sorted(rows.values_list("attempts", flat=True)) == [0, 0, 0, 0, 1]
    assert Message.objects.get(pk=text.pk).status == SENT


def test_it_gives_up_only_when_no_try_fits_before_the_deadline(db, mail_down):
    row = touch_up(useful_for=timedelta(minutes=10))
    tries = 0
    while row.status == PENDING:
        with time_machine.travel(row.due_at, tick=False):
            outbox.send_batch(10)
        row.refresh_from_db()
        tries += 1
        assert tries < 10
    assert row.status == FAILED
    assert row.last_error.startswith("gave up, too late to be useful: mail server:")
    # At 0, 1, 3 and 7 minutes, and a last try 2 minutes before the deadline.
    assert row.attempts == tries == 5


def test_a_message_that_fell_due_while_no_worker_ran_is_given_up_once_too_late(db, settings):
    row = touch_up(useful_for=timedelta(hours=1))
    with time_machine.travel(row.due_at + timedelta(hours=2), tick=False):
        assert outbox.send_batch(10)["failed"] == 1
    row.refresh_from_db()
    assert row.status == FAILED and row.last_error.startswith("too late to be useful")
    assert mail.outbox == []


def test_an_appointment_reminder_is_useful_until_shortly_before_the_appointment():
    starts = at(MONDAY, 10)
    until = reminders.useful_until(
        kind=reminders.SECOND, due_at=starts - timedelta(hours=2), appointment_starts=starts
    )
    assert until == starts - reminders.BEFORE_APPOINTMENT_CUTOFF
    assert timedelta(0) < reminders.BEFORE_APPOINTMENT_CUTOFF <= timedelta(hours=1)


def test_a_refused_address_gives_up_at_once(db, settings):
    row = touch_up(PatientFactory(consent_email=True, email=""))
    assert outbox.send_batch(10)["failed"] == 1
    row.refresh_from_db()
    assert (row.status, row.last_error, row.attempts) == (FAILED, "no email address", 1)


# --- What the front desk sees, and "send again" ---------------------------------------------


@pytest.fixture
def given_up(db):
    patient = PatientFactory(consent_email=True, email="")
    row = touch_up(patient)
    outbox.send_batch(10)
    row.refresh_from_db()
    assert row.status == FAILED
    return row


def test_the_front_desk_home_lists_messages_that_never_arrived(client, front_desk, given_up):
    client.force_login(front_desk)
    page = client.get(reverse("frontdesk_home")).content.decode()
    assert "1 message did not reach its patient" in page
    assert given_up.patient.full_name in page and "no email address" in page
    assert reverse("messaging:act", args=[given_up.pk, "send-again"]) in page


def test_the_patient_record_says_which_messages_never_reached_them(client, front_desk, given_up):
    client.force_login(front_desk)
    record = client.get(reverse("patients:detail", args=[given_up.patient_id])).content.decode()
    assert "1 message never reached this patient." in record
    listing = client.get(reverse("messaging:patient", args=[given_up.patient_id]))
    body = listing.content.decode()
    assert "1 message never reached this patient" in body and "Send again" in body


def test_send_again_after_fixing_the_address_delivers_it(client, front_desk, given_up):
    patient = given_up.patient
    type(patient).objects.filter(pk=patient.pk).update(email="rosa@example.org")
    client.force_login(front_desk)
    response = client.post(
        reverse("messaging:act", args=[given_up.pk, "send-again"]), {"back": "home"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("frontdesk_home")
    given_up.refresh_from_db()
    assert (given_up.status, given_up.attempts, given_up.handled_by) == (PENDING, 0, front_desk)
    assert given_up.give_up_at > timezone.now() + timedelta(days=1)
    assert outbox.send_batch(10)["sent"] == 1
    assert mail.outbox[0].to == ["rosa@example.org"]
    assert mail.outbox[0].extra_headers["Message-ID"] == outbox.message_id(given_up)
    home = client.get(reverse("frontdesk_home")).content.decode()
    assert "did not reach" not in home


def test_dealt_with_takes_it_off_the_lists_and_keeps_who(client, front_desk, given_up):
    client.force_login(front_desk)
    client.post(reverse("messaging:act", args=[given_up.pk, "dealt-with"]))
    given_up.refresh_from_db()
    assert given_up.status == FAILED and given_up.handled_by == front_desk
    assert "did not reach" not in client.get(reverse("frontdesk_home")).content.decode()
    record = client.get(reverse("patients:detail", args=[given_up.patient_id])).content.decode()
    assert "never reached" not in record
    listing = client.get(reverse("messaging:patient", args=[given_up.patient_id])).content.decode()
    assert "Dealt with by" in listing


def test_send_again_twice_is_refused_the_second_time(client, front_desk, given_up):
    client.force_login(front_desk)
    url = reverse("messaging:act", args=[given_up.pk, "send-again"])
    client.post(url)
    page = client.post(url, follow=True).content.decode()
    assert "already been dealt with" in page
    assert Message.objects.get(pk=given_up.pk).status == PENDING


def test_send_again_is_refused_for_an_appointment_that_has_passed(
    client, front_desk, doctor, db, hours
):
    from tests.scheduling.test_reminders import book

    patient = PatientFactory(consent_email=True, email="")
    with time_machine.travel(at(MONDAY, 7), tick=False):
        appointment = book(front_desk, patient, doctor, at(MONDAY + timedelta(days=3), 10))
    row = reminders.of(appointment).get(kind=reminders.FIRST)
    with time_machine.travel(row.due_at, tick=False):
        outbox.send_batch(10)
    with time_machine.travel(appointment.starts_at + timedelta(hours=1), tick=False):
        client.force_login(front_desk)
        page = client.post(
            reverse("messaging:act", args=[row.pk, "send-again"]), follow=True
        ).content.decode()
    assert "too late to send this message" in page
    assert Message.objects.get(pk=row.pk).status == FAILED


def test_only_staff_can_act_on_a_message(client, patient, given_up):
    client.force_login(patient)
    for action in ("send-again", "dealt-with"):
        response = client.post(reverse("messaging:act", args=[given_up.pk, action]))
        assert response.status_code in (403, 404)
    assert Message.objects.get(pk=given_up.pk).handled_at is None


def test_bad_requests_change_nothing(client, front_desk, given_up):
    client.force_login(front_desk)
    assert client.get(reverse("messaging:act", args=[given_up.pk, "send-again"])).status_code == 405
    assert client.post(reverse("messaging:act", args=[given_up.pk, "delete"])).status_code == 404
    assert client.post(reverse("messaging:act", args=[999999, "send-again"])).status_code == 404
    assert Message.objects.get(pk=given_up.pk).handled_at is None


def test_the_home_page_reads_the_same_number_of_queries_for_1_or_10(
    client, front_desk, given_up, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(front_desk)
    url = reverse("frontdesk_home")
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(9):
        row = touch_up(PatientFactory(consent_email=True, email=""), key=f"more:{n}")
        Message.objects.filter(pk=row.pk).update(status=FAILED)
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(url).content.decode()
    assert "10 messages did not reach their patients" in page


# --- Bad input: what a message speaks of has gone -------------------------------------------


def test_a_message_to_a_merged_record_is_withdrawn_and_the_batch_goes_on(db):
    merged, kept = PatientFactory(consent_email=True), PatientFactory(consent_email=True)
    gone = touch_up(merged, key="gone")
    fine = touch_up(PatientFactory(consent_email=True), key="fine")
    # Merged after the message was claimed (the merge moves waiting messages to the kept record).
    type(merged).objects.filter(pk=merged.pk).update(merged_into=kept)
    outcome = outbox.send_batch(10)
    assert (outcome["cancelled"], outcome["sent"]) == (1, 1)
    gone.refresh_from_db()
    assert (gone.status, gone.last_error) == (CANCELLED, "patient record merged into another")
    assert Message.objects.get(pk=fine.pk).status == SENT


def test_a_touch_up_invitation_of_a_stopped_plan_is_withdrawn(db, doctor):
    from tests.factories import screen
    from tests.treatments.conftest import as_doctor, make_plan
    from treatments.services import set_plan_status

    patient = PatientFactory(consent_email=True)
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(patient, doctor, sessions=2)
    set_plan_status(plan=plan, status="stopped", reason="Moved away", by=as_doctor(doctor))
    row = touch_up(patient)
    Message.objects.filter(pk=row.pk).update(topic=reminders.Topic.PLAN, topic_id=plan.pk)
    assert outbox.send_batch(10)["cancelled"] == 1
    row.refresh_from_db()
    assert (row.status, row.last_error) == (CANCELLED, "plan no longer completed")
