"""What people do to messages: the patient stops a kind of message (the unsubscribe link),
the front desk sends again a message that never arrived (after fixing the address, say) or
records that it was dealt with some other way (a call)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import STAFF_ROLES
from patients import audit
from patients.models import PURPOSE_CONSENTS, AuditAction, Patient

from . import kinds
from .models import Message, MessageStatus


class MessageError(Exception):
    """Said to the person who asked, as it is."""


@transaction.atomic
def unsubscribe(*, patient: Patient, purpose: str, by: Actor) -> bool:
    """The patient's unsubscribe link: no more messages of `purpose` (appointment reminders,
    or aftercare advice) from now on, on any channel. The channels and the other kind of
    message stay as they are; messages already waiting are checked when they fall due (so
    turning the choice back on before then brings them back). Returns whether it changed."""
    field = PURPOSE_CONSENTS.get(purpose)
    if field is None:
        raise MessageError(_("Unknown kind of message."))
    # Locked: the portal's preferences form may be saving the same patient right now.
    patient = locked(Patient.objects).get(pk=patient.pk)
    if not getattr(patient, field):
        return False
    setattr(patient, field, False)
    setattr(patient, f"{field}_on", timezone.localdate())
    patient.version += 1
    patient.save(update_fields=[field, f"{field}_on", "version"])
    audit.record(
        actor=by,
        patient=patient,
        action=AuditAction.CHANGE,
        subject="patient",
        details={
            "version": patient.version,
            "fields": {field: ["True", "False"]},
            "via": "unsubscribe link",
        },
    )
    return True


def move_patient_messages(*, keep: Patient, duplicate: Patient) -> dict[str, int]:
    """A merge (patients.merging): the duplicate's messages follow the kept record (those
    still waiting go out to it). Runs in the merge's transaction."""
    moved = Message.objects.filter(patient=duplicate).update(patient=keep)
    return {Message._meta.label: moved}


def _given_up(message_id: int, by: Actor) -> Message:
    if by.role not in STAFF_ROLES:
        raise MessageError(_("Only the clinic's staff can do this."))
    # Locked: two people pressing "send again" at once must not both re-queue it.
    message = (
        locked(Message.objects.select_related("patient"), of=("self",))
        .filter(pk=message_id, patient__isnull=False)
        .first()
    )
    if message is None or message.status != MessageStatus.FAILED or message.handled_at:
        raise MessageError(_("This message has already been dealt with."))
    return message


def _still_useful_until(message: Message, now):
    """When a message sent again from now stops being worth sending, or None if it is too
    late already (its kind says it is no longer wanted, or its time is up)."""
    kind = kinds.get(message.kind)
    if kind is None or kind.reason_not_to_send(message):
        return None
    until = kind.useful_until(message, now)
    return until if until > now else None


@transaction.atomic(durable=True)
def send_again(*, message_id: int, by: Actor) -> Message:
    message = _given_up(message_id, by)
    now = timezone.now()
    until = _still_useful_until(message, now)
    if until is None:
        kind = kinds.get(message.kind)
        raise MessageError(str(kind.too_late if kind else kinds.MessageKind.too_late))
    before = message.last_error
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.PENDING,
        due_at=now,
        give_up_at=until,
        attempts=0,
        last_error="",
        lease_until=None,
        handled_at=now,
        handled_by=by.user,
    )
    _audit(message, by, "send again", before)
    message.refresh_from_db()
    return message


@transaction.atomic(durable=True)
def mark_handled(*, message_id: int, by: Actor) -> Message:
    message = _given_up(message_id, by)
    Message.objects.filter(pk=message.pk).update(handled_at=timezone.now(), handled_by=by.user)
    _audit(message, by, "dealt with", message.last_error)
    message.refresh_from_db()
    return message


def _audit(message: Message, by: Actor, what: str, error: str) -> None:
    audit.record(
        actor=by,
        patient=message.patient,
        action=AuditAction.CHANGE,
        subject=f"message:{message.pk}",
        details={"message": message.kind, "did": what, "had failed with": error},
    )
