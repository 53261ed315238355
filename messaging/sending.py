"""Sending the outbox: claim due messages, render them, send them, record what happened.

Claiming takes rows with SELECT ... FOR UPDATE SKIP LOCKED and marks them "sending" with a
lease, in a short transaction of its own; sending happens outside any transaction. Each send
is recorded, committed to disk, before the next one starts. A send the database fails to
record is recorded on a new connection as soon as the database is back (tried again while the
lease still holds the row), and the batch stops there: a database restarted or crashed doubles
nothing. Only a worker that dies between a send and its mark (or a database down until the
lease nearly runs out) can make a message arrive twice: at most the one in flight per worker
process, and always with the same Message-ID. A worker that dies mid-batch leaves its rows in
"sending": when the lease runs out they go back to "pending" and are sent then.

A transient failure (the mail server down, refusing, timing out) is tried again with a growing
wait for as long as the message is still useful (`Message.give_up_at`); only a permanent
failure (the address refused) or a passed deadline gives up, and what was given up waits on
the front desk's home for someone to send it again or deal with it. Once the mail server has
failed in a batch, the batch's other emails wait for the same next try instead of each trying
in turn (a server that times out would otherwise hold the batch 30 s a message).

What a kind of message says and whether it is still wanted is its owner's (`kinds`).
"""

import logging
import smtplib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import SafeMIMEText
from django.db import Error as DBError
from django.db import connection, transaction
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone, translation

from goodskin import when
from goodskin.db import locked
from patients.models import Purpose

from . import kinds, sms
from .kinds import Attachment, PermanentFailure, Rendered, TransientFailure
from .models import Channel, Message, MessageStatus

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
# Waits between tries after a transient failure: 1, 2, 4, ... minutes, never more than this.
LONGEST_WAIT = timedelta(minutes=30)
# The last try is put this far before the deadline, so the dispatcher (every minute) can
# still claim it in time.
LAST_TRY_MARGIN = timedelta(minutes=2)
# A "sent" mark the database failed to write is tried again after 0.1 s, 0.2 s, 0.4 s, ...,
# never more than this apart: a database back from a restart has it within about that.
LONGEST_MARK_WAIT = timedelta(seconds=1)
# ... and given up this long before the lease ends: past the lease another worker may take the
# row (a mark then no longer matches it), and workers' clocks may differ by some seconds.
MARK_MARGIN = timedelta(minutes=1)


def release_expired_leases(now=None) -> int:
    """Rows a dead worker left in "sending" go back to the queue."""
    now = now or timezone.now()
    return Message.objects.filter(status=MessageStatus.SENDING, lease_until__lt=now).update(
        status=MessageStatus.PENDING, lease_until=None
    )


def claim(batch: int, now=None, lease: datetime | None = None) -> list[int]:
    """Take up to `batch` due rows for this worker until `lease`; returns their ids."""
    now = now or timezone.now()
    lease = lease or now + LEASE
    with transaction.atomic(durable=True):
        ids = list(
            locked(Message.objects, skip_locked=True, of=("self",))
            .due(now)
            .order_by("due_at", "id")
            .values_list("pk", flat=True)[:batch]
        )
        Message.objects.filter(pk__in=ids).update(status=MessageStatus.SENDING, lease_until=lease)
    return ids


def count_due(now=None) -> int:
    return Message.objects.due(now or timezone.now()).count()


@dataclass
class Batch:
    """Rows one worker holds, the lease it holds them under, and what it reads once for all."""

    ids: list[int]
    lease: datetime
    connection: object
    # What the kinds' renderers read once for the whole batch (see kinds.MessageKind).
    memo: dict = field(default_factory=dict)
    # Once the mail server has failed in this batch, the batch's other emails wait with the
    # message that failed instead of each trying (and each waiting out a timeout) in turn.
    mail_down: tuple[datetime, str] | None = None
    # The SMS backend, made at the batch's first text and kept for the rest of it: one
    # client, one HTTP connection to the provider, not a new connection (and TLS) per text.
    texts: object | None = None

    def sms_backend(self):
        if self.texts is None:
            self.texts = sms.get_backend()
        return self.texts

    def renew_if_needed(self, remaining: list[int]) -> None:
        """Extend the lease before it runs out, so a slow but live worker keeps its rows
        (a row another worker took after a lapse no longer matches the lease, and is skipped
        when its turn comes)."""
        now = timezone.now()
        if now < self.lease - LEASE / 2:
            return
        renewed = now + LEASE
        Message.objects.filter(
            pk__in=remaining, status=MessageStatus.SENDING, lease_until=self.lease
        ).update(lease_until=renewed)
        self.lease = renewed


