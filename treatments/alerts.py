"""The serious adverse-event alert: a message to the treating doctor through the outbox, so
it is retried while the mail server is down and never fails the page that recorded the event.
The event also stays on the doctor's home page until they acknowledge it."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging import kinds, outbox, selectors
from messaging.kinds import MessageKind, Rendered
from messaging.models import Channel

from .models import AdverseEvent


class AlertKind(models.TextChoices):
    SERIOUS_EVENT = "serious_event", gettext_lazy("Serious adverse event alert")


class Topic(models.TextChoices):
    """What treatments' messages are about (`Message.topic`)."""

    ADVERSE_EVENT = "adverse_event"


# Retried for this long while the mail server is down; the home page shows it all along.
USEFUL_FOR = timedelta(days=7)


def serious_event_recorded(event: AdverseEvent) -> None:
    """Queue the alert to the plan's doctor, in the caller's transaction (no event, no alert;
    no alert lost once the event is saved)."""
    now = timezone.now()
    outbox.put(
        outbox.Draft(
            key=f"e{event.pk}:{AlertKind.SERIOUS_EVENT}",
            kind=AlertKind.SERIOUS_EVENT,
            staff=event.plan.doctor,
            channel=Channel.EMAIL,
            topic=Topic.ADVERSE_EVENT,
            topic_id=event.pk,
            due_at=now,
            give_up_at=now + USEFUL_FOR,
        )
    )


def acknowledged(event: AdverseEvent) -> None:
    """The doctor has seen it on their home page: an alert still waiting need not go out."""
    outbox.withdraw(
        topic=Topic.ADVERSE_EVENT, topic_id=event.pk, reason="seen by the doctor in the app"
    )


def delivery(events) -> dict:
    """{event id: its alert message}, for the doctor's home page."""
    return selectors.latest_by_topic(
        Topic.ADVERSE_EVENT, [e.pk for e in events], kind=AlertKind.SERIOUS_EVENT
    )


def _render(message, memo: dict) -> Rendered:
    """The email names no patient: mail leaves the clinic, the link needs a login."""
    event = AdverseEvent.objects.get(pk=message.topic_id)
    with timezone.override(settings.CLINIC_TIME_ZONE):
        text = render_to_string(
            "treatments/email/serious_event.txt",
            {"event": event, "clinic_name": settings.CLINIC_NAME},
        )
    subject = _("Serious adverse event: %(type)s") % {"type": event.get_type_display()}
    return Rendered(subject=subject, text=text, html="", sms="")


def _reason_not_to_send(message) -> str:
    found = AdverseEvent.objects.filter(pk=message.topic_id).values_list("acknowledged_at")
    row = found.first()
    if row is None:
        return "adverse event no longer exists"
    return "seen by the doctor in the app" if row[0] else ""


def register() -> None:
    kinds.register(
        AlertKind.SERIOUS_EVENT,
        MessageKind(
            label=lambda kind: AlertKind.SERIOUS_EVENT.label,
            render=_render,
            reason_not_to_send=_reason_not_to_send,
            useful_until=lambda message, due_at: due_at + USEFUL_FOR,
        ),
    )
