"""The email that confirms an online booking request (issue 15, point 1): a link, sent to the
address the person gave (they are not a patient yet), worth sending while the request is.

The link's token is derived from the request's nonce with the site's secret key, so a retried
email carries the same link and the database holds no working link: the request keeps the
token's hash, and the outbox keeps the text without it (`Rendered.kept`)."""

from collections.abc import Callable

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from goodskin import tokens
from messaging import kinds, outbox
from messaging.kinds import MessageKind, PermanentFailure, Rendered
from patients.models import Channel

from . import clock
from .models import BookingRequest, BookingStatus

KIND = "online_booking_link"
TOPIC = "booking_request"
SALT = "goodskin.online_booking"

_confirm: list[Callable[[str], str]] = []


def register_confirm_path(path_for: Callable[[str], str]) -> None:
    """`path_for(token)`: the page that confirms a request (the portal's, registered at start:
    this app cannot name the portal's pages)."""
    _confirm[:] = [path_for]


def token_for(nonce) -> str:
    return tokens.from_nonce(SALT, nonce)


def queue(request: BookingRequest) -> None:
    """In the request's transaction: the link, at once, while the request lasts."""
    outbox.put(
        outbox.Draft(
            key=f"online:{request.pk}",
            kind=KIND,
            address=request.email,
            channel=Channel.EMAIL,
            due_at=timezone.now(),
            give_up_at=request.expires_at,
            topic=TOPIC,
            topic_id=request.pk,
        )
    )


def _request(message) -> BookingRequest | None:
    return BookingRequest.objects.filter(pk=message.topic_id).first()


def _render(message, memo: dict) -> Rendered:
    request = _request(message)
    if request is None or not _confirm:
        raise PermanentFailure("cannot render: no request, or no page to confirm it")
    token = token_for(request.nonce)
    context = {
        "name": request.legal_first_name,
        "clinic_name": settings.CLINIC_NAME,
        "starts": request.starts_at.astimezone(clock.zone()),
        "link": settings.SITE_URL.rstrip("/") + _confirm[0](token),
    }
    text = render_to_string("scheduling/messages/online_booking_link.txt", context)
    return Rendered(
        subject=gettext("Confirm your consultation request"),
        text=text,
        html="",
        sms="",
        kept=text.replace(token, gettext("(the one-time link is not kept)")),
    )


def _reason_not_to_send(message) -> str:
    request = _request(message)
    if request is None or request.status != BookingStatus.PENDING:
        return "the request is no longer waiting for its link"
    return ""


def register() -> None:
    kinds.register(
        KIND,
        MessageKind(
            label=lambda kind: _("Link to confirm an online booking"),
            render=_render,
            reason_not_to_send=_reason_not_to_send,
        ),
    )
