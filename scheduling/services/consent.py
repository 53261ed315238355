"""A patient withdrawing consent to messages on one channel (the unsubscribe link)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.db import locked
from patients import audit
from patients.models import AuditAction, Patient

from ..models import Reminder, ReminderStatus
from .common import BookingError


@transaction.atomic
def withdraw_consent(*, patient: Patient, channel: str, by: Actor) -> None:
    """The patient's unsubscribe link: no more messages on that channel from now on."""
    field = {"email": "consent_email", "sms": "consent_sms"}.get(channel)
    if field is None:
        raise BookingError(_("Unknown channel."))
    patient = locked(Patient.objects).get(pk=patient.pk)
    if not getattr(patient, field):
        return
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
    Reminder.objects.filter(patient=patient, channel=channel, status=ReminderStatus.PENDING).update(
        status=ReminderStatus.CANCELLED, last_error="patient unsubscribed"
    )
