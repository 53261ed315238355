"""The waitlist on the patient's side (issue 17, point 3): joining it and leaving it from the
portal, and the page of an offer's link (no login: the token is the key). A GET of the offer
changes nothing (mail scanners follow links); only the button books."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from goodskin.actors import Actor, client_ip
from patients.access import get_own_patient_or_none
from scheduling.forms import WaitlistForm
from scheduling.models import Kind, OfferStatus, WaitlistEntry, WaitlistStatus
from scheduling.services import BookingError, patient_next_session
from scheduling.services import waitlist as service

from . import patient_only
from .link_pages import clinic_phone, speak_the_patients_language


def _kinds(patient) -> list[str]:
    """What a patient may wait for online: a consultation, and their plan's next session when
    the rules let it be booked."""
    upcoming = patient_next_session(patient)
    return (
        [Kind.SESSION, Kind.CONSULTATION]
        if upcoming and not upcoming.refused
        else [Kind.CONSULTATION]
    )


@patient_only
def my_waitlist(request: HttpRequest) -> HttpResponse:
    patient = get_own_patient_or_none(request, subject="portal waitlist")
    if patient is None:
        return render(request, "portal/no_record.html")
    form = WaitlistForm(request.POST or None, kinds=_kinds(patient), for_patient=True)
    if request.method == "POST" and form.is_valid():
        try:
            service.add_to_waitlist(
                patient=patient, wish=form.wish(), by=Actor.from_request(request)
            )
        except BookingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _(
                    "You are on the waitlist. We will send you a message when a time that "
                    "suits you becomes free."
                ),
            )
            return redirect("portal:waitlist")
    entries = WaitlistEntry.objects.filter(patient=patient, status=WaitlistStatus.WAITING)
    context = {"form": form, "entries": entries.select_related("doctor").order_by("pk")}
    return render(request, "portal/waitlist.html", context)


@patient_only
@require_POST
def leave_waitlist(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_own_patient_or_none(request, subject="portal waitlist")
    try:
        service.remove_from_waitlist(entry_id=pk, by=Actor.from_request(request), patient=patient)
    except BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You are no longer on the waitlist for this visit."))
    return redirect("portal:waitlist")


# What the page says of an offer no longer open, by its status.
CLOSED = {
    OfferStatus.WENT: gettext_lazy("This time has gone to someone else."),
    OfferStatus.EXPIRED: gettext_lazy("The time to answer this offer has passed."),
    OfferStatus.WITHDRAWN: gettext_lazy("You are no longer on the waitlist for this visit."),
}


@login_not_required
@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, token: str) -> HttpResponse:
    """The offer (GET), and its answer (POST: book it, or no thanks), then the offer again,
    which now says what became of it."""
    try:
        found = service.find_offer(token)
    except service.OfferNotValid:
        context = {"state": "not_valid", "phone": clinic_phone()}
        return render(request, "portal/waitlist_offer.html", context, status=404)
    speak_the_patients_language(request, found.entry.patient)
    if request.method == "POST":
        if request.POST.get("answer") == "no":
            service.decline_offer(token=token)
        else:
            service.accept_offer(token=token, ip=client_ip(request))
        return redirect(request.path)
    context = {"offer": found, "phone": clinic_phone(found.opening.location.phone)}
    if found.status == OfferStatus.ACCEPTED:
        context.update(state="booked", appointment=found.appointment)
    elif found.status == OfferStatus.DECLINED:
        context["state"] = "declined"
    elif found.status == OfferStatus.WITHDRAWN:
        context.update(state="withdrawn", gone=CLOSED[found.status])
    elif found.status in CLOSED:
        context.update(state="gone", gone=CLOSED[found.status])
    elif found.expires_at <= timezone.now():
        context.update(state="gone", gone=CLOSED[OfferStatus.EXPIRED])
    else:
        context["state"] = "ask"
    return render(request, "portal/waitlist_offer.html", context)