def send_batch(batch: int = 100) -> dict[str, int]:
    """Claim and send up to `batch` due messages; returns counts by outcome. A database
    error stops the batch at once (raised), once the send it interrupted is recorded if it
    can be (_record_sent): a send this worker cannot record must be its last, or a crash
    could double more than one message."""
    outcome = {"sent": 0, "failed": 0, "retry": 0, "deferred": 0, "cancelled": 0, "skipped": 0}
    lease = timezone.now() + LEASE
    ids = claim(batch, lease=lease)
    if not ids:
        return outcome
    _commits_wait_for_disk()
    # Read once for the batch; what can change meanwhile is read again before each send.
    rows = Message.objects.select_related("patient", "staff").in_bulk(ids)
    # One connection for the batch: a new SMTP session per message was most of the cost.
    work = Batch(ids, lease, get_connection())
    _prepare(rows.values(), work.memo)
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


def _prepare(messages, memo: dict) -> None:
    """Let each kind read what its messages in this batch need, once for all of them."""
    by_kind: dict[int, tuple[kinds.MessageKind, list]] = {}
    for message in messages:
        found = kinds.get(message.kind)
        if found is not None:
            by_kind.setdefault(id(found), (found, []))[1].append(message)
    for kind, group in by_kind.values():
        kind.prepare(group, memo)


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

    merged_into: int | None
    consent_email: bool
    consent_sms: bool
    consent_reminders: bool
    consent_aftercare: bool
    staff_active: bool | None


def _fresh(message: Message, work: Batch) -> Fresh | None:
    """The recipient's facts as they are now, if this worker still holds the row."""
    row = (
        Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING, lease_until=work.lease)
        .values_list(
            "patient__merged_into",
            "patient__consent_email",
            "patient__consent_sms",
            "patient__consent_reminders",
            "patient__consent_aftercare",
            "staff__is_active",
        )
        .first()
    )
    return Fresh(*row) if row else None


def _send_one(message: Message, work: Batch) -> str:
    fresh = _fresh(message, work)
    if fresh is None:
        return "skipped"  # another worker has it now (this one's lease lapsed)
    try:
        kind = kinds.get(message.kind)
        if kind is None:
            raise PermanentFailure(f"unknown kind of message {message.kind!r}")
        skip = _reason_not_to_send(message, fresh, kind)
        if skip:
            return _finish(message, work, MessageStatus.CANCELLED, error=skip)
        declined = _declined(message, fresh, kind)
        rendered = _render_safety(message, kind, work.memo) if declined else None
        if declined and rendered is None:
            return _finish(message, work, MessageStatus.CANCELLED, error=declined)
        if timezone.now() >= message.give_up_at:
            return _finish(message, work, MessageStatus.FAILED, error=_too_late(message))
        if message.channel == Channel.EMAIL and work.mail_down:
            return _wait_for_mail_server(message, work)
        rendered = rendered or render(message, kind, work.memo)
        provider_id = ""
        if message.channel == Channel.SMS:
            recipient, provider_id = _deliver_sms(message, rendered, work)
        else:
            recipient = _deliver_email(message, rendered, work.connection)
    except DBError:
        raise  # nothing can be recorded: stop here (see send_batch)
    except PermanentFailure as error:
        return _finish(message, work, MessageStatus.FAILED, error=str(error))
    except TransientFailure as error:
        work.connection.close()  # start the next message on a fresh session
        outcome, retry_at = _retry(message, work, str(error))
        if message.channel == Channel.EMAIL and retry_at:
            work.mail_down = (retry_at, str(error))
        return outcome
    except Exception as error:  # one bad row must not stop the batch: counted and retried
        log.exception("message %s: unexpected error", message.pk)
        return _retry(message, work, f"unexpected: {error!r}")[0]
    # A safety copy says so on the staff's list of messages: what went out instead, and why.
    note = f"warning signs only: {declined}" if declined else ""
    return _finish(
        message,
        work,
        MessageStatus.SENT,
        recipient=recipient,
        rendered=rendered,
        error=note,
        provider_id=provider_id,
    )


def _too_late(message: Message) -> str:
    with timezone.override(_clinic_zone()):
        reason = f"too late to be useful (after {when.day_and_time(message.give_up_at)})"
    return f"{reason}: {message.last_error}" if message.last_error else reason


def _clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def _reason_not_to_send(message: Message, fresh: Fresh, kind: kinds.MessageKind) -> str:
    """A reason this message should no longer go out, or "" (it is withdrawn, not failed)."""
    if message.address:
        return kind.reason_not_to_send(message)
    if message.staff_id:
        return "" if fresh.staff_active else "staff account no longer active"
    if fresh.merged_into:
        return "patient record merged into another"
    return kind.reason_not_to_send(message)


