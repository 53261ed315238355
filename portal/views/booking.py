"""The patient books their plan's next session online (issue 15, point 3)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from patients.access import get_own_patient_or_none
from scheduling import services

from ..forms import BookChoiceForm
from . import patient_only


@patient_only
def book_next_session(request: HttpRequest) -> HttpResponse:
    """The free times of the plan's next session, with the plan's doctor and length, keeping
    the weeks between sessions; choosing one books it."""
    patient = get_own_patient_or_none(request, subject="portal booking")
    if patient is None:
        return render(request, "portal/no_record.html")
    upcoming = services.patient_next_session(patient)
    if upcoming is None:
        messages.info(request, _("Every session of your treatment plan is booked already."))
        return redirect("portal:schedule")
    options = services.patient_book_options(patient, upcoming)
    form = BookChoiceForm(
        request.POST or None, options=options, plan=upcoming.plan.pk, session=upcoming.number
    )
    if request.method == "POST" and form.is_valid():
        try:
            booked = services.patient_book_session(
                plan_id=form.cleaned_data["plan"],
                number=form.cleaned_data["session"],
                starts_at=form.cleaned_data["starts_at"],
                by=Actor.from_request(request),
            )
        except services.BookingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your session is booked. The clinic can see it now."))
            return redirect("portal:appointment", pk=booked.pk)
    context = {"upcoming": upcoming, "form": form, "by_day": form.by_day()}
    return render(request, "portal/book_next.html", context)
