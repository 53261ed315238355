"""Delivery receipts: the SMS provider tells what became of a text it accepted.

Receipts can come twice or out of order (Twilio posts "sent" and "delivered" separately, and
the network does not keep them in line): a receipt only ever moves a text to a later stage
(models.DELIVERY_STAGE), in one conditional UPDATE, so two receipts at once need no lock.
A text the phone network did not deliver did not reach its patient: it is marked as given up
with the reason, and waits on the front desk's home like any other message that never arrived.
"""

import logging
import re

from django.utils import timezone

from .models import DELIVERY_STAGE, NOT_DELIVERED, DeliveryStatus, Message, MessageStatus

log = logging.getLogger(__name__)

# Twilio's SIDs of a text message: SM (or MM) and 32 hex digits.
PROVIDER_ID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}\Z")
# What Twilio may call a stage that has another name here; any other state (WhatsApp's "read",
# a scheduled text's "canceled") changes nothing.
SAME_STAGE = {"accepted": DeliveryStatus.QUEUED, "scheduled": DeliveryStatus.QUEUED}
# The carriers' reasons Twilio passes on most often (https://www.twilio.com/docs/api/errors).
CARRIER_REASONS = {
    "30003": "the phone is off or out of reach",
    "30004": "the number blocks texts",
    "30005": "unknown number, or it no longer exists",
    "30006": "a landline, or a number that cannot get texts",
    "30007": "the phone network filtered it as spam",
    "30008": "the phone network gave no reason",
    "21610": "the patient replied STOP: the number is unsubscribed from the clinic's texts",
}


def record(*, provider_id: str, status: str, error_code: str = "") -> bool:
    """Record one receipt; returns whether it changed anything (an unknown text, an unknown
    state, a receipt already overtaken by a later one change nothing)."""
    status = SAME_STAGE.get(status, status)
    if not PROVIDER_ID.match(provider_id) or status not in DeliveryStatus.values:
        return False
    earlier = [value for value, stage in DELIVERY_STAGE.items() if stage < DELIVERY_STAGE[status]]
    rows = Message.objects.filter(provider_id=provider_id, delivery_status__in=earlier)
    fields: dict = {"delivery_status": status}
    if status == DeliveryStatus.DELIVERED:
        fields["delivered_at"] = timezone.now()
    if status in NOT_DELIVERED:
        fields.update(
            status=MessageStatus.FAILED,
            last_error=_reason(status, error_code)[:500],
            # Sent again earlier and dealt with then: this failure is new, and needs someone.
            handled_at=None,
            handled_by=None,
        )
        rows = rows.filter(status=MessageStatus.SENT)
    changed = rows.update(**fields)  # one statement: no transaction or lock needed
    if changed and status in NOT_DELIVERED:
        log.warning("text %s not delivered: %s", provider_id, fields["last_error"])
    return bool(changed)


def _reason(status: str, error_code: str) -> str:
    who = "the SMS provider" if status == DeliveryStatus.FAILED else "the phone network"
    code = error_code if error_code.isdigit() and len(error_code) <= 6 else ""
    if not code:
        return f"not delivered ({who} gave no reason)"
    why = CARRIER_REASONS.get(code, "see the provider's error list")
    return f"not delivered ({who}): {why} (error {code})"