def _declined(message: Message, fresh: Fresh, kind: kinds.MessageKind) -> str:
    """Why the patient does not want this message (its channel, or its kind), or "". A message
    to an address is one its person just asked for."""
    if message.staff_id or message.address:
        return ""
    if message.channel == Channel.EMAIL and not fresh.consent_email:
        return "no consent to email"
    if message.channel == Channel.SMS and not fresh.consent_sms:
        return "no consent to text messages"
    purpose = kind.purpose(message.kind)
    if purpose == Purpose.REMINDERS and not fresh.consent_reminders:
        return "patient wants no appointment reminders"
    if purpose == Purpose.AFTERCARE and not fresh.consent_aftercare:
        return "patient wants no aftercare advice"
    return ""


def render(message: Message, kind: kinds.MessageKind | None = None, memo=None) -> Rendered:
    """What the message says, as of now, by its kind's renderer. A renderer that cannot
    (a broken template, a step deleted) fails the message for good, not the batch."""
    kind = kind or kinds.get(message.kind)
    if kind is None:
        raise PermanentFailure(f"unknown kind of message {message.kind!r}")
    return _rendering(kind.render, message, memo)


def _render_safety(message: Message, kind: kinds.MessageKind, memo) -> Rendered | None:
    """What a patient who declined this message must still hear for their safety, or None."""
    return _rendering(kind.render_safety, message, memo)


def _rendering(renderer, message: Message, memo):
    try:
        with translation.override(language_of(message)):
            return renderer(message, {} if memo is None else memo)
    except (
        ObjectDoesNotExist,
        TemplateDoesNotExist,
        TemplateSyntaxError,
        LookupError,
        ValueError,
    ) as error:
        raise PermanentFailure(f"cannot render: {error}") from error


def language_of(message: Message) -> str:
    """The language a message is written in: the patient's own (read with the batch, so a
    change made before it counts), else the message's (messaging.models.Message.language),
    else the clinic's."""
    if message.patient_id:
        return message.patient.language
    return message.language or settings.LANGUAGE_CODE


def message_id(message: Message) -> str:
    # The same for every attempt: a copy sent again after a crash is recognisably the same.
    return f"<reminder-{message.pk}-{message.key.replace(':', '.')}@{settings.MESSAGE_ID_DOMAIN}>"


def _deliver_email(message: Message, rendered: Rendered, connection) -> str:
    if message.address:
        address = message.address
    else:
        address = message.patient.email if message.patient_id else message.staff.email
    if not address:
        raise PermanentFailure("no email address")
    headers = {"Message-ID": message_id(message)}
    if rendered.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{rendered.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[address],
        connection=connection,
        headers=headers,
    )
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    for attachment in rendered.attachments:
        email.attach(_mime_part(attachment))
    try:
        email.send()
    except ValueError as error:  # Django refuses to put a malformed address in a header
        raise PermanentFailure(f"invalid address: {error}") from error
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
        raise PermanentFailure(f"address refused: {error}") from error
    except (smtplib.SMTPException, OSError) as error:  # OSError covers timeouts
        raise TransientFailure(f"mail server: {error}") from error
    return address


def _mime_part(attachment: Attachment):
    """A text attachment with its Content-Type parameters (Django's own `attach` has no way
    to say `method=REQUEST`, which calendar programs read to offer "add" or "remove")."""
    basetype, subtype = attachment.mimetype.split("/", 1)
    if basetype != "text":
        raise PermanentFailure(f"cannot attach {attachment.mimetype}: only text is supported")
    part = SafeMIMEText(attachment.content, subtype, "utf-8")
    for name, value in attachment.params:
        part.set_param(name, value)
    part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
    return part


def _deliver_sms(message: Message, rendered: Rendered, work: Batch) -> tuple[str, str]:
    """Send the text; returns the number and the provider's id for the text."""
    number = message.address or (str(message.patient.phone or "") if message.patient_id else "")
    if not number:
        raise PermanentFailure("no mobile phone number")
    try:
        backend = work.sms_backend()
        # An earlier try failed, but may have reached the provider (its answer lost to a
        # timeout): if the provider holds a copy made since this row was, it is not sent again.
        found = ""
        if message.attempts:
            found = backend.find_sent(to=number, text=rendered.sms, since=message.created_at)
        provider_id = found or backend.send(to=number, text=rendered.sms, key=message.key)
    except sms.SMSError as error:
        raise (TransientFailure if error.transient else PermanentFailure)(str(error)) from error
    return number, provider_id


