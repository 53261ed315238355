"""Sending the outbox: claim due reminders, render them, send them, record what happened.

Claiming takes rows with SELECT ... FOR UPDATE SKIP LOCKED and marks them "sending" with a
lease, in a short transaction of its own; sending happens outside any transaction. Each send
is recorded, committed to disk, before the next one starts, and a worker that cannot record a
send stops sending: a crash of any part (worker, database, broker) can make at most the one
message in flight per worker process arrive twice, and always with the same Message-ID. A
worker that dies mid-batch leaves its rows in "sending": when the lease runs out they go back
to "pending" and are sent then.

A transient failure (the mail server down, refusing, timing out) is tried again with a growing
wait for as long as the message is still useful (`Reminder.give_up_at`); only a permanent
failure (the address refused) or a passed deadline gives up, and what was given up waits on
the front desk's home for someone to send it again or deal with it. Once the mail server has
failed in a batch, the batch's other emails wait for the same next try instead of each trying
in turn (a server that times out would otherwise hold the batch 30 s a message).
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import Error as DBError
from django.db import connection, transaction
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from goodskin.db import locked
from treatments.models import AftercareStep, PlanStatus
from treatments.selectors import get_clinic_settings

from . import clock, reminders, sms
from .models import Appointment, Reminder, ReminderStatus, Status

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
# Waits between tries after a transient failure: 1, 2, 4, ... minutes, never more than this.
LONGEST_WAIT = timedelta(minutes=30)
# The last try is put this far before the deadline, so the dispatcher (every minute) can
# still claim it in time.
LAST_TRY_MARGIN = timedelta(minutes=2)
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
    unsubscribe_url: str = ""


def release_expired_leases(now=None) -> int:
    """Rows a dead worker left in "sending" go back to the queue."""
    now = now or timezone.now()
    return Reminder.objects.filter(status=ReminderStatus.SENDING, lease_until__lt=now).update(
        status=ReminderStatus.PENDING, lease_until=None
    )


def claim(batch: int, now=None, lease: datetime | None = None) -> list[int]:
    """Take up to `batch` due rows for this worker until `lease`; returns their ids."""
    now = now or timezone.now()
    lease = lease or now + LEASE
    with transaction.atomic(durable=True):
        ids = list(
            locked(Reminder.objects, skip_locked=True, of=("self",))
            .due(now)
            .order_by("due_at", "id")
            .values_list("pk", flat=True)[:batch]
        )
        Reminder.objects.filter(pk__in=ids).update(status=ReminderStatus.SENDING, lease_until=lease)
    return ids


def count_due(now=None) -> int:
    return Reminder.objects.due(now or timezone.now()).count()


@dataclass
class Batch:
    """Rows one worker holds, the lease it holds them under, and what it reads once for all."""

    ids: list[int]
    lease: datetime
    clinic: object
    connection: object
    # Once the mail server has failed in this batch, the batch's other emails wait with the
    # message that failed instead of each trying (and each waiting out a timeout) in turn.
    mail_down: tuple[datetime, str] | None = None

    def renew_if_needed(self, remaining: list[int]) -> None:
        """Extend the lease before it runs out, so a slow but live worker keeps its rows
        (a row another worker took after a lapse no longer matches the lease, and is skipped
        when its turn comes)."""
        now = timezone.now()
        if now < self.lease - LEASE / 2:
            return
        renewed = now + LEASE
        Reminder.objects.filter(
            pk__in=remaining, status=ReminderStatus.SENDING, lease_until=self.lease
        ).update(lease_until=renewed)
        self.lease = renewed


def send_batch(batch: int = 100) -> dict[str, int]:
    """Claim and send up to `batch` due reminders; returns counts by outcome. A database
    error stops the batch at once (raised): a send this worker cannot record must be its
    last, or a crash could double more than one message."""
    outcome = {"sent": 0, "failed": 0, "retry": 0, "deferred": 0, "cancelled": 0, "skipped": 0}
    lease = timezone.now() + LEASE
    ids = claim(batch, lease=lease)
    if not ids:
        return outcome
    _commits_wait_for_disk()
    # Read once for the batch; what can change meanwhile is read again before each send.
    rows = Reminder.objects.select_related(
        "patient", "appointment__location", "appointment__doctor", "plan"
    ).in_bulk(ids)
    # One connection for the batch: a new SMTP session per message was most of the cost.
    work = Batch(ids, lease, get_clinic_settings(), get_connection())
    _open(work.connection)
    try:
        for index, pk in enumerate(ids):
            work.renew_if_needed(ids[index:])
            outcome[_send_one(rows[pk], work)] += 1
    finally:
        work.connection.close()
    return outcome


def _commits_wait_for_disk() -> None:
    """Each "sent" mark must survive a crash of PostgreSQL itself, or the message goes out
    again: this connection's commits wait for the disk, whatever the server's default."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO ON")


