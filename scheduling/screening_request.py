"""The link to the health questions, sent when a consultation is booked for a patient who has
a portal account (issue 15, point 2): they answer before the visit, and the doctor goes through
the answers with them there (patients.patient_answers)."""

from datetime import timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging import kinds, outbox
from messaging.kinds import MessageKind, PermanentFailure, Rendered
from patients import portal_link
from patients.models import Purpose

from . import clock
from .models import Appointment, Kind, Status
from .reminders import Topic

KIND = "screening_request"
# Not sent for a consultation this close: there is no time to answer before it.
AT_LEAST = timedelta(hours=2)


def queue(appointments: list[Appointment]) -> None:
    """In the booking's transaction: one link per consultation booked, to a patient who can
    log in to the portal (the others answer at the desk, as before)."""
    now = timezone.now()
    for appointment in appointments:
        patient = appointment.patient
        if (
            appointment.kind != Kind.CONSULTATION
            or not patient.portal_user_id
            or appointment.starts_at - now < AT_LEAST
        ):
            continue
        outbox.put(
            outbox.Draft(
                key=f"screen:{appointment.pk}",
                kind=KIND,
                patient=patient,
                channel=outbox.channel_for(patient),
                due_at=now,
                give_up_at=appointment.starts_at - AT_LEAST,
                topic=Topic.APPOINTMENT,
                topic_id=appointment.pk,
            )
        )


def _appointment(message) -> Appointment | None:
    return (
        Appointment.objects.select_related("location", "patient")
        .filter(pk=message.topic_id)
        .first()
    )


def _render(message, memo: dict) -> Rendered:
    appointment = _appointment(message)
    path = portal_link.screening_path()
    if appointment is None or not path:
        raise PermanentFailure("cannot render: no consultation, or no portal to link to")
    patient = message.patient
    context = {
        "name": patient.preferred_name or patient.legal_first_name,
        "clinic_name": settings.CLINIC_NAME,
        "starts": appointment.starts_at.astimezone(clock.zone(appointment.location.time_zone)),
        "link": settings.SITE_URL.rstrip("/") + path,
        "unsubscribe_url": outbox.unsubscribe_url(patient.pk, message.channel, Purpose.REMINDERS),
    }
    return Rendered(
        subject=str(_("Before your consultation: a few health questions")),
        text=render_to_string("scheduling/messages/screening_request.txt", context),
        html="",
        sms=render_to_string("scheduling/messages/screening_request_sms.txt", context).strip(),
        unsubscribe_url=context["unsubscribe_url"],
    )


def _reason_not_to_send(message) -> str:
    appointment = _appointment(message)
    if appointment is None or appointment.status != Status.BOOKED:
        return "the consultation is no longer booked"
    if not appointment.patient.portal_user_id:
        return "the patient has no portal account"
    return ""


def register() -> None:
    kinds.register(
        KIND,
        MessageKind(
            label=lambda kind: _("Health questions before a consultation"),
            render=_render,
            reason_not_to_send=_reason_not_to_send,
            describe=lambda messages: {
                m.pk: str(_("Consultation %(id)s") % {"id": m.topic_id}) for m in messages
            },
            purpose=lambda kind: Purpose.REMINDERS,
        ),
    )
