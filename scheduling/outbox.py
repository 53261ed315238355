"""Sending the outbox: claim due reminders, render them, send them, record what happened.

Claiming takes rows with SELECT ... FOR UPDATE SKIP LOCKED and marks them "sending" with a
lease, in a short transaction of its own; sending happens outside any transaction. A worker
that dies mid-batch leaves its rows in "sending": when the lease runs out they go back to
"pending" and are sent again, with the same Message-ID, so at most the message whose send
finished in the instant before the death can arrive twice.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template import TemplateSyntaxError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from treatments.models import AftercareStep
from treatments.selectors import get_clinic_settings

from . import clock, reminders, sms
from .models import Appointment, Reminder, ReminderStatus, Status

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
UNSUBSCRIBE_SALT = "goodskin.unsubscribe"


class PermanentFailure(Exception):
    """Sending again will not help (no address, refused address, broken template)."""


class TransientFailure(Exception):
    """The server or the network: try again later."""


@dataclass
class Message:
    subject: str
    text: str
    html: str
    sms: str


def release_expired_leases(now=None) -> int:
    """Rows a dead worker left in "sending" go back to the queue."""
    now = now or timezone.now()
    return Reminder.objects.filter(status=ReminderStatus.SENDING, lease_until__lt=now).update(
        status=ReminderStatus.PENDING, lease_until=None
    )


def claim(batch: int, now=None) -> list[Reminder]:
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .due(now)
            .order_by("due_at", "id")[:batch]
        )
        ids = [r.pk for r in rows]
        Reminder.objects.filter(pk__in=ids).update(
            status=ReminderStatus.SENDING, lease_until=now + LEASE
        )
    return list(
        Reminder.objects.filter(pk__in=ids).select_related(
            "patient", "appointment__doctor", "appointment__location", "plan"
        )
    )


def count_due(now=None) -> int:
    return Reminder.objects.due(now or timezone.now()).count()


def send_batch(batch: int = 100) -> dict[str, int]:
    """Claim and send up to `batch` due reminders; returns counts by outcome."""
    outcome = {"sent": 0, "failed": 0, "retry": 0, "cancelled": 0}
    rows = claim(batch)
    if not rows:
        return outcome
    connection = get_connection()
    try:
        for reminder in rows:
            outcome[_send_one(reminder, connection)] += 1
    finally:
        connection.close()
    return outcome


def _send_one(reminder: Reminder, connection) -> str:
    try:
        skip = _reason_not_to_send(reminder)
        if skip:
            return _finish(reminder, ReminderStatus.CANCELLED, error=skip)
        message = render(reminder)
        if reminder.channel == "sms":
            recipient = _deliver_sms(reminder, message)
        else:
            recipient = _deliver_email(reminder, message, connection)
    except PermanentFailure as error:
        return _finish(reminder, ReminderStatus.FAILED, error=str(error))
    except TransientFailure as error:
        return _retry(reminder, str(error))
    return _finish(reminder, ReminderStatus.SENT, recipient=recipient, message=message)


def _reason_not_to_send(reminder: Reminder) -> str:
    """A reason this reminder should no longer go out, or ""."""
    patient = reminder.patient
    appointment = reminder.appointment
    if reminder.kind in (reminders.FIRST, reminders.SECOND) and (
        appointment is None or appointment.status != Status.BOOKED
    ):
        return "appointment no longer booked"
    if reminder.kind == reminders.BOOK_NEXT and _next_session_booked(reminder):
        return "next session already booked"
    if reminder.channel == "email" and not patient.consent_email:
        return "no consent to email"
    if reminder.channel == "sms" and not patient.consent_sms:
        return "no consent to text messages"
    return ""


def _next_session_booked(reminder: Reminder) -> bool:
    return (
        Appointment.objects.filter(
            plan=reminder.plan, status=Status.BOOKED, starts_at__gt=reminder.appointment.starts_at
        ).exists()
        if reminder.plan_id and reminder.appointment_id
        else False
    )


def render(reminder: Reminder) -> Message:
    """Subject, plain text, HTML and SMS text of a reminder, as of now, with times in the
    clinic's zone (template date filters use the active zone, which is UTC in a worker)."""
    location = reminder.appointment.location if reminder.appointment_id else None
    with timezone.override(clock.zone(location.time_zone if location else None)):
        return _render(reminder)


