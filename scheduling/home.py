"""The front desk's home page: find a patient, the day and week, and the messages that never
reached a patient, each with "send again"."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from goodskin.actors import Actor
from goodskin.roles import Role, role_required
from messaging import selectors
from patients import audit
from treatments import check_ins
from treatments import views as treatments_views
from treatments.forms import CheckInNoteForm
from treatments.models import SafetyCheckIn

from . import clock
from . import selectors as schedule_selectors
from .access import record_schedule_read
from .services import online_booking


@role_required(Role.FRONT_DESK)
def frontdesk_home(request: HttpRequest) -> HttpResponse:
    given_up, given_up_count = selectors.given_up_messages(limit=10)
    unanswered = list(check_ins.not_answered()[:20])
    audit.record_shown(
        actor=Actor.from_request(request),
        patients=[c.plan.patient for c in unanswered],
        subject="safety check-ins not answered",
    )
    context = {
        "given_up": given_up,
        "given_up_count": given_up_count,
        "online_for_desk": online_booking.needing_the_desk(),
        "unanswered": unanswered,
    }
    return render(request, "home/frontdesk.html", context)


@role_required(Role.DOCTOR)
def doctor_home(request: HttpRequest) -> HttpResponse:
    """The doctor's home: their patients today, then what waits for them (warning signs from
    the safety check-in, serious adverse events, charts to sign)."""
    tz = clock.zone()
    today = timezone.localdate(timezone.now(), tz)
    visits = schedule_selectors.doctor_day(request.user, today, tz)
    record_schedule_read(
        request, f"doctor home {today.isoformat()}", [v.appointment for v in visits]
    )
    context = {"visits": visits, "tz": tz.key, **treatments_views.doctor_alerts(request)}
    return render(request, "home/doctor.html", context)


@role_required(Role.FRONT_DESK, Role.DOCTOR)
@require_POST
def check_in_called(request: HttpRequest, pk: int) -> HttpResponse:
    """The desk called a patient who did not answer a safety check-in: what came of it."""
    form = CheckInNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what came of the call (at most 1,000 characters)."))
        return redirect("frontdesk_home")
    try:
        check_ins.record_call(
            check_in_id=pk, note=form.cleaned_data["note"], by=Actor.from_request(request)
        )
    except SafetyCheckIn.DoesNotExist:
        raise Http404 from None
    except check_ins.CheckInError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The call is recorded."))
    return redirect("frontdesk_home")
