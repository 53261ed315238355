"""A plan's treatment summary to print or download (issue 18, point 1): each session with its
day and where it stands, what was treated at each (from its chart: areas, agent,
concentration, volume), the adverse events, and the visits booked next. It lives here, not in
treatments, because the sessions' bookings are scheduling's.

The front desk's copy leaves out what the charts and the adverse events say: the clinic keeps
chart details to doctors (tests/treatments/test_access_and_audit.py); the patient's own copy
has them (their record's export holds them all the same). A fixed number of queries, however
many sessions, areas or visits."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy

from goodskin.actors import Actor
from goodskin.roles import Role
from patients import audit, printouts
from patients.models import AuditAction
from treatments.models import AdverseEvent, PlanStatus, TreatmentPlan

from . import clock
from .models import Appointment, Kind, Status

# Who reads what the charts say: the doctors, and the patient about themselves.
CLINICAL_READERS = (Role.DOCTOR, Role.PATIENT)
DONE = gettext_lazy("Done")
NOT_BOOKED = gettext_lazy("Not booked yet")
NOT_DONE = gettext_lazy("Not done (the plan was stopped)")


@dataclass(frozen=True)
class AreaRow:
    """What one treated area's chart says, its numbers written the reader's way (0.5, 0,5)."""

    region: str
    agent: str
    concentration: str
    form: str
    volume_ml: str


def _number(value: Decimal) -> str:
    value = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    return formats.number_format(value)


def _areas(chart, clinical: bool) -> list[AreaRow]:
    if not clinical:
        return []
    return [
        AreaRow(
            region=area.region_label,
            agent=area.get_agent_display(),
            concentration=_number(area.concentration),
            form=area.get_form_display(),
            volume_ml=_number(area.volume_ml),
        )
        for area in chart.areas.all()
    ]


@dataclass(frozen=True)
class SessionRow:
    number: int | None  # None for a touch-up
    day: date | None
    starts: datetime | None  # the booked visit's start, in clinic time
    status: str
    areas: list[AreaRow]


@dataclass(frozen=True)
class PlanSummary:
    plan: TreatmentPlan
    clinical: bool
    sessions: list[SessionRow]
    touch_ups: list[SessionRow]
    events: list[AdverseEvent]
    coming: list[Appointment]
    phone: str
    made_at: datetime


def summary(plan: TreatmentPlan, *, role: Role | None) -> PlanSummary:
    tz = clock.zone()
    clinical = role in CLINICAL_READERS
    charts = list(plan.charts.prefetch_related("areas").order_by("number", "treated_on"))
    visits = list(
        plan.appointments.exclude(status=Status.CANCELLED)
        .select_related("doctor", "location")
        .order_by("starts_at")
    )
    # A session's visit: the last one booked for its number (a missed one was booked again).
    booked = {a.session_number: a for a in visits if a.kind == Kind.SESSION and a.session_number}
    by_number = {c.number: c for c in charts if not c.is_touch_up}
    sessions = [
        _session_row(n, by_number.get(n), booked.get(n), plan, tz, clinical)
        for n in range(1, plan.sessions_planned + 1)
    ]
    touch_ups = [
        SessionRow(None, c.treated_on, None, str(DONE), _areas(c, clinical))
        for c in charts
        if c.is_touch_up
    ]
    now = timezone.now()
    coming = [a for a in visits if a.status == Status.BOOKED and a.starts_at >= now]
    for visit in coming:
        visit.local_start = visit.starts_at.astimezone(tz)
    events = list(plan.adverse_events.order_by("onset_on", "pk")) if clinical else []
    office = coming[0].location if coming else (visits[-1].location if visits else None)
    return PlanSummary(
        plan=plan,
        clinical=clinical,
        sessions=sessions,
        touch_ups=touch_ups,
        events=events,
        coming=coming,
        phone=office.phone if office else "",
        made_at=timezone.localtime(now, tz),
    )


def _session_row(number, chart, visit, plan, tz, clinical) -> SessionRow:
    starts = visit.starts_at.astimezone(tz) if visit else None
    if chart is not None:
        return SessionRow(number, chart.treated_on, starts, str(DONE), _areas(chart, clinical))
    if visit is not None:
        return SessionRow(number, starts.date(), starts, visit.get_status_display(), [])
    status = NOT_DONE if plan.status == PlanStatus.STOPPED else NOT_BOOKED
    return SessionRow(number, None, None, str(status), [])


def file_name(plan: TreatmentPlan) -> str:
    """treatment-summary-2026-11-30.pdf: the day of the plan, never the patient's name."""
    return f"treatment-summary-{timezone.localdate(plan.created_at).isoformat()}.pdf"


def as_pdf(found: PlanSummary, *, by: Actor) -> bytes:
    """The summary as a PDF in the active language; the download is audited as the record's
    export is."""
    context = {
        "summary": found,
        "plan": found.plan,
        "patient": found.plan.patient,
        "clinic_name": settings.CLINIC_NAME,
    }
    html = render_to_string("scheduling/plan_summary_pdf.html", context)
    content = printouts.pdf(html, printouts.STYLESHEET)
    audit.record(
        actor=by,
        patient=found.plan.patient,
        action=AuditAction.EXPORT,
        subject=f"treatment summary:{found.plan.pk} (pdf)",
        details={"format": "pdf", "file": file_name(found.plan)},
    )
    return content
