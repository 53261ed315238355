"""The outbox: every message to a patient or a staff member is a row here until it is sent.

This app knows no appointments or plans. The app that owns a kind of message writes the rows
(`messaging.outbox`) inside its own transaction, names what they are about (`topic`,
`topic_id`: its own words and ids) and registers how to render the kind and whether it is
still worth sending (`messaging.kinds`).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patients.models import Channel, Patient

from .kinds import label as kind_label

User = settings.AUTH_USER_MODEL


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    # Given up: the address was refused, or it could not go out while still useful.
    FAILED = "failed", _("Did not reach the patient")
    # Withdrawn: no longer wanted (cancelled, moved, no consent).
    CANCELLED = "cancelled", _("Not sent")


class DeliveryStatus(models.TextChoices):
    """What the SMS provider's delivery receipts say of a text it accepted."""

    QUEUED = "queued", _("Queued at the provider")
    SENDING = "sending", _("Being sent by the provider")
    SENT = "sent", _("Handed to the phone network")
    DELIVERED = "delivered", _("Delivered to the phone")
    UNDELIVERED = "undelivered", _("Not delivered by the phone network")
    FAILED = "failed", _("Not sent by the provider")


# Receipts can arrive out of order or twice: a receipt only moves a text to a later stage.
# The last three are final: none of them follows another.
DELIVERY_STAGE = {
    "": 0,
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.SENDING: 2,
    DeliveryStatus.SENT: 3,
    DeliveryStatus.DELIVERED: 4,
    DeliveryStatus.UNDELIVERED: 4,
    DeliveryStatus.FAILED: 4,
}
NOT_DELIVERED = (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)


class MessageQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=MessageStatus.PENDING, due_at__lte=now)

    def pending(self):
        return self.filter(status=MessageStatus.PENDING)

    def given_up(self):
        """Messages that never reached a patient and that no one has dealt with yet."""
        return self.filter(
            status=MessageStatus.FAILED, handled_at__isnull=True, patient__isnull=False
        )

    def about(self, topic: str, topic_id: int):
        return self.filter(topic=topic, topic_id=topic_id)


class Message(models.Model):
    """A message to a patient, a staff member or an address (someone who is neither yet: a
    person booking online confirms their request from it), kept as a row until it is sent.
    `key` makes each message once: the owner builds it from what the message is about and its
    kind."""

    key = models.CharField(max_length=80, unique=True)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    staff = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # An email address or a mobile number (by `channel`) of a person who asked for this very
    # message: they have no record whose consents could say no.
    address = models.CharField(max_length=254, blank=True)
    # The language of a message that is not to a patient (a patient's are in the language on
    # their record, read when sending): an address's is the page's its person asked on, a
    # password reset link's its owner's; blank (staff's messages): the clinic's, English.
    language = models.CharField(max_length=10, blank=True)
    kind = models.CharField(max_length=40)
    # The patient's channels (patients.models.Channel); staff are emailed.
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # What the message is about, in the owning app's words ("appointment", 42): the owner
    # finds its messages again by it (to withdraw them, or to check them before sending).
    topic = models.CharField(max_length=20, blank=True)
    topic_id = models.PositiveBigIntegerField(null=True, blank=True)
    due_at = models.DateTimeField()
    # After this the message is no longer worth sending: transient failures are retried until
    # then (an appointment reminder until shortly before the appointment, aftercare for days).
    give_up_at = models.DateTimeField()
    # The time of the event the message announces, as it was when written: the owner
    # compares it with the event's time now (a moved appointment gets new reminders).
    announced_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # A claimed row belongs to one worker until then; after it, another may take it.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # What was sent, exactly as sent.
    recipient = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    # The SMS provider's id of the text it accepted (Twilio's SID): its receipts name it.
    provider_id = models.CharField(max_length=64, blank=True)
    # The provider's latest delivery receipt, and when it said the text reached the phone.
    delivery_status = models.CharField(max_length=12, choices=DeliveryStatus.choices, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # A message given up stays on the front desk's home until someone sends it again or says
    # it was dealt with (a phone call, say).
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The dispatcher: pending rows whose time has come, oldest first.
            models.Index(
                fields=["due_at"],
                name="reminder_pending_due_idx",
                condition=models.Q(status=MessageStatus.PENDING),
            ),
            # Releasing rows whose lease ran out.
            models.Index(
                fields=["lease_until"],
                name="reminder_sending_lease_idx",
                condition=models.Q(status=MessageStatus.SENDING),
            ),
            # The staff view of a patient's messages.
            models.Index(fields=["patient", "-due_at"], name="reminder_patient_idx"),
            # The front desk's list of messages that never reached a patient.
            models.Index(
                fields=["-due_at"],
                name="reminder_given_up_idx",
                condition=models.Q(status=MessageStatus.FAILED, handled_at__isnull=True),
            ),
            # The owner finding its messages about one of its rows (withdraw on cancel, move).
            models.Index(fields=["topic", "topic_id"], name="message_topic_idx"),
            # The reports' messages sent and failed by the week they fell due
            # (reports.queries.messages): without it every message was read, or, for one
            # doctor, every appointment of theirs ever (bench/reports.py: 731 ms for two years).
            models.Index(fields=["due_at"], name="message_due_idx"),
            # A delivery receipt finding its text by the provider's id.
            models.Index(
                fields=["provider_id"],
                name="message_provider_id_idx",
                condition=~models.Q(provider_id=""),
            ),
        ]
        constraints = [
            # To exactly one person: a patient, a member of staff or an address.
            models.CheckConstraint(
                condition=models.Q(patient__isnull=False, staff__isnull=True, address="")
                | models.Q(patient__isnull=True, staff__isnull=False, address="")
                | models.Q(patient__isnull=True, staff__isnull=True) & ~models.Q(address=""),
                name="message_one_recipient",
            ),
        ]

    def __str__(self) -> str:
        if self.patient_id:
            to = f"patient {self.patient_id}"
        else:
            to = f"staff {self.staff_id}" if self.staff_id else "an address"
        return f"{self.kind} for {to} at {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)
