"""Text messages through Twilio (issue 15, point 6): the outbox sends through Twilio's own
library to a stand-in of its API on loopback (tests/messaging/twilio_standin.py) that records
every request. A refused number gives up with its reason; a provider that is down, busy or
slow is tried again, and a text it took whose answer was lost is found there, not sent twice.
Twilio's signed delivery receipts move a text forward, never back.

Time moves forward in the database (a retry's due_at), never waited for.
"""

import base64
import hashlib
import hmac
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from messaging import outbox, sms, tasks
from messaging import sending as outbox_sending
from messaging.models import Channel, DeliveryStatus, Message, MessageStatus
from scheduling import reminders
from tests.factories import PatientFactory
from tests.helpers import python
from tests.messaging.twilio_standin import TwilioStandIn

ACCOUNT = "AC" + "0123456789abcdef" * 2
TOKEN = "stand-in-auth-token-0123456789ab"
CLINIC_NUMBER = "+15035550100"
SITE = "https://clinic.example.org"
RECEIPTS = reverse("messaging:sms_status")
FORM = "application/x-www-form-urlencoded"

SENT, PENDING, FAILED = MessageStatus.SENT, MessageStatus.PENDING, MessageStatus.FAILED


@pytest.fixture
def twilio(settings):
    with TwilioStandIn(ACCOUNT, TOKEN) as standin:
        settings.SMS_BACKEND = "messaging.sms.TwilioBackend"
        settings.TWILIO_ACCOUNT_SID = ACCOUNT
        settings.TWILIO_AUTH_TOKEN = TOKEN
        settings.TWILIO_FROM = CLINIC_NUMBER
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.TWILIO_API_URL = standin.url
        settings.TWILIO_TIMEOUT = 1.0
        settings.SITE_URL = SITE
        yield standin


def enqueue(phone: str = "+15035550123", key: str = "touch-up:1") -> Message:
    """A touch-up invitation by text, due now, written through the outbox's API."""
    patient = PatientFactory(phone=phone, consent_sms=True, reminder_channel="sms")
    now = timezone.now()
    with transaction.atomic():
        outbox.put(
            outbox.Draft(
                key=key,
                kind=reminders.TOUCH_UP,
                due_at=now,
                give_up_at=now + timedelta(days=30),
                patient=patient,
                channel=Channel.SMS,
            )
        )
    return Message.objects.get(key=key)


def next_try_is_due(row: Message) -> None:
    """Time moves forward: the retry's time has come."""
    Message.objects.filter(pk=row.pk).update(due_at=timezone.now())


def posts(standin: TwilioStandIn):
    return [r for r in standin.state.requests if r.method == "POST"]


# --- Sending ----------------------------------------------------------------------------------


def test_it_sends_a_text_through_twilio_and_keeps_its_sid(db, twilio):
    row = enqueue()
    assert tasks.send_message_batch()["sent"] == 1  # the worker's task, run in process
    row.refresh_from_db()
    assert row.status == SENT
    [request] = posts(twilio)
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request.auth == (ACCOUNT, TOKEN)
    assert request.one("To") == "+15035550123"
    assert request.one("From") == CLINIC_NUMBER
    assert request.one("Body") == row.body and row.body
    assert request.one("StatusCallback") == SITE + RECEIPTS
    assert row.provider_id == twilio.state.messages[0]["sid"]
    assert row.recipient == "+15035550123"


def test_a_batch_of_texts_goes_over_one_connection_to_twilio(db, twilio):
    for n in range(3):
        enqueue(phone=f"+1503555012{n}", key=f"touch-up:{n}")
    assert outbox_sending.send_batch(10)["sent"] == 3
    assert len(posts(twilio)) == 3
    assert len({request.client for request in posts(twilio)}) == 1


def test_it_sends_from_the_messaging_service_when_there_is_no_number(db, twilio, settings):
    settings.TWILIO_FROM = ""
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "f" * 32
    enqueue()
    assert outbox_sending.send_batch(10)["sent"] == 1
    [request] = posts(twilio)
    assert request.one("MessagingServiceSid") == "MG" + "f" * 32
    assert request.one("From") is None


def test_a_refused_number_gives_up_at_once_with_the_reason(db, twilio):
    twilio.state.refuse["+15035550199"] = (21614, "'To' number is not a valid mobile number")
    row = enqueue(phone="+15035550199")
    assert outbox_sending.send_batch(10)["failed"] == 1
    row.refresh_from_db()
    assert row.status == FAILED and row.attempts == 1
    assert "not a mobile number" in row.last_error and "21614" in row.last_error
    assert Message.objects.given_up().filter(pk=row.pk).exists()  # on the front desk's home
    next_try_is_due(row)
    assert outbox_sending.send_batch(10) == {**_nothing(), "sent": 0}
    assert len(posts(twilio)) == 1  # never tried again