def _finish(
    message: Message,
    work: Batch,
    status: str,
    *,
    error: str = "",
    recipient: str = "",
    rendered: Rendered | None = None,
    provider_id: str = "",
) -> str:
    fields = {
        "status": status,
        "lease_until": None,
        "last_error": error[:500],
        "attempts": message.attempts + 1,
    }
    if status == MessageStatus.SENT:
        fields.update(
            sent_at=timezone.now(),
            recipient=recipient,
            subject=rendered.subject,
            body=_kept_text(message, rendered),
            message_id=message_id(message),
            # A text sent again starts a new trail of receipts.
            provider_id=provider_id,
            delivery_status="",
            delivered_at=None,
        )
    elif status == MessageStatus.CANCELLED:
        fields["attempts"] = message.attempts  # nothing was tried
    if status == MessageStatus.SENT:
        _record_sent(message, work, fields)
    else:
        _record(message, work, fields)
    if status == MessageStatus.FAILED:
        log.warning("message %s failed: %s", message.pk, error)
    return str(status)


def _record(message: Message, work: Batch, fields: dict) -> None:
    # Only while this worker still holds the row: a lease that ran out belongs to another.
    # The same update again changes nothing, so a mark whose commit's answer was lost can be
    # tried again.
    with _durable_commit():
        Message.objects.filter(
            pk=message.pk, status=MessageStatus.SENDING, lease_until=work.lease
        ).update(**fields)


def _record_sent(message: Message, work: Batch, fields: dict) -> None:
    """The mark of a message the mail server or the SMS provider already has. If the database
    fails to take it (restarted, crashed, the connection cut), the mark is tried again on a
    new connection until it is recorded or the lease nears its end. Recorded or not, the error
    is raised then and the batch stops as after any other database error: its other rows go
    out after the lease, a few minutes late, rather than carry on a database that has just
    failed. Given up, the message goes out again once the lease has run out: the one double
    a database fault can still cause."""
    try:
        _record(message, work, fields)
        return
    except DBError as error:
        failure = error
    wait = LONGEST_MARK_WAIT / 10
    while timezone.now() + wait < work.lease - MARK_MARGIN:
        time.sleep(wait.total_seconds())
        wait = min(wait * 2, LONGEST_MARK_WAIT)
        try:
            connection.close()  # a broken connection never comes back: the next query opens one
            _commits_wait_for_disk()  # the new session's commits too
            _record(message, work, fields)
        except DBError:
            continue
        log.warning("message %s: sent, recorded on a new connection after: %s", message.pk, failure)
        raise failure
    log.error("message %s: sent, not recorded (it will go out again): %s", message.pk, failure)
    raise failure


def _kept_text(message: Message, rendered: Rendered) -> str:
    """What the outbox keeps of a sent message: its text, and the names of its attachments."""
    if message.channel == Channel.SMS:
        return rendered.kept or rendered.sms
    text = rendered.kept or rendered.text
    names = ", ".join(attachment.filename for attachment in rendered.attachments)
    return f"{text}\n\n[{names}]" if names else text


def _durable_commit():
    """The transaction of one mark, committed (to disk: see _commits_wait_for_disk) before the
    next message is sent. Durable: called inside another transaction it fails at once, rather
    than hold every mark of the batch back until the end."""
    return transaction.atomic(durable=True)


def wait_before_try(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try: 1, 2, 4, ... minutes, capped."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 10)), LONGEST_WAIT)


def _retry(message: Message, work: Batch, error: str) -> tuple[str, datetime | None]:
    """After a transient failure: try again later, while a try still fits before the
    deadline. Returns the outcome and when the next try is due (None when given up)."""
    attempts = message.attempts + 1
    now = timezone.now()
    last_try = message.give_up_at - LAST_TRY_MARGIN
    if now >= last_try:
        failed = _finish(
            message, work, MessageStatus.FAILED, error=f"gave up, too late to be useful: {error}"
        )
        return failed, None
    retry_at = min(now + wait_before_try(attempts), last_try)
    _back_to_waiting(message, work, due_at=retry_at, error=error, attempts=attempts)
    return "retry", retry_at


def _wait_for_mail_server(message: Message, work: Batch) -> str:
    """An email the batch does not try, because the mail server just failed: it waits for
    the next try of the message that failed (not counted as an attempt of its own)."""
    retry_at, error = work.mail_down
    due_at = min(retry_at, message.give_up_at - LAST_TRY_MARGIN)
    if due_at <= timezone.now():
        return _finish(
            message, work, MessageStatus.FAILED, error=f"gave up, too late to be useful: {error}"
        )
    _back_to_waiting(
        message, work, due_at=due_at, error=f"waiting: {error}", attempts=message.attempts
    )
    return "deferred"


def _back_to_waiting(
    message: Message, work: Batch, *, due_at: datetime, error: str, attempts: int
) -> None:
    with _durable_commit():
        Message.objects.filter(
            pk=message.pk, status=MessageStatus.SENDING, lease_until=work.lease
        ).update(
            status=MessageStatus.PENDING,
            lease_until=None,
            attempts=attempts,
            last_error=error[:500],
            due_at=due_at,
        )
