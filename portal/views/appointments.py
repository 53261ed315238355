"""The patient's home (their visits, plan progress and aftercare) and their appointments:
details, an .ics download, cancelling or moving within the notice period (each asked first),
and undoing a cancellation for a few minutes."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from goodskin.actors import Actor
from patients.access import get_own_patient_or_none
from scheduling import aftercare_sheet, clock, selectors, services
from scheduling.access import get_own_appointment
from scheduling.models import Status

from .. import ical, schedule_panel
from ..forms import CancelForm, MoveChoiceForm, UndoForm
from . import patient_only


@patient_only
def schedule(request: HttpRequest) -> HttpResponse:
    """The patient's home: appointments, plan progress and the aftercare of the last session."""
    patient = get_own_patient_or_none(request, subject="portal schedule")
    if patient is None:
        return render(request, "portal/no_record.html")
    greeting, rest = schedule_panel.kept(request, patient)
    context = {
        "greeting": greeting,
        "undoable": selectors.undoable_cancellations(patient),
        "rest": rest,
    }
    return render(request, "portal/schedule.html", context)


@patient_only
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = get_own_appointment(request, pk)
    undo_until = services.undo_deadline(appointment)
    context = {
        "appointment": appointment,
        "may_change": services.patient_may_change(appointment),
        "notice_hours": services.scheduling_settings().patient_notice_hours,
        "phone": appointment.location.phone,
        "aftercare_sheet": aftercare_sheet.printable(appointment),
        "undo_until": undo_until if undo_until and undo_until > timezone.now() else None,
    }
    return render(request, "portal/appointment.html", context)


def _too_late(request: HttpRequest, appointment, settings=None) -> HttpResponse | None:
    """Online changes stop at the notice period: say so on the appointment's page (and that
    one no longer booked, cancelled by a second tap say, has nothing to change). `settings`:
    the scheduling settings, when the caller has read them."""
    if services.patient_may_change(appointment, settings=settings):
        return None
    if appointment.status != Status.BOOKED:
        messages.info(
            request,
            _("Only a booked appointment can be changed online; this one is “%(status)s”.")
            % {"status": appointment.get_status_display()},
        )
    else:
        messages.error(
            request,
            _("It is too late to change this appointment online. Please call the clinic."),
        )
    return redirect("portal:appointment", pk=appointment.pk)


@patient_only
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks first (what will happen); the POST of that page's "Yes" cancels. A POST
    without it changes nothing and asks again."""
    appointment = get_own_appointment(request, pk)
    if refused := _too_late(request, appointment):
        return refused
    if request.method == "POST":
        form = CancelForm(request.POST)
        if not form.is_valid():
            # A missing or damaged version must not skip the check for a change made meanwhile.
            messages.error(request, next(iter(form.errors.values()))[0])
            return redirect("portal:appointment", pk=appointment.pk)
        if form.confirmed:
            return _cancel(request, appointment, form.cleaned_data["version"])
        messages.warning(request, _("Nothing is cancelled yet: please confirm below."))
    context = {
        "appointment": appointment,
        "version": appointment.version,
        "undo_minutes": settings.CANCEL_UNDO_MINUTES,
    }
    return render(request, "portal/cancel_confirm.html", context)


def _cancel(request: HttpRequest, appointment, version: int) -> HttpResponse:
    try:
        services.patient_cancel(
            appointment=appointment, by=Actor.from_request(request), version=version
        )
    except services.BookingError as error:
        messages.error(request, str(error))
        return redirect("portal:appointment", pk=appointment.pk)
    messages.success(
        request,
        _(
            "Your appointment is cancelled. The clinic can see it now. Changed your mind? "
            "You can undo it for %(minutes)d minutes."
        )
        % {"minutes": settings.CANCEL_UNDO_MINUTES},
    )
    return redirect("portal:appointment", pk=appointment.pk)


@patient_only
@require_POST
def appointment_undo_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Book again a visit the patient cancelled a few minutes ago, if its time is still free."""
    appointment = get_own_appointment(request, pk)
    form = UndoForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["version"][0])
        return redirect("portal:appointment", pk=appointment.pk)
    try:
        services.patient_undo_cancel(
            appointment=appointment,
            by=Actor.from_request(request),
            version=form.cleaned_data["version"],
        )
    except services.BookingError as error:
        messages.error(request, str(error))
        return redirect("portal:appointment", pk=appointment.pk)
    messages.success(request, _("Your appointment is booked again, as it was."))
    return redirect("portal:appointment", pk=appointment.pk)


@patient_only
def appointment_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose a time, then confirm it on the next page: only the POST of that page's "Yes"
    moves the appointment."""
    appointment = get_own_appointment(request, pk)
    settings = services.scheduling_settings()  # read once for both
    if refused := _too_late(request, appointment, settings):
        return refused
    options = services.patient_move_options(appointment, settings=settings)
    form = MoveChoiceForm(request.POST or None, options=options, version=appointment.version)
    if request.method == "POST" and form.is_valid():
        if not form.confirmed:
            new = form.cleaned_data["starts_at"].astimezone(clock.zone())
            context = {"appointment": appointment, "form": form, "new": new}
            return render(request, "portal/move_confirm.html", context)
        try:
            services.patient_move(
                appointment=appointment,
                by=Actor.from_request(request),
                starts_at=form.cleaned_data["starts_at"],
                version=form.cleaned_data["version"],
            )
        except services.BookingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your appointment is moved. The clinic can see it now."))
            return redirect("portal:schedule")
    return render(
        request,
        "portal/move.html",
        {"appointment": appointment, "form": form, "by_day": form.by_day()},
    )


@patient_only
def appointment_ics(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = get_own_appointment(request, pk)
    return ical.ics_response(
        ical.calendar_for([appointment], appointment.location.time_zone),
        f"goodskin-{appointment.pk}.ics",
    )