def _render(reminder: Reminder) -> Message:
    context = _context(reminder)
    try:
        if reminder.kind.startswith(reminders.AFTERCARE_PREFIX):
            step = AftercareStep.objects.get(
                key=reminder.kind.removeprefix(reminders.AFTERCARE_PREFIX)
            )
            context.update(
                subject=step.email_subject,
                text=step.email_body.strip(),
                sms=step.sms_text.strip(),
                aftercare=True,
            )
            template = "aftercare"
        else:
            template = "appointment" if reminder.appointment_id else "touch_up"
        subject = (
            context.get("subject")
            or render_to_string(f"scheduling/messages/{template}_subject.txt", context).strip()
        )
        context["subject"] = subject
        return Message(
            subject=subject,
            text=render_to_string(f"scheduling/messages/{template}.txt", context),
            html=render_to_string(f"scheduling/messages/{template}.html", context),
            sms=render_to_string(f"scheduling/messages/{template}_sms.txt", context).strip(),
        )
    except (AftercareStep.DoesNotExist, TemplateSyntaxError, LookupError, ValueError) as error:
        raise PermanentFailure(f"cannot render: {error}") from error


def _context(reminder: Reminder) -> dict:
    patient = reminder.patient
    context = {
        "name": patient.preferred_name or patient.legal_first_name,
        "clinic_name": settings.CLINIC_NAME,
        "warning_signs": get_clinic_settings().warning_signs.strip(),
        "unsubscribe_url": unsubscribe_url(patient.pk, reminder.channel),
    }
    if reminder.appointment_id:
        appointment = reminder.appointment
        tz = clock.zone(appointment.location.time_zone)
        context.update(
            appointment=appointment,
            starts=appointment.starts_at.astimezone(tz),
            location=appointment.location,
        )
    return context


def unsubscribe_url(patient_id: int, channel: str) -> str:
    token = signing.dumps({"p": patient_id, "c": channel}, salt=UNSUBSCRIBE_SALT)
    return settings.SITE_URL.rstrip("/") + reverse("reminders:unsubscribe", args=[token])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return data.get("p"), data.get("c")


def message_id(reminder: Reminder) -> str:
    # The same for every attempt: a copy sent again after a crash is recognisably the same.
    return f"<reminder-{reminder.pk}-{reminder.key.replace(':', '.')}@{settings.MESSAGE_ID_DOMAIN}>"


def _deliver_email(reminder: Reminder, message: Message, connection) -> str:
    address = reminder.patient.email
    if not address:
        raise PermanentFailure("no email address")
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        to=[address],
        connection=connection,
        headers={
            "Message-ID": message_id(reminder),
            "List-Unsubscribe": f"<{unsubscribe_url(reminder.patient_id, 'email')}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(message.html, "text/html")
    try:
        email.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
        raise PermanentFailure(f"address refused: {error}") from error
    except (smtplib.SMTPException, OSError) as error:  # OSError covers timeouts
        raise TransientFailure(f"mail server: {error}") from error
    return address


def _deliver_sms(reminder: Reminder, message: Message) -> str:
    number = str(reminder.patient.phone or "")
    if not number:
        raise PermanentFailure("no mobile phone number")
    try:
        sms.get_backend().send(to=number, text=message.sms, key=reminder.key)
    except sms.SMSError as error:
        raise (TransientFailure if error.transient else PermanentFailure)(str(error)) from error
    return number


def _finish(
    reminder: Reminder,
    status: str,
    *,
    error: str = "",
    recipient: str = "",
    message: Message | None = None,
) -> str:
    fields = {
        "status": status,
        "lease_until": None,
        "last_error": error[:500],
        "attempts": reminder.attempts + 1,
    }
    if status == ReminderStatus.SENT:
        fields.update(
            sent_at=timezone.now(),
            recipient=recipient,
            subject=message.subject,
            body=message.sms if reminder.channel == "sms" else message.text,
            message_id=message_id(reminder),
        )
    # Only while this worker still holds the row: a lease that ran out belongs to another.
    Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENDING).update(**fields)
    if status == ReminderStatus.FAILED:
        log.warning("reminder %s failed: %s", reminder.pk, error)
    return str(status)


def _retry(reminder: Reminder, error: str) -> str:
    attempts = reminder.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        return _finish(reminder, ReminderStatus.FAILED, error=f"gave up: {error}")
    # Back off 1, 2, 4, 8 minutes: the next claim happens once due_at has passed again.
    Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENDING).update(
        status=ReminderStatus.PENDING,
        lease_until=None,
        attempts=attempts,
        last_error=error[:500],
        due_at=timezone.now() + timedelta(minutes=2 ** (attempts - 1)),
    )
    return "retry"
