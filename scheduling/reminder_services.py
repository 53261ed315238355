"""What the front desk does about a message that never reached the patient: send it again
(after fixing the address, say) or record that it was dealt with some other way (a call)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import STAFF_ROLES
from patients import audit
from patients.models import AuditAction

from . import reminders
from .models import Reminder, ReminderStatus


class MessageError(Exception):
    """Said to the person who asked, as it is."""


def _given_up(reminder_id: int, by: Actor) -> Reminder:
    if by.role not in STAFF_ROLES:
        raise MessageError(_("Only the clinic's staff can do this."))
    # Locked: two people pressing "send again" at once must not both re-queue it.
    reminder = (
        locked(Reminder.objects.select_related("appointment", "patient"), of=("self",))
        .filter(pk=reminder_id)
        .first()
    )
    if reminder is None or reminder.status != ReminderStatus.FAILED or reminder.handled_at:
        raise MessageError(_("This message has already been dealt with."))
    return reminder


def _still_useful_until(reminder: Reminder, now):
    """When a message sent again from now stops being worth sending, or None if it is too
    late already (its appointment is cancelled, moved, or about to start)."""
    appointment = reminder.appointment
    if reminders.still_as_announced(
        reminder,
        status=appointment.status if appointment else None,
        starts_at=appointment.starts_at if appointment else None,
    ):
        return None
    until = reminders.useful_until(
        kind=reminder.kind, due_at=now, appointment_starts=reminder.about_starts_at
    )
    return until if until > now else None


@transaction.atomic(durable=True)
def send_again(*, reminder_id: int, by: Actor) -> Reminder:
    reminder = _given_up(reminder_id, by)
    now = timezone.now()
    until = _still_useful_until(reminder, now)
    if until is None:
        raise MessageError(
            _(
                "It is too late to send this message: the appointment has passed, moved or is "
                "about to start. Call the patient if they still need to hear it."
            )
        )
    before = reminder.last_error
    Reminder.objects.filter(pk=reminder.pk).update(
        status=ReminderStatus.PENDING,
        due_at=now,
        give_up_at=until,
        attempts=0,
        last_error="",
        lease_until=None,
        handled_at=now,
        handled_by=by.user,
    )
    _audit(reminder, by, "send again", before)
    reminder.refresh_from_db()
    return reminder


@transaction.atomic(durable=True)
def mark_handled(*, reminder_id: int, by: Actor) -> Reminder:
    reminder = _given_up(reminder_id, by)
    Reminder.objects.filter(pk=reminder.pk).update(handled_at=timezone.now(), handled_by=by.user)
    _audit(reminder, by, "dealt with", reminder.last_error)
    reminder.refresh_from_db()
    return reminder


def _audit(reminder: Reminder, by: Actor, what: str, error: str) -> None:
    audit.record(
        actor=by,
        patient=reminder.patient,
        action=AuditAction.CHANGE,
        subject=f"message:{reminder.pk}",
        details={"message": reminder.kind, "did": what, "had failed with": error},
    )