@pytest.mark.parametrize(
    ("code", "reason"),
    [(21211, "not a valid phone number"), (21610, "replied STOP")],
)
def test_each_refusal_of_a_number_is_permanent_and_readable(db, twilio, code, reason):
    twilio.state.refuse["+15035550199"] = (code, "refused")
    row = enqueue(phone="+15035550199")
    outbox_sending.send_batch(10)
    row.refresh_from_db()
    assert row.status == FAILED and reason in row.last_error


def test_the_refusal_shows_on_the_patient_s_messages(db, twilio, client, front_desk):
    twilio.state.refuse["+15035550199"] = (21211, "The 'To' number is not a valid phone number.")
    row = enqueue(phone="+15035550199")
    outbox_sending.send_batch(10)
    client.force_login(front_desk)
    page = client.get(reverse("messaging:patient", args=[row.patient_id])).content.decode()
    assert "not a valid phone number (error 21211)" in page


@pytest.mark.parametrize("answer", [500, 503, 429])
def test_a_provider_error_is_retried_and_sent_once_when_it_is_back(db, twilio, answer):
    row = enqueue()
    twilio.state.answer_with = answer
    assert outbox_sending.send_batch(10)["retry"] == 1
    row.refresh_from_db()
    assert row.status == PENDING and row.attempts == 1 and row.due_at > timezone.now()
    assert f"HTTP {answer}" in row.last_error
    twilio.state.answer_with = 0
    next_try_is_due(row)
    assert outbox_sending.send_batch(10)["sent"] == 1
    row.refresh_from_db()
    assert row.status == SENT
    assert len(twilio.state.messages) == 1
    assert row.provider_id == twilio.state.messages[0]["sid"]


def test_a_provider_that_is_down_is_retried_then_sent_once(db, twilio):
    row = enqueue()
    twilio.stop()  # connection refused
    for _ in range(3):
        assert outbox_sending.send_batch(10)["retry"] == 1
        row.refresh_from_db()
        assert row.status == PENDING and "unreachable" in row.last_error
        next_try_is_due(row)
    assert twilio.state.requests == []
    twilio.start()
    assert outbox_sending.send_batch(10)["sent"] == 1
    row.refresh_from_db()
    assert row.status == SENT and row.attempts == 4
    assert [r.answered for r in posts(twilio)] == [201]
    assert row.provider_id == twilio.state.messages[0]["sid"]


def test_a_provider_down_until_the_deadline_gives_up_with_the_reason(db, twilio):
    row = enqueue()
    twilio.stop()
    Message.objects.filter(pk=row.pk).update(give_up_at=timezone.now() + timedelta(minutes=1))
    assert outbox_sending.send_batch(10)["failed"] == 1
    row.refresh_from_db()
    assert row.status == FAILED
    assert row.last_error.startswith("gave up, too late to be useful: SMS provider unreachable")


@pytest.mark.parametrize("lost", ["hold", "drop"])
def test_a_text_whose_answer_was_lost_is_found_at_twilio_not_sent_again(db, twilio, lost):
    """The ambiguous case: Twilio took the text, but its answer never came (a read timeout,
    or the connection dropped). The retry asks Twilio for the texts to the number first,
    finds the copy and records it as sent: one text, no second POST."""
    row = enqueue()
    twilio.state.lose_next_answer = lost
    assert outbox_sending.send_batch(10)["retry"] == 1
    twilio.state.release.set()  # the held answer may go now: nobody is listening
    row.refresh_from_db()
    assert row.status == PENDING and row.attempts == 1
    assert len(twilio.state.messages) == 1  # Twilio has it
    next_try_is_due(row)
    assert outbox_sending.send_batch(10)["sent"] == 1
    row.refresh_from_db()
    assert row.status == SENT
    assert len(posts(twilio)) == 1 and len(twilio.state.messages) == 1
    assert row.provider_id == twilio.state.messages[0]["sid"]
    [lookup] = [r for r in twilio.state.requests if r.method == "GET"]
    assert lookup.one("To") == "+15035550123" and lookup.one("From") == CLINIC_NUMBER
    assert lookup.auth == (ACCOUNT, TOKEN)


