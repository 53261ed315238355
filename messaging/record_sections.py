"""This app's section of the exported record (patients.record_export): the messages sent, or
meant, to the patient. What each was, how and when, and whether it reached them; never its
text, which may hold a one-time or unsubscribe link."""

from django.utils.translation import gettext_lazy as _

from patients.models import Channel, Patient
from patients.record_export import choice, register_section, when

from . import kinds
from .models import Message, MessageStatus

LABELS = {
    "kind": _("Message"),
    "about": _("About"),
    "channel": _("Sent by"),
    "recipient": _("Sent to"),
    "subject": _("Subject"),
    "due_at": _("Due"),
    "sent_at": _("Sent"),
    "problem": _("Why it did not reach you"),
}


def messages(patient: Patient) -> list[dict]:
    rows = list(Message.objects.filter(patient=patient).order_by("due_at", "id"))
    about = kinds.describe(rows)
    return [
        {
            "kind": {"value": m.kind, "label": kinds.label(m.kind)},
            "about": about.get(m.pk, ""),
            "channel": choice(Channel, m.channel),
            "status": choice(MessageStatus, m.status),
            "recipient": m.recipient,
            "subject": m.subject,
            "due_at": when(m.due_at),
            "sent_at": when(m.sent_at),
            "problem": m.last_error if m.status == MessageStatus.FAILED else "",
        }
        for m in rows
    ]


def register() -> None:
    register_section(
        "messages",
        _("Messages to the patient"),
        messages,
        labels=LABELS,
        models=(Message,),
        order=60,
    )
