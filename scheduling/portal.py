"""The patient's own pages: their schedule, plan progress and aftercare, their calendar feed,
cancelling or moving within the notice period, and their contact preferences.

Every page takes the patient from the login, never from the URL; an appointment id that is not
theirs answers 404 with nothing of it in the page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from goodskin.actors import Actor
from goodskin.roles import Role, role_required
from patients import audit
from patients import services as patient_services
from patients.access import get_own_patient
from patients.models import AuditAction, Patient
from treatments import diagram
from treatments.models import PlanStatus, TreatmentPlan
from treatments.selectors import aftercare_steps, get_clinic_settings, plan_progress

from . import clock, ical, services
from .forms_portal import MoveChoiceForm, PreferencesForm
from .models import Appointment, Status

patient_only = role_required(Role.PATIENT)


def _own_appointment(request: HttpRequest, pk: int) -> tuple[Patient, Appointment]:
    patient = get_own_patient(request, subject="appointment")
    appointment = get_object_or_404(
        Appointment.objects.select_related("doctor", "location", "plan", "patient"),
        pk=pk,
        patient=patient,
    )
    return patient, appointment


def _latest_session(patient: Patient):
    """The latest completed treatment session and the days left of its support-hose period."""
    last = (
        patient.appointments.filter(status=Status.COMPLETED, plan__isnull=False)
        .select_related("plan")
        .order_by("-starts_at")
        .first()
    )
    if last is None:
        return None
    tz = clock.zone(last.location.time_zone if last.location_id else None)
    day = last.starts_at.astimezone(tz).date()
    days_left = last.plan.hose_days - (timezone.localdate(timezone.now(), tz) - day).days
    return {"appointment": last, "day": day, "hose_days_left": max(0, days_left)}


@patient_only
def schedule(request: HttpRequest) -> HttpResponse:
    """The patient's home: appointments, plan progress and the aftercare of the last session."""
    patient = Patient.objects.active().filter(portal_user=request.user).first()
    if patient is None:
        return render(request, "scheduling/portal/no_record.html")
    audit.record(
        actor=Actor.from_request(request),
        patient=patient,
        action=AuditAction.VIEW,
        subject="portal schedule",
    )
    now = timezone.now()
    appointments = patient.appointments.select_related("doctor", "location")
    plan = (
        TreatmentPlan.objects.for_patient(patient)
        .exclude(status=PlanStatus.DRAFT)
        .order_by("-created_at")
        .first()
    )
    context = {
        "patient": patient,
        "upcoming": appointments.filter(starts_at__gte=now, status=Status.BOOKED).order_by(
            "starts_at"
        ),
        "past": appointments.filter(starts_at__lt=now).order_by("-starts_at")[:20],
        "progress": plan_progress(plan) if plan else None,
        "today": timezone.localdate(),
        "legend": diagram.legend(),
        "latest": _latest_session(patient),
        "aftercare": aftercare_steps(),
        "warning_signs": get_clinic_settings().warning_signs,
        "notice_hours": services.scheduling_settings().patient_notice_hours,
    }
    return render(request, "scheduling/portal/schedule.html", context)


@patient_only
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient, appointment = _own_appointment(request, pk)
    context = {
        "appointment": appointment,
        "may_change": services.patient_may_change(appointment),
        "notice_hours": services.scheduling_settings().patient_notice_hours,
        "phone": appointment.location.phone,
    }
    return render(request, "scheduling/portal/appointment.html", context)


@patient_only
@require_POST
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    patient, appointment = _own_appointment(request, pk)
    try:
        services.patient_cancel(
            appointment=appointment,
            by=Actor.from_request(request),
            version=_int(request.POST.get("version")),
        )
    except services.BookingError as error:
        messages.error(request, str(error))
        return redirect("portal:appointment", pk=appointment.pk)
    messages.success(request, _("Your appointment is cancelled. The clinic can see it now."))
    return redirect("portal:schedule")


@patient_only
def appointment_move(request: HttpRequest, pk: int) -> HttpResponse:
    patient, appointment = _own_appointment(request, pk)
    if not services.patient_may_change(appointment):
        messages.error(
            request, _("It is too late to change this appointment online. Please call the clinic.")
        )
        return redirect("portal:appointment", pk=appointment.pk)
    options = services.patient_move_options(appointment)
    form = MoveChoiceForm(request.POST or None, options=options, version=appointment.version)
    if request.method == "POST" and form.is_valid():
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
        "scheduling/portal/move.html",
        {"appointment": appointment, "form": form, "by_day": form.by_day()},
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@patient_only
def appointment_ics(request: HttpRequest, pk: int) -> HttpResponse:
    patient, appointment = _own_appointment(request, pk)
    return _ics_response(
        ical.calendar_for([appointment], appointment.location.time_zone),
        f"goodskin-{appointment.pk}.ics",
    )


@patient_only
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """Show the private subscription link; POST makes a new one (the old one stops)."""
    patient = get_own_patient(request, subject="calendar feed")
    if request.method == "POST":
        ical.new_feed(patient)
        messages.success(request, _("You have a new calendar link. The old one no longer works."))
        return redirect("portal:calendar")
    feed = ical.active_feed(patient)
    url = request.build_absolute_uri(f"/portal/calendar/{feed.token}.ics") if feed else ""
    return render(request, "scheduling/portal/calendar.html", {"feed": feed, "url": url})


@login_not_required
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The subscription itself: the token is the key, as calendar apps can't log in."""
    feed = ical.feed_by_token(token)
    if feed is None:
        raise Http404
    audit.record(
        actor=Actor(user=None, role=None, ip=request.META.get("REMOTE_ADDR")),
        patient=feed.patient,
        action=AuditAction.VIEW,
        subject="calendar feed",
    )
    return _ics_response(ical.calendar_for(ical.feed_appointments(feed.patient)), "goodskin.ics")


@patient_only
def preferences(request: HttpRequest) -> HttpResponse:
    patient = get_own_patient(request, subject="preferences")
    form = PreferencesForm(
        request.POST or None, instance=patient, initial={"version": patient.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            patient_services.update_patient(
                patient_id=patient.pk,
                version=form.cleaned_data["version"],
                data=form.model_data(),
                by=Actor.from_request(request),
            )
        except patient_services.StaleRecord:
            form.add_error(
                None,
                _(
                    "Your details were changed meanwhile, perhaps by the "
                    "clinic. Please check them and save again."
                ),
            )
        else:
            messages.success(request, _("Your preferences are saved."))
            return redirect("portal:schedule")
    return render(request, "scheduling/portal/preferences.html", {"form": form})
