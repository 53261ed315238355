"""A kind of message may send files with its email (a calendar invitation): the outbox puts
them in the email as they are, with their Content-Type parameters, and never in a text
message. The outbox knows nothing of what they are."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from messaging import kinds, outbox, sending
from messaging.kinds import Attachment, MessageKind, Rendered
from messaging.models import Channel, Message, MessageStatus
from tests.factories import PatientFactory

KIND = "test_with_file"
CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


@pytest.fixture(autouse=True)
def kind_with_a_file():
    def render(message, memo):
        return Rendered(
            subject="With a file",
            text="See the file.",
            html="<p>See the file.</p>",
            sms="A text has no file.",
            attachments=(
                Attachment(
                    "invite.ics", CALENDAR, "text/calendar", params=(("method", "REQUEST"),)
                ),
            ),
        )

    kinds.register(KIND, MessageKind(label=lambda kind: "Test", render=render))
    yield
    kinds._kinds.pop(KIND)


def queue(patient, channel=Channel.EMAIL) -> Message:
    now = timezone.now()
    outbox.put(
        outbox.Draft(
            key=f"test:{patient.pk}:{channel}",
            kind=KIND,
            patient=patient,
            channel=channel,
            due_at=now,
            give_up_at=now + timedelta(hours=1),
        )
    )
    return Message.objects.get(key=f"test:{patient.pk}:{channel}")


def test_it_sends_a_kinds_attachment_with_its_content_type_parameters(db):
    message = queue(PatientFactory(consent_email=True))
    assert sending.send_batch(10)["sent"] == 1
    email = mail.outbox[0].message()
    parts = [part for part in email.walk() if part.get_filename()]
    assert [part.get_filename() for part in parts] == ["invite.ics"]
    part = parts[0]
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_disposition() == "attachment"
    assert part.get_payload(decode=True).decode() == CALENDAR
    # The text and HTML parts are still there, and the outbox keeps the file's name.
    types = {part.get_content_type() for part in email.walk()}
    assert {"text/plain", "text/html"} <= types
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.body.endswith("[invite.ics]")


def test_a_text_message_carries_no_attachment(db):
    queue(PatientFactory(consent_sms=True, reminder_channel=Channel.SMS), channel=Channel.SMS)
    assert sending.send_batch(10)["sent"] == 1
    assert mail.outbox == []
    assert Message.objects.get(kind=KIND).body == "A text has no file."
