"""The patient's calendar subscription: the page with their private link, and the feed that
calendar apps read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from patients.access import get_own_patient
from scheduling import feed_services, selectors
from scheduling.access import get_calendar_feed

from .. import ical
from . import patient_only


@patient_only
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """Show the private subscription link; POST makes a new one (the old one stops)."""
    patient = get_own_patient(request, subject="calendar feed")
    if request.method == "POST":
        had_one = selectors.active_calendar_feed(patient) is not None
        feed_services.new_calendar_feed(patient=patient)
        if had_one:
            messages.success(
                request, _("You have a new calendar link. The old one no longer works.")
            )
        else:
            messages.success(request, _("Your calendar link is ready."))
        return redirect("portal:calendar")
    feed = selectors.active_calendar_feed(patient)
    url = request.build_absolute_uri(reverse("portal:feed", args=[feed.token])) if feed else ""
    context = {"feed": feed, "url": url, "webcal": webcal_url(url)}
    return render(request, "portal/calendar.html", context)


def webcal_url(url: str) -> str:
    """The feed's address for the Subscribe button: webcal:// opens the phone's calendar app
    on subscribing (iOS, macOS, most Android calendars), with the same host and token path."""
    scheme, sep, rest = url.partition("://")
    return f"webcal://{rest}" if sep and scheme in ("http", "https") else ""


@login_not_required
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The subscription itself: the token is the key, as calendar apps can't log in."""
    feed = get_calendar_feed(request, token)
    # A calendar app sends no cookie: the events are written in the patient's language.
    with translation.override(feed.patient.language):
        content = ical.calendar_for(selectors.calendar_feed_appointments(feed.patient))
    return ical.ics_response(content, "goodskin.ics")