def test_a_retry_sends_when_twilio_has_no_copy(db, twilio):
    """The POST failed before Twilio took anything (a 500): the lookup finds nothing, and
    the text goes out once."""
    row = enqueue()
    twilio.state.answer_with = 500
    outbox_sending.send_batch(10)
    twilio.state.answer_with = 0
    next_try_is_due(row)
    assert outbox_sending.send_batch(10)["sent"] == 1
    assert [r.method for r in twilio.state.requests] == ["POST", "GET", "POST"]
    assert len(twilio.state.messages) == 1


def test_the_lookup_does_not_take_another_text_to_the_same_number_for_this_one(db, twilio):
    """Another message to the same patient went out meanwhile: different words, no match."""
    row = enqueue()
    twilio.state.lose_next_answer = "drop"
    outbox_sending.send_batch(10)
    twilio.state.messages[0]["body"] = "Your appointment on Monday is confirmed."
    next_try_is_due(row)
    assert outbox_sending.send_batch(10)["sent"] == 1
    row.refresh_from_db()
    assert len(twilio.state.messages) == 2
    assert row.provider_id == twilio.state.messages[1]["sid"]


def test_a_copy_that_failed_at_twilio_is_sent_again(db, twilio):
    row = enqueue()
    twilio.state.lose_next_answer = "drop"
    outbox_sending.send_batch(10)
    twilio.state.messages[0]["status"] = "failed"
    next_try_is_due(row)
    assert outbox_sending.send_batch(10)["sent"] == 1
    assert len(twilio.state.messages) == 2


def test_the_text_files_and_the_console_still_send(db, settings, tmp_path):
    settings.SMS_BACKEND = "messaging.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    row = enqueue()
    assert outbox_sending.send_batch(10)["sent"] == 1
    row.refresh_from_db()
    assert row.provider_id.startswith("file-")
    settings.SMS_BACKEND = "messaging.sms.ConsoleBackend"
    row = enqueue(key="touch-up:2", phone="+15035550124")
    assert outbox_sending.send_batch(10)["sent"] == 1
    row.refresh_from_db()
    assert row.status == SENT and row.provider_id == ""


def _nothing() -> dict:
    return {"sent": 0, "failed": 0, "retry": 0, "deferred": 0, "cancelled": 0, "skipped": 0}


# --- Configuration ----------------------------------------------------------------------------