def _open(connection) -> None:
    """Open the mail connection for the batch if the server answers; if not, each message
    tries on its own and is retried on its own (an unreachable server is transient)."""
    try:
        connection.open()
    except (smtplib.SMTPException, OSError):
        connection.close()


@dataclass(frozen=True)
class Fresh:
    """What may have changed since the batch was claimed, read again just before a send."""

    appointment_status: str | None
    appointment_starts_at: datetime | None
    plan_status: str | None
    merged_into: int | None
    consent_email: bool
    consent_sms: bool


def _fresh(reminder: Reminder, work: Batch) -> Fresh | None:
    """The facts a send depends on as they are now, if this worker still holds the row (an
    appointment cancelled or moved while the batch waited is seen before sending)."""
    row = (
        Reminder.objects.filter(
            pk=reminder.pk, status=ReminderStatus.SENDING, lease_until=work.lease
        )
        .values_list(
            "appointment__status",
            "appointment__starts_at",
            "plan__status",
            "patient__merged_into",
            "patient__consent_email",
            "patient__consent_sms",
        )
        .first()
    )
    return Fresh(*row) if row else None


def _send_one(reminder: Reminder, work: Batch) -> str:
    fresh = _fresh(reminder, work)
    if fresh is None:
        return "skipped"  # another worker has it now (this one's lease lapsed)
    try:
        skip = _reason_not_to_send(reminder, fresh)
        if skip:
            return _finish(reminder, work, ReminderStatus.CANCELLED, error=skip)
        if timezone.now() >= reminder.give_up_at:
            return _finish(reminder, work, ReminderStatus.FAILED, error=_too_late(reminder))
        if reminder.channel == "email" and work.mail_down:
            return _wait_for_mail_server(reminder, work)
        message = render(reminder, clinic=work.clinic)
        if reminder.channel == "sms":
            recipient = _deliver_sms(reminder, message)
        else:
            recipient = _deliver_email(reminder, message, work.connection)
    except DBError:
        raise  # nothing can be recorded: stop here (see send_batch)
    except PermanentFailure as error:
        return _finish(reminder, work, ReminderStatus.FAILED, error=str(error))
    except TransientFailure as error:
        work.connection.close()  # start the next message on a fresh session
        outcome, retry_at = _retry(reminder, work, str(error))
        if reminder.channel == "email" and retry_at:
            work.mail_down = (retry_at, str(error))
        return outcome
    except Exception as error:  # one bad row must not stop the batch: counted and retried
        log.exception("reminder %s: unexpected error", reminder.pk)
        return _retry(reminder, work, f"unexpected: {error!r}")[0]
    return _finish(reminder, work, ReminderStatus.SENT, recipient=recipient, message=message)


def _too_late(reminder: Reminder) -> str:
    local = timezone.localtime(reminder.give_up_at, clock.zone())
    reason = f"too late to be useful (after {local:%Y-%m-%d %H:%M})"
    return f"{reason}: {reminder.last_error}" if reminder.last_error else reason


def _reason_not_to_send(reminder: Reminder, fresh: Fresh) -> str:
    """A reason this reminder should no longer go out, or "" (it is withdrawn, not failed)."""
    if fresh.merged_into:
        return "patient record merged into another"
    changed = reminders.still_as_announced(
        reminder, status=fresh.appointment_status, starts_at=fresh.appointment_starts_at
    )
    if changed:
        return changed
    plan = fresh.plan_status
    if reminder.kind == reminders.TOUCH_UP and plan and plan != PlanStatus.COMPLETED:
        return "plan no longer completed"
    if reminder.kind == reminders.BOOK_NEXT:
        if plan and plan != PlanStatus.ACTIVE:
            return "plan no longer active"
        if _next_session_booked(reminder):
            return "next session already booked"
    if reminder.channel == "email" and not fresh.consent_email:
        return "no consent to email"
    if reminder.channel == "sms" and not fresh.consent_sms:
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


# Which message templates a kind of reminder uses; any other kind fails rather than going out
# dressed as something else.
TEMPLATES = {
    reminders.FIRST: "appointment",
    reminders.SECOND: "appointment",
    reminders.TOUCH_UP: "touch_up",
}


def render(reminder: Reminder, clinic=None) -> Message:
    """Subject, plain text, HTML and SMS text of a reminder, as of now, with times in the
    clinic's zone (template date filters use the active zone, which is UTC in a worker)."""
    location = reminder.appointment.location if reminder.appointment_id else None
    with timezone.override(clock.zone(location.time_zone if location else None)):
        try:
            return _render(reminder, clinic or get_clinic_settings())
        except (
            AftercareStep.DoesNotExist,
            TemplateDoesNotExist,
            TemplateSyntaxError,
            LookupError,
            ValueError,
        ) as error:
            raise PermanentFailure(f"cannot render: {error}") from error


