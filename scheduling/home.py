"""The front desk's home page: find a patient, the day and week, and the messages that never
reached a patient, each with "send again"."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from goodskin.roles import Role, role_required
from messaging import selectors

from .services import online_booking


@role_required(Role.FRONT_DESK)
def frontdesk_home(request: HttpRequest) -> HttpResponse:
    given_up, given_up_count = selectors.given_up_messages(limit=10)
    context = {
        "given_up": given_up,
        "given_up_count": given_up_count,
        "online_for_desk": online_booking.needing_the_desk(),
    }
    return render(request, "home/frontdesk.html", context)
