"""The registry of message kinds. The app that owns a kind of message (scheduling's
reminders, treatments' alerts) registers, in its `AppConfig.ready`, how to render it, whether
it is still worth sending when it falls due, and how staff pages describe it. The outbox asks
the registry and knows nothing else about the kind.

A kind is looked up by its exact name, then by its family (the part before the first ":"):
"aftercare:checkout" finds a registration for "aftercare" when there is none of its own.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

# How long after it falls due a message is worth sending, unless its kind says otherwise.
USEFUL_FOR = timedelta(days=3)


class PermanentFailure(Exception):
    """Sending again will not help (no address, refused address, broken template)."""


class TransientFailure(Exception):
    """The server or the network: try again later."""


@dataclass(frozen=True)
class Attachment:
    """A file sent with an email (never with a text message): a calendar invitation, say.
    `params` go on its Content-Type (`{"method": "REQUEST"}` for text/calendar)."""

    filename: str
    content: str
    mimetype: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    sms: str
    unsubscribe_url: str = ""
    # What the outbox keeps as the sent text when `text` holds a secret (a one-time link).
    kept: str = ""
    # Files that go with the email; the outbox keeps their names, not their content.
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class MessageKind:
    """What the outbox needs to know of a kind of message.

    - `label(kind)`: what staff pages call it.
    - `render(message, memo)`: a `Rendered`; may raise PermanentFailure. `memo` is a dict
      that lives for one batch, for what every message of the batch would read again.
    - `reason_not_to_send(message)`: "" to send, or why it is no longer wanted (read fresh,
      just before sending: an appointment cancelled meanwhile is seen).
    - `describe(messages)`: {message id: a short line on what each is about}, for staff
      pages, in one query for a list.
    - `prepare(messages, memo)`: read once what a batch's messages of this kind need.
    - `useful_until(message, due_at)`: until when the message, due at `due_at`, is still
      worth sending (used when staff send a message again);
    - `too_late`: what staff are told when they send again one that is no longer wanted.
    - `purpose(kind)`: which of the patient's choices covers it (`patients.models.Purpose`),
      or "" when none does (a message to staff). The sender checks it with the channel's
      consent, read fresh.
    - `render_safety(message, memo)`: for a message the patient declined (its channel or its
      purpose), what they must still hear for their safety (a `Rendered`, sent in its place),
      or None to send nothing. The default sends nothing.
    """

    label: Callable[[str], str]
    render: Callable
    reason_not_to_send: Callable = field(default=lambda message: "")
    describe: Callable[[list], dict] = field(default=lambda messages: {})
    prepare: Callable[[list, dict], None] = field(default=lambda messages, memo: None)
    useful_until: Callable = field(default=lambda message, due_at: due_at + USEFUL_FOR)
    too_late: str = field(
        default=_(
            "It is too late to send this message: what it was about has changed or passed. "
            "Call the patient if they still need to hear it."
        )
    )
    purpose: Callable[[str], str] = field(default=lambda kind: "")
    render_safety: Callable = field(default=lambda message, memo: None)


_kinds: dict[str, MessageKind] = {}


def register(name: str, kind: MessageKind) -> None:
    """Register `name` (a kind, or a family of kinds before the ":")."""
    _kinds[name] = kind


def get(kind: str) -> MessageKind | None:
    return _kinds.get(kind) or _kinds.get(kind.split(":", 1)[0])


def label(kind: str) -> str:
    found = get(kind)
    return str(found.label(kind)) if found else kind


def describe(messages: Iterable) -> dict[int, str]:
    """{message id: what it is about} for a list of messages, one call per kind registered."""
    by_kind: dict[int, list] = {}
    owners: dict[int, MessageKind] = {}
    for message in messages:
        found = get(message.kind)
        if found is not None:
            by_kind.setdefault(id(found), []).append(message)
            owners[id(found)] = found
    lines: dict[int, str] = {}
    for key, rows in by_kind.items():
        lines.update(owners[key].describe(rows))
    return lines