def test_the_backend_names_the_missing_setting_at_first_use(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = ""
    settings.TWILIO_FROM = ""
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    with pytest.raises(ImproperlyConfigured, match="TWILIO_AUTH_TOKEN, TWILIO_FROM or"):
        sms.TwilioBackend()


def test_the_app_refuses_to_start_with_twilio_half_configured():
    result = python(
        "print('started')",
        env={
            "DEBUG": "true",
            "SMS_BACKEND": "messaging.sms.TwilioBackend",
            "TWILIO_ACCOUNT_SID": ACCOUNT,
        },
    )
    assert result.returncode != 0
    assert "set TWILIO_AUTH_TOKEN, TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID" in result.stderr


def test_the_app_starts_with_twilio_configured():
    result = python(
        "from messaging import sms; print(type(sms.get_backend()).__name__)",
        env={
            "DEBUG": "true",
            "SMS_BACKEND": "messaging.sms.TwilioBackend",
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": "MG" + "f" * 32,
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "TwilioBackend"


# --- Delivery receipts ------------------------------------------------------------------------


def twilio_signature(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    """Twilio's algorithm, written out here rather than borrowed from the library the view
    uses: HMAC-SHA1 of the URL followed by each parameter's name and value, sorted by name,
    keyed with the auth token, in base64."""
    signed = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def receipt(client, sid: str, status: str, *, signature: str | None = None, **extra):
    params = {
        "AccountSid": ACCOUNT,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": "+15035550123",
        "From": CLINIC_NUMBER,
        "ApiVersion": "2010-04-01",
        **extra,
    }
    if signature is None:
        signature = twilio_signature(SITE + RECEIPTS, params)
    return post_form(client, params, signature)


def post_form(client, params: dict[str, str], signature: str):
    """As Twilio posts: a urlencoded form and its signature."""
    return client.post(RECEIPTS, urlencode(params), FORM, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def sent(db, twilio) -> Message:
    row = enqueue()
    outbox_sending.send_batch(10)
    row.refresh_from_db()
    assert row.status == SENT and row.provider_id
    return row


def test_a_signed_receipt_records_the_delivery(client, sent):
    assert receipt(client, sent.provider_id, "sent").status_code == 204
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.SENT and sent.delivered_at is None
    assert receipt(client, sent.provider_id, "delivered").status_code == 204
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.DELIVERED and sent.delivered_at
    assert sent.status == SENT


def test_the_staff_see_the_delivery_on_the_patient_s_messages(client, sent, front_desk):
    receipt(client, sent.provider_id, "delivered")
    client.force_login(front_desk)
    page = client.get(reverse("messaging:patient", args=[sent.patient_id])).content.decode()
    assert "Delivered to the phone on" in page


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_an_undelivered_text_is_given_up_with_the_carrier_s_reason(client, sent, status):
    Message.objects.filter(pk=sent.pk).update(handled_at=timezone.now())  # sent again once
    assert receipt(client, sent.provider_id, status, ErrorCode="30006").status_code == 204
    sent.refresh_from_db()
    assert sent.status == FAILED and sent.delivery_status == status
    assert "landline" in sent.last_error and "30006" in sent.last_error
    assert Message.objects.given_up().filter(pk=sent.pk).exists()  # on the front desk's home


def test_a_late_or_repeated_receipt_never_moves_a_text_back(client, sent):
    receipt(client, sent.provider_id, "delivered")
    sent.refresh_from_db()
    delivered_at = sent.delivered_at
    for late in ("sent", "queued", "delivered", "undelivered", "failed"):
        assert receipt(client, sent.provider_id, late).status_code == 204
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.DELIVERED
    assert sent.delivered_at == delivered_at and sent.status == SENT


def test_a_failure_is_final_whatever_comes_after_it(client, sent):
    receipt(client, sent.provider_id, "undelivered", ErrorCode="30003")
    receipt(client, sent.provider_id, "delivered")
    receipt(client, sent.provider_id, "sent")
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.UNDELIVERED and sent.status == FAILED


def test_a_receipt_that_overtook_an_earlier_one_stands(client, sent):
    receipt(client, sent.provider_id, "sent")
    receipt(client, sent.provider_id, "queued")
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.SENT


def test_a_receipt_for_an_unknown_text_changes_nothing(client, sent):
    response = receipt(client, "SM" + "9" * 32, "undelivered", ErrorCode="30003")
    assert response.status_code == 204
    sent.refresh_from_db()
    assert sent.delivery_status == "" and sent.status == SENT


@pytest.mark.parametrize(
    "signature",
    ["", "forged", twilio_signature(SITE + RECEIPTS, {"MessageStatus": "failed"})],
)
def test_an_unsigned_or_forged_receipt_is_refused(client, sent, signature):
    response = receipt(client, sent.provider_id, "failed", signature=signature)
    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.delivery_status == "" and sent.status == SENT


def test_a_receipt_signed_with_another_token_is_refused(client, sent):
    params = {"MessageSid": sent.provider_id, "MessageStatus": "failed"}
    signature = twilio_signature(SITE + RECEIPTS, params, token="someone-else-s-token")
    assert post_form(client, params, signature).status_code == 403


def test_a_receipt_signed_for_another_address_is_refused(client, sent):
    params = {"MessageSid": sent.provider_id, "MessageStatus": "failed"}
    signature = twilio_signature("https://attacker.example.net" + RECEIPTS, params)
    assert post_form(client, params, signature).status_code == 403


def test_no_receipt_is_accepted_without_an_auth_token(client, sent, settings):
    """With no token every signature would be computable by anyone."""
    settings.TWILIO_AUTH_TOKEN = ""
    params = {"MessageSid": sent.provider_id, "MessageStatus": "failed"}
    signature = twilio_signature(SITE + RECEIPTS, params, token="")
    assert post_form(client, params, signature).status_code == 403


def test_a_receipt_that_is_not_a_form_post_is_refused(client, sent):
    params = {"MessageSid": sent.provider_id, "MessageStatus": "failed"}
    signature = twilio_signature(SITE + RECEIPTS, params)
    response = client.post(RECEIPTS, params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403  # multipart: Twilio never sends it


def test_the_receipt_address_takes_posts_only(client, db):
    assert client.get(RECEIPTS).status_code == 405


def test_a_receipt_finds_its_text_through_the_provider_id_index(db):
    """The partial index (provider_id <> '') serves the receipt's `provider_id = sid`."""
    from django.db import connection

    rows = Message.objects.filter(provider_id="SM" + "0" * 32)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = rows.explain()
    assert "message_provider_id_idx" in plan, plan
