"""A message to an address: for a person who is not a patient yet and asked for this very
message (the link that confirms an online booking). It goes to the address, with no consent
to check and no unsubscribe link; the table takes exactly one recipient."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone

from messaging import kinds, outbox, sending
from messaging.kinds import MessageKind, Rendered
from messaging.models import Channel, Message, MessageStatus
from tests.factories import PatientFactory

KIND = "test_to_address"


@pytest.fixture(autouse=True)
def kind_for_an_address():
    wanted = {"still": True}

    def render(message, memo):
        return Rendered(subject="Your link", text="Open the link.", html="", sms="Your code 1")

    def reason(message):
        return "" if wanted["still"] else "no longer asked for"

    kinds.register(
        KIND, MessageKind(label=lambda kind: "Test", render=render, reason_not_to_send=reason)
    )
    yield wanted
    kinds._kinds.pop(KIND)


def queue(address: str, channel=Channel.EMAIL) -> Message:
    now = timezone.now()
    outbox.put(
        outbox.Draft(
            key=f"addr:{address}",
            kind=KIND,
            address=address,
            channel=channel,
            due_at=now,
            give_up_at=now + timedelta(hours=1),
        )
    )
    return Message.objects.get(key=f"addr:{address}")


def test_it_emails_the_address_with_no_consent_and_no_unsubscribe_link(db):
    message = queue("new.person@example.net")
    assert sending.send_batch(10)["sent"] == 1
    (email,) = mail.outbox
    assert email.to == ["new.person@example.net"]
    assert "List-Unsubscribe" not in email.extra_headers
    message.refresh_from_db()
    assert (message.status, message.recipient) == (MessageStatus.SENT, "new.person@example.net")


def test_it_texts_the_number(db, settings, tmp_path):
    settings.SMS_BACKEND = "messaging.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    queue("+15035550199", channel=Channel.SMS)
    assert sending.send_batch(10)["sent"] == 1
    (line,) = (tmp_path / "sms.jsonl").read_text().splitlines()
    assert json.loads(line)["to"] == "+15035550199"


def test_it_withdraws_what_its_kind_no_longer_wants(db, kind_for_an_address):
    message = queue("new.person@example.net")
    kind_for_an_address["still"] = False
    sending.send_batch(10)
    message.refresh_from_db()
    assert message.status == MessageStatus.CANCELLED
    assert mail.outbox == []


@pytest.mark.parametrize("who", ["patient_and_address", "nobody"])
def test_the_table_takes_exactly_one_recipient(db, who):
    now = timezone.now()
    values = {"kind": KIND, "due_at": now, "give_up_at": now, "channel": Channel.EMAIL}
    if who == "patient_and_address":
        values.update(patient=PatientFactory(), address="someone@example.net")
    with pytest.raises(IntegrityError):
        Message.objects.create(key="two", **values)
