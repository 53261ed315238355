"""The waitlist's messages (issue 17, point 3): the offer of a freed time, with the link that
books it, and "the time went" to those whose offer was overtaken. Both are the answer to the
patient's own request to be on the list, so no choice of message kind stops them (the channel's
consent still does)."""

from collections.abc import Callable

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from messaging import kinds
from messaging.kinds import MessageKind, PermanentFailure, Rendered

from . import clock
from .models import OfferStatus, OpeningStatus, WaitlistOffer, WaitlistStatus
from .services import waitlist

_page: list[Callable[[str], str]] = []


def register_page(path_for: Callable[[str], str]) -> None:
    """`path_for(token)`: the offer's page (the portal's, registered at start)."""
    _page[:] = [path_for]


def link_for(offer: WaitlistOffer) -> str:
    return settings.SITE_URL.rstrip("/") + _page[0](waitlist.token_for(offer.nonce))


def _offer(message) -> WaitlistOffer | None:
    return (
        WaitlistOffer.objects.select_related(
            "opening__doctor", "opening__location", "entry__patient"
        )
        .filter(pk=message.topic_id)
        .first()
    )


def _context(message, offer: WaitlistOffer) -> dict:
    patient = message.patient
    return {
        "name": patient.preferred_name or patient.legal_first_name,
        "clinic_name": settings.CLINIC_NAME,
        "offer": offer,
        "kind": offer.entry.get_kind_display().lower(),
        "doctor": offer.opening.doctor.get_full_name(),
        "location": offer.opening.location,
    }


def _render_offer(message, memo: dict) -> Rendered:
    offer = _offer(message)
    if offer is None or not _page:
        raise PermanentFailure("cannot render: no offer, or no page to answer it")
    link = link_for(offer)
    with timezone.override(clock.zone(offer.opening.location.time_zone)):
        context = {**_context(message, offer), "link": link}
        text = render_to_string("scheduling/messages/waitlist_offer.txt", context)
        sms = render_to_string("scheduling/messages/waitlist_offer_sms.txt", context).strip()
    hidden = gettext("(the link is not kept)")
    return Rendered(
        subject=gettext("A time has become free for you"),
        text=text,
        html="",
        sms=sms,
        kept=text.replace(link, hidden),
    )


def _render_gone(message, memo: dict) -> Rendered:
    offer = _offer(message)
    if offer is None:
        raise PermanentFailure("cannot render: no offer")
    with timezone.override(clock.zone(offer.opening.location.time_zone)):
        context = _context(message, offer)
        text = render_to_string("scheduling/messages/waitlist_gone.txt", context)
        sms = render_to_string("scheduling/messages/waitlist_gone_sms.txt", context).strip()
    return Rendered(
        subject=gettext("The time we offered you has been taken"), text=text, html="", sms=sms
    )


def _offer_not_to_send(message) -> str:
    offer = (
        WaitlistOffer.objects.filter(pk=message.topic_id).select_related("entry", "opening").first()
    )
    if offer is None:
        return "the offer no longer exists"
    if offer.status != OfferStatus.SENT or offer.entry.status != WaitlistStatus.WAITING:
        return "the offer was answered, withdrawn or overtaken"
    if offer.opening.status == OpeningStatus.CLOSED:
        return "the freed time is not free any more"
    if offer.expires_at <= timezone.now():
        return "the time to answer the offer has passed"
    return ""


def _gone_not_to_send(message) -> str:
    offer = WaitlistOffer.objects.filter(pk=message.topic_id).select_related("entry").first()
    if offer is None or offer.entry.status != WaitlistStatus.WAITING:
        return "the patient is no longer waiting (booked, or off the list)"
    return ""


def register() -> None:
    kinds.register(
        waitlist.OFFER_KIND,
        MessageKind(
            label=lambda kind: _("Waitlist: a freed time offered"),
            render=_render_offer,
            reason_not_to_send=_offer_not_to_send,
            purpose=lambda kind: "",
            useful_until=lambda message, due_at: message.give_up_at,
        ),
    )
    kinds.register(
        waitlist.GONE_KIND,
        MessageKind(
            label=lambda kind: _("Waitlist: the offered time went"),
            render=_render_gone,
            reason_not_to_send=_gone_not_to_send,
            purpose=lambda kind: "",
        ),
    )
