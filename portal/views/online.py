"""A new patient books a consultation online (issue 15, point 1): public pages, no login.

The page answers "check your email" whatever was sent, so it tells no one whether a person is
a patient already; the link in the email is the key to the request (a POST confirms it: mail
scanners follow links with GET)."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from goodskin.actors import client_ip
from scheduling import clock
from scheduling.models import BookingStatus
from scheduling.services import online_booking
from scheduling.services.common import BookingError

from ..forms import OnlineBookingForm, OnlineTimeForm


def _options() -> list:
    try:
        return online_booking.consultation_options()
    except BookingError:  # no clinic location set up yet: nothing to offer
        return []


@login_not_required
@require_http_methods(["GET", "POST"])
def book_consultation(request: HttpRequest) -> HttpResponse:
    """Free consultation times and the request form; sending it queues the email link."""
    form = OnlineBookingForm(request.POST or None, options=_options())
    if request.method == "POST" and form.is_valid():
        if form.is_robot:
            return redirect("portal:book_sent")
        allowed = online_booking.request_consultation(
            details=form.details(),
            choice=form.choice(),
            ip=client_ip(request),
            form_token=form.cleaned_data["form_token"],
        )
        if not allowed:
            return render(request, "portal/online/limited.html", status=429)
        return redirect("portal:book_sent")
    context = {"form": form, "by_day": form.by_day(), "questions": form.questions()}
    return render(request, "portal/online/book.html", context)


@login_not_required
def book_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/online/sent.html")


@login_not_required
@require_http_methods(["GET", "POST"])
def book_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link's page: a button that confirms (GET changes nothing), then what came of it."""
    try:
        booking = online_booking.find_request(token)
    except online_booking.LinkNotValid:
        return render(request, "portal/online/link_not_valid.html", status=404)
    time_form = None
    if request.method == "POST":
        if booking.status == BookingStatus.LOST_TIME:
            time_form = OnlineTimeForm(request.POST, options=_options())
            choice = time_form.choice() if time_form.is_valid() else None
        else:
            choice = None
        if booking.status != BookingStatus.LOST_TIME or choice is not None:
            booking = online_booking.confirm_online_booking(
                token=token, ip=client_ip(request), choice=choice
            )
    if online_booking.is_expired(booking) and booking.status in (
        BookingStatus.PENDING,
        BookingStatus.LOST_TIME,
    ):
        return render(request, "portal/online/link_expired.html", status=410)
    if booking.status == BookingStatus.LOST_TIME:
        time_form = time_form or OnlineTimeForm(options=_options())
    context = {
        "booking": booking,
        "when": booking.starts_at.astimezone(clock.zone()),
        "form": time_form,
        "by_day": time_form and time_form.by_day(),
    }
    return render(request, "portal/online/confirm.html", context)