def _render(reminder: Reminder, clinic) -> Message:
    context = _context(reminder, clinic)
    if reminder.kind.startswith(reminders.AFTERCARE_PREFIX):
        step = AftercareStep.objects.get(key=reminder.kind.removeprefix(reminders.AFTERCARE_PREFIX))
        if not step.email_subject.strip():
            raise PermanentFailure(f"cannot render: aftercare step {step.key!r} has no subject")
        context.update(
            subject=step.email_subject,
            text=step.email_body.strip(),
            sms=step.sms_text.strip(),
            aftercare=True,
        )
        template = "aftercare"
    elif reminder.kind in TEMPLATES:
        template = TEMPLATES[reminder.kind]
        if template == "appointment" and not reminder.appointment_id:
            raise PermanentFailure("cannot render: an appointment reminder without appointment")
    else:
        raise PermanentFailure(f"unknown reminder kind {reminder.kind!r}")
    subject = (
        context.get("subject")
        or render_to_string(f"scheduling/messages/{template}_subject.txt", context).strip()
    )
    context["subject"] = subject
    return Message(
        unsubscribe_url=context["unsubscribe_url"],
        subject=subject,
        text=render_to_string(f"scheduling/messages/{template}.txt", context),
        html=render_to_string(f"scheduling/messages/{template}.html", context),
        sms=render_to_string(f"scheduling/messages/{template}_sms.txt", context).strip(),
    )


def _context(reminder: Reminder, clinic) -> dict:
    patient = reminder.patient
    context = {
        "name": patient.preferred_name or patient.legal_first_name,
        "clinic_name": settings.CLINIC_NAME,
        "warning_signs": clinic.warning_signs.strip(),
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
            "List-Unsubscribe": f"<{message.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(message.html, "text/html")
    try:
        email.send()
    except ValueError as error:  # Django refuses to put a malformed address in a header
        raise PermanentFailure(f"invalid address: {error}") from error
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
    work: Batch,
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
    elif status == ReminderStatus.CANCELLED:
        fields["attempts"] = reminder.attempts  # nothing was tried
    # Only while this worker still holds the row: a lease that ran out belongs to another.
    with _durable_commit():
        Reminder.objects.filter(
            pk=reminder.pk, status=ReminderStatus.SENDING, lease_until=work.lease
        ).update(**fields)
    if status == ReminderStatus.FAILED:
        log.warning("reminder %s failed: %s", reminder.pk, error)
    return str(status)


def _durable_commit():
    """The transaction of one mark, committed (to disk: see _commits_wait_for_disk) before the
    next message is sent. Durable: called inside another transaction it fails at once, rather
    than hold every mark of the batch back until the end."""
    return transaction.atomic(durable=True)


def wait_before_try(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try: 1, 2, 4, ... minutes, capped."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 10)), LONGEST_WAIT)


def _retry(reminder: Reminder, work: Batch, error: str) -> tuple[str, datetime | None]:
    """After a transient failure: try again later, while a try still fits before the
    deadline. Returns the outcome and when the next try is due (None when given up)."""
    attempts = reminder.attempts + 1
    now = timezone.now()
    last_try = reminder.give_up_at - LAST_TRY_MARGIN
    if now >= last_try:
        failed = _finish(
            reminder, work, ReminderStatus.FAILED, error=f"gave up, too late to be useful: {error}"
        )
        return failed, None
    retry_at = min(now + wait_before_try(attempts), last_try)
    _back_to_waiting(reminder, work, due_at=retry_at, error=error, attempts=attempts)
    return "retry", retry_at


def _wait_for_mail_server(reminder: Reminder, work: Batch) -> str:
    """An email the batch does not try, because the mail server just failed: it waits for
    the next try of the message that failed (not counted as an attempt of its own)."""
    retry_at, error = work.mail_down
    due_at = min(retry_at, reminder.give_up_at - LAST_TRY_MARGIN)
    if due_at <= timezone.now():
        return _finish(
            reminder, work, ReminderStatus.FAILED, error=f"gave up, too late to be useful: {error}"
        )
    _back_to_waiting(
        reminder, work, due_at=due_at, error=f"waiting: {error}", attempts=reminder.attempts
    )
    return "deferred"


def _back_to_waiting(
    reminder: Reminder, work: Batch, *, due_at: datetime, error: str, attempts: int
) -> None:
    with _durable_commit():
        Reminder.objects.filter(
            pk=reminder.pk, status=ReminderStatus.SENDING, lease_until=work.lease
        ).update(
            status=ReminderStatus.PENDING,
            lease_until=None,
            attempts=attempts,
            last_error=error[:500],
            due_at=due_at,
        )
