"""The waitlist's staff pages (issue 17, point 3): who waits, in order, with every offer made;
putting a patient on it from their record; taking a wish off; lifting time off (which offers
the time to the waitlist)."""

from datetime import timedelta

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, role_required
from patients import audit
from patients.access import get_patient_for_user
from treatments.models import PlanStatus

from .forms import WaitlistForm
from .models import (
    Kind,
    Opening,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from .services import BookingError
from .services import waitlist as service

staff_only = role_required(*STAFF_ROLES)
# Openings shown: those still to come and those of the last RECENT_DAYS.
RECENT_DAYS = 14
LIST_LIMIT = 200


@staff_only
def waitlist(request: HttpRequest) -> HttpResponse:
    offers = Prefetch(
        "offers", queryset=WaitlistOffer.objects.select_related("entry__patient").order_by("pk")
    )
    waiting = list(
        WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING)
        .select_related("patient", "doctor", "location", "plan")
        .prefetch_related(offers)
        .order_by("pk")[:LIST_LIMIT]
    )
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    openings = list(
        Opening.objects.filter(ends_at__gte=since)
        .select_related("doctor", "location")
        .prefetch_related(offers)
        .order_by("-created_at")[:LIST_LIMIT]
    )
    shown = [entry.patient for entry in waiting]
    shown += [offer.entry.patient for opening in openings for offer in opening.offers.all()]
    audit.record_shown(actor=Actor.from_request(request), patients=shown, subject="waitlist")
    context = {"waiting": waiting, "openings": openings, "recent_days": RECENT_DAYS}
    return render(request, "scheduling/waitlist.html", context)


def _kinds_for(patient) -> list[str]:
    has_plan = patient.treatment_plans.filter(status=PlanStatus.ACTIVE).exists()
    return [k for k in Kind.values if k != Kind.SESSION or has_plan]


@staff_only
def waitlist_add(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, pk, subject="waitlist")
    form = WaitlistForm(request.POST or None, kinds=_kinds_for(patient))
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
                _("%(name)s is on the waitlist. A freed time that fits will be offered to them.")
                % {"name": patient.display_name},
            )
            return redirect(reverse("patients:detail", args=[patient.pk]))
    entries = WaitlistEntry.objects.filter(patient=patient, status=WaitlistStatus.WAITING)
    context = {"patient": patient, "form": form, "entries": entries.select_related("doctor")}
    return render(request, "scheduling/waitlist_add.html", context)


@staff_only
@require_POST
def waitlist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        service.remove_from_waitlist(entry_id=pk, by=Actor.from_request(request))
    except BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Taken off the waitlist."))
    return redirect(reverse("scheduling:waitlist"))


@staff_only
@require_POST
def time_off_lift(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        service.lift_time_off(block_id=pk, by=Actor.from_request(request))
    except BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The time off is lifted. The time is offered to the waitlist."))
    return redirect(reverse("scheduling:time_off"))
