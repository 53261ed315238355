"""The one way a view reaches a consultation, plan, chart or adverse event: check the role, then
the object (it must belong to the patient in the URL), and audit the read. Anyone who may not
see it gets 404, so ids reveal nothing."""

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, Role, role_of
from patients import audit
from patients.models import AuditAction, Patient

from .models import AdverseEvent, Consultation, PlanStatus, SessionChart, TreatedArea, TreatmentPlan

DOCTOR_ONLY = (Role.DOCTOR,)


def _read(request: HttpRequest, patient: Patient, subject: str) -> None:
    audit.record(
        actor=Actor.from_request(request), patient=patient, action=AuditAction.VIEW, subject=subject
    )


def _role(request: HttpRequest, roles: tuple[Role, ...]) -> None:
    if role_of(request.user) not in roles:
        raise Http404


def get_consultation_for_user(request: HttpRequest, patient_pk: int, pk: int) -> Consultation:
    _role(request, DOCTOR_ONLY)
    consultation = get_object_or_404(
        Consultation.objects.select_related("patient", "doctor", "varicose_override_by"),
        pk=pk,
        patient_id=patient_pk,
    )
    _read(request, consultation.patient, f"consultation:{pk}")
    return consultation


def get_plan_for_user(
    request: HttpRequest, patient_pk: int, pk: int, *, roles: tuple[Role, ...] = STAFF_ROLES
) -> TreatmentPlan:
    """A plan for staff (front desk sees its summary only: the view decides what to show)."""
    _role(request, roles)
    plan = get_object_or_404(
        TreatmentPlan.objects.select_related("patient", "doctor", "consultation"),
        pk=pk,
        patient_id=patient_pk,
    )
    _read(request, plan.patient, f"plan:{pk}")
    return plan


def get_own_plan(request: HttpRequest, pk: int) -> TreatmentPlan:
    """The signed-in patient's own plan, for the portal."""
    _role(request, (Role.PATIENT,))
    plan = get_object_or_404(
        TreatmentPlan.objects.select_related("patient", "doctor"),
        pk=pk,
        patient__portal_user=request.user,
        patient__merged_into__isnull=True,
        # A draft is still the doctor's own.
        status__in=[PlanStatus.ACTIVE, PlanStatus.COMPLETED, PlanStatus.STOPPED],
    )
    _read(request, plan.patient, f"plan:{pk}")
    return plan


def get_chart_for_user(request: HttpRequest, patient_pk: int, pk: int) -> SessionChart:
    """A session chart's clinical details: doctors only."""
    _role(request, DOCTOR_ONLY)
    chart = get_object_or_404(
        SessionChart.objects.select_related("plan__patient", "doctor", "signed_by"),
        pk=pk,
        plan__patient_id=patient_pk,
    )
    _read(request, chart.plan.patient, f"chart:{pk}")
    return chart


def get_treated_area_for_user(
    request: HttpRequest, patient_pk: int, chart_pk: int, pk: int
) -> TreatedArea:
    """A treated area of a chart, through its chart: an area of another chart is not found."""
    chart = get_chart_for_user(request, patient_pk, chart_pk)
    area = get_object_or_404(TreatedArea, pk=pk, chart=chart)
    area.chart = chart  # the one already loaded, with its plan and patient
    return area


def get_adverse_event_for_user(request: HttpRequest, patient_pk: int, pk: int) -> AdverseEvent:
    _role(request, DOCTOR_ONLY)
    event = get_object_or_404(
        AdverseEvent.objects.select_related(
            "plan__patient", "plan__doctor", "chart", "closed_by", "reported_by"
        ),
        pk=pk,
        plan__patient_id=patient_pk,
    )
    _read(request, event.plan.patient, f"adverse event:{pk}")
    return event


def list_open_serious_events(request: HttpRequest) -> list[AdverseEvent]:
    """The doctor's unresolved adverse events of the types that alert, for their home page;
    each patient shown is an audited read."""
    from .selectors import get_clinic_settings, open_serious_events

    _role(request, DOCTOR_ONLY)
    events = list(open_serious_events(request.user, get_clinic_settings()))
    for patient in {event.plan.patient_id: event.plan.patient for event in events}.values():
        _read(request, patient, "serious adverse events")
    return events


def list_open_check_in_warnings(request: HttpRequest, *, limit: int = 50) -> list:
    """Answers to the safety check-in with a warning sign that no doctor has handled, for the
    doctors' home page (every doctor's: the treating one may be away); each patient shown is
    an audited read."""
    from .check_ins import open_warnings

    _role(request, DOCTOR_ONLY)
    replies = list(open_warnings()[:limit])
    audit.record_shown(
        actor=Actor.from_request(request),
        patients=[r.check_in.plan.patient for r in replies],
        subject="safety check-in warnings",
    )
    return replies


def list_unsigned_charts(request: HttpRequest, *, limit: int = 20) -> list[SessionChart]:
    """The doctor's own charts not signed yet, the oldest first, for their home page; each
    patient shown is an audited read."""
    _role(request, DOCTOR_ONLY)
    charts = list(
        SessionChart.objects.filter(doctor=request.user, signed_at__isnull=True)
        .select_related("plan__patient")
        .order_by("treated_on", "pk")[:limit]
    )
    audit.record_shown(
        actor=Actor.from_request(request),
        patients=[c.plan.patient for c in charts],
        subject="charts to sign",
    )
    return charts
