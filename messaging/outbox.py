"""Writing the outbox: the one way other apps put a message in it or take one back out.

Every call runs inside the caller's transaction (a booking that rolls back leaves no message;
a cancelled appointment leaves none pending). The key makes each message once: writing a key
again re-times a message still waiting, and leaves one that went out (or is going out) as it
is.
"""

from dataclasses import dataclass, fields
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation

from goodskin.db import locked
from patients.models import Purpose

from .models import Channel, Message, MessageStatus

UNSUBSCRIBE_SALT = "goodskin.unsubscribe"


@dataclass(frozen=True)
class Draft:
    """A message to write: to a patient, to a member of staff or to an address (exactly one of
    the three; an address only for a message its person just asked for)."""

    key: str
    kind: str
    due_at: datetime
    give_up_at: datetime
    patient: object = None
    staff: object = None
    address: str = ""
    channel: str = Channel.EMAIL
    topic: str = ""
    topic_id: int | None = None
    announced_at: datetime | None = None
    # The language to write it in when it is not to a patient (whose own language counts).
    language: str = ""

    def values(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "key"}
        values.update(status=MessageStatus.PENDING, attempts=0, last_error="", lease_until=None)
        # To an address: its person just asked for it, on a page in the language they read.
        if self.address and not self.language:
            values["language"] = translation.get_language()
        return values


def channel_for(patient) -> str:
    """The patient's preferred channel; the dispatcher checks consent again when sending."""
    return Channel(patient.reminder_channel)


def put(draft: Draft) -> None:
    """Create the message `draft.key`, or re-time it if it is still waiting (or withdrawn).
    The row lock keeps a re-timing from putting back in the queue a message that a worker
    claimed meanwhile (it would go out twice); two first writers meet on the unique key."""
    values = draft.values()
    existing = locked(Message.objects.filter(key=draft.key)).first()
    if existing is None:
        Message.objects.create(key=draft.key, **values)
    elif existing.status in (MessageStatus.PENDING, MessageStatus.CANCELLED):
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()


def put_new(drafts: list[Draft]) -> None:
    """Messages whose keys cannot exist yet (they name rows inserted in this very
    transaction), in one INSERT."""
    Message.objects.bulk_create(Message(key=d.key, **d.values()) for d in drafts)


def withdraw(
    *,
    topic: str,
    topic_id: int,
    reason: str,
    kinds=None,
    unless_announcing: datetime | None = None,
    except_family: str = "",
) -> int:
    """Take back the waiting messages about one row of the caller's (of `kinds` if given;
    those announcing `unless_announcing`, and those of the family `except_family`, stay).
    Returns how many."""
    rows = Message.objects.about(topic, topic_id).pending()
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    if except_family:
        rows = rows.exclude(kind__startswith=f"{except_family}:")
    if unless_announcing is not None:
        rows = rows.exclude(announced_at=unless_announcing)
    return rows.update(status=MessageStatus.CANCELLED, last_error=reason)


def hold_waiting(*, topic: str, topic_id: int, kinds) -> bool:
    """Whether a message of `kinds` about one row of the caller's is still waiting; if so it
    stays locked until the caller commits, so no worker claims it and sends what it says
    before the caller's change is seen (a worker renders a message after claiming it)."""
    rows = Message.objects.about(topic, topic_id).pending().filter(kind__in=list(kinds))
    return bool(list(locked(rows, of=("self",)).values_list("pk", flat=True)))


def withdraw_keys(keys: list[str], *, reason: str) -> int:
    return Message.objects.filter(key__in=keys, status=MessageStatus.PENDING).update(
        status=MessageStatus.CANCELLED, last_error=reason
    )


def about(topic: str, topic_id: int):
    """The messages about one row of the caller's, for its pages and tests."""
    return Message.objects.about(topic, topic_id)


def topic_ids(topic: str, *, kind: str):
    """Ids of the caller's rows that have a message of `kind` (a subquery, for `exclude`)."""
    return Message.objects.filter(topic=topic, kind=kind).values("topic_id")


def unsubscribe_url(patient_id: int, channel: str, purpose: str) -> str:
    """The link in a message that stops messages of its `purpose` (patients.models.Purpose)
    for the patient; `channel` only says how it reached them."""
    token = signing.dumps(
        {"p": patient_id, "c": str(channel), "k": str(purpose)}, salt=UNSUBSCRIBE_SALT
    )
    return settings.SITE_URL.rstrip("/") + reverse("messaging:unsubscribe", args=[token])


@dataclass(frozen=True)
class UnsubscribeLink:
    patient_id: int
    channel: str
    # What the link stops. Links sent before messages had kinds carry none: they stop
    # appointment reminders only, never aftercare advice and its warning signs.
    purpose: str


def read_unsubscribe_token(token: str) -> UnsubscribeLink | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    purpose = data.get("k") if data.get("k") in Purpose.values else Purpose.REMINDERS
    return UnsubscribeLink(data.get("p"), data.get("c"), purpose)
