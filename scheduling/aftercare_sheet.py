"""For the staff: whether a patient's aftercare advice will reach them by message, and the
printed aftercare sheet to hand them when it won't (issue 13, point 8). The sheet is a page to
print and a PDF, for the staff and for the patient from the portal (issue 18, point 1).

The advice goes out as messages only when the patient has an address or number for their
channel, agreed to that channel and wants aftercare advice (`messaging.selectors.reach`). A
patient who declined still gets the warning signs once after each session, if there is
anything to send them to; the note says which of the two it is.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from messaging.selectors import reach
from patients import audit, printouts
from patients.models import AuditAction, Patient, Purpose
from patients.notices import Notice
from treatments.models import PlanStatus, TreatmentPlan
from treatments.selectors import (
    AftercareMessage,
    aftercare_numbers,
    aftercare_steps,
    get_clinic_settings,
)

from . import clock
from .models import Appointment, Kind, Status
from .reminders import BOOK_NEXT, aftercare_kind, treated_plan

TREATMENTS = (Kind.SESSION, Kind.TOUCH_UP)


def no_advice_note(patient: Patient) -> str:
    """What the staff must know when aftercare advice won't reach the patient ("" if it
    will)."""
    found = reach(patient, Purpose.AFTERCARE)
    if found.reaches:
        return ""
    if not found.reachable:
        return _(
            "%(name)s will get no aftercare messages at all, not even the warning signs: "
            "%(why)s. Give them the printed aftercare sheet."
        ) % {"name": patient.full_name, "why": found.why}
    return _(
        "%(name)s will get no aftercare advice by message (%(why)s): only one message with "
        "the warning signs after each session. Give them the printed aftercare sheet."
    ) % {"name": patient.full_name, "why": found.why}


def sheet_appointment(patient: Patient) -> Appointment | None:
    """The treatment visit whose sheet the record page offers: the next one not yet over
    (today's first), else the last one completed."""
    visits = Appointment.objects.filter(patient=patient, kind__in=TREATMENTS)
    today = timezone.localdate(timezone.now(), clock.zone())
    start, _end = clock.day_bounds(today, clock.zone())
    coming = (
        visits.filter(status__in=(Status.BOOKED, Status.CHECKED_IN, Status.IN_PROGRESS))
        .filter(starts_at__gte=start)
        .order_by("starts_at")
        .first()
    )
    return coming or visits.filter(status=Status.COMPLETED).order_by("-starts_at").first()


def record_notice(patient: Patient) -> list[Notice]:
    """For the patient's record page, while they are in treatment (a plan not stopped)."""
    in_treatment = (
        TreatmentPlan.objects.for_patient(patient).exclude(status=PlanStatus.STOPPED).exists()
    )
    note = no_advice_note(patient) if in_treatment else ""
    if not note:
        return []
    visit = sheet_appointment(patient)
    if visit is None:
        return [Notice(note)]
    url = reverse("scheduling:aftercare_sheet", args=[visit.pk])
    return [Notice(note, url, _("Print the aftercare sheet"))]


@dataclass(frozen=True)
class DatedStep:
    day: date
    message: AftercareMessage


@dataclass(frozen=True)
class AftercareSheet:
    """What the printed sheet says: the visit's dates, the advice with the plan's numbers,
    the warning signs and the clinic's phone."""

    appointment: Appointment
    session_day: date
    # The visit's start and end in its office's time, its doctor and office, to call or come back.
    starts: datetime
    ends: datetime
    doctor_name: str
    office_name: str
    office_address: str
    hose_end: date
    rest_last_day: date
    next_session_from: date | None
    steps: list[DatedStep]
    warning_signs: str
    phone: str


def sheet(appointment: Appointment) -> AftercareSheet:
    plan = treated_plan(appointment)
    numbers = aftercare_numbers(plan)
    tz = clock.zone(appointment.location.time_zone)
    day = appointment.starts_at.astimezone(tz).date()
    touch_up = appointment.kind == Kind.TOUCH_UP
    steps = [
        DatedStep(day + timedelta(days=message.offset_days), message)
        for message in aftercare_steps(plan, numbers=numbers)
        if not (touch_up and aftercare_kind(message.step.key) == BOOK_NEXT)
    ]
    return AftercareSheet(
        appointment=appointment,
        session_day=day,
        starts=appointment.starts_at.astimezone(tz),
        ends=appointment.ends_at.astimezone(tz),
        doctor_name=appointment.doctor.get_full_name() or appointment.doctor.get_username(),
        office_name=appointment.location.name,
        office_address=appointment.location.address,
        hose_end=day + timedelta(days=numbers.hose_days),
        rest_last_day=day + timedelta(days=numbers.rest_days),
        next_session_from=None if touch_up else day + timedelta(weeks=numbers.interval_weeks),
        steps=steps,
        warning_signs=get_clinic_settings().warning_signs_text(),
        phone=appointment.location.phone,
    )


# A patient reads the sheet of a visit that happens or happened, not of one called off.
NOT_PRINTED = (Status.CANCELLED, Status.NO_SHOW)


def printable(appointment: Appointment) -> bool:
    return appointment.kind in TREATMENTS and appointment.status not in NOT_PRINTED


def file_name(sheet: AftercareSheet) -> str:
    """aftercare-2026-11-30.pdf: the session's day, never the patient's name."""
    return f"aftercare-{sheet.session_day.isoformat()}.pdf"


def as_pdf(sheet: AftercareSheet, *, by: Actor) -> bytes:
    """The sheet as a PDF, in the active language (the caller sets the patient's); the
    download is audited as the record's export is."""
    context = {"sheet": sheet, "patient": sheet.appointment.patient}
    context["clinic_name"] = settings.CLINIC_NAME
    html = render_to_string("scheduling/aftercare_sheet_pdf.html", context)
    content = printouts.pdf(html, printouts.STYLESHEET)
    audit.record(
        actor=by,
        patient=sheet.appointment.patient,
        action=AuditAction.EXPORT,
        subject=f"aftercare sheet:{sheet.appointment.pk} (pdf)",
        details={"format": "pdf", "file": file_name(sheet)},
    )
    return content
