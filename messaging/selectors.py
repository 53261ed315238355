"""Reads of the outbox that pages share."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from patients.models import Channel, Patient, Purpose
from patients.record_page import Part

from . import kinds
from .models import Message, MessageStatus


@dataclass(frozen=True)
class Line:
    """A message as staff pages list it, with its owner's words for what it is about."""

    message: Message
    about: str


def _lines(rows) -> list[Line]:
    rows = list(rows)
    about = kinds.describe(rows)
    return [Line(row, about.get(row.pk, "")) for row in rows]


def given_up_messages(*, patient_id: int | None = None, limit: int = 20):
    """Messages that never reached a patient and that no one has dealt with yet, newest
    first; and how many in all."""
    rows = Message.objects.given_up().select_related("patient")
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    return _lines(rows.order_by("-due_at", "-id")[:limit]), rows.count()


def patient_messages(patient_id: int, *, limit: int = 200) -> list[Line]:
    """A patient's messages, the latest first."""
    rows = Message.objects.filter(patient_id=patient_id).select_related("handled_by")
    return _lines(rows.order_by("-due_at", "-id")[:limit])


def given_up_count(patient_id: int) -> int:
    return Message.objects.given_up().filter(patient_id=patient_id).count()


# The same count, for the record page that shows it (patients.record_page; as given_up()).
GIVEN_UP_READ = Part(
    f"(SELECT count(*)::text FROM {Message._meta.db_table} WHERE patient_id = %(patient)s"
    f" AND status = '{MessageStatus.FAILED.value}' AND handled_at IS NULL)"
)


def latest_by_topic(topic: str, topic_ids, *, kind: str) -> dict[int, Message]:
    """{row id: its latest message of `kind`}, for an owner's page (an alert's delivery)."""
    rows = Message.objects.filter(topic=topic, topic_id__in=list(topic_ids), kind=kind)
    return {row.topic_id: row for row in rows.order_by("created_at", "id")}


@dataclass(frozen=True)
class Reach:
    """Whether messages of one kind reach a patient, as the sender will decide it."""

    # The messages themselves go out.
    reaches: bool
    # Something can go out at all (the warning signs sent in place of declined advice): there
    # is an address or a number for the patient's channel.
    reachable: bool
    # Why they don't, in the staff's words ("" when they do).
    why: str = ""


NO_CONTACT = {
    Channel.EMAIL: _("there is no email address on the record"),
    Channel.SMS: _("there is no mobile number on the record"),
}
DECLINED_CHANNEL = {
    Channel.EMAIL: _("they did not agree to emails"),
    Channel.SMS: _("they did not agree to text messages"),
}
DECLINED_PURPOSE = {
    Purpose.REMINDERS: _("they chose not to get appointment reminders"),
    Purpose.AFTERCARE: _("they chose not to get aftercare advice"),
}


def reach(patient: Patient, purpose: str) -> Reach:
    """Messages of `purpose` go to the patient's preferred channel (`reminder_channel`), as the
    outbox writes them: they need its address or number, the channel's consent and the
    kind's."""
    channel = patient.reminder_channel
    if not patient.contact(channel):
        return Reach(reaches=False, reachable=False, why=str(NO_CONTACT[channel]))
    if not patient.accepts(channel):
        return Reach(reaches=False, reachable=True, why=str(DECLINED_CHANNEL[channel]))
    if not patient.wants(purpose):
        return Reach(reaches=False, reachable=True, why=str(DECLINED_PURPOSE[purpose]))
    return Reach(reaches=True, reachable=True)
