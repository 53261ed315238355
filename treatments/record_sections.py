"""This app's sections of the exported record (patients.record_export): consultations,
treatment plans with their clearances and session charts (treated areas, amendments with the
earlier text, co-signatures), and adverse events with their follow-ups. A fixed number of
queries, however many plans and charts the patient has."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from patients.models import Patient
from patients.record_export import choice, day, person, register_section, when
from patients.record_sections import question
from patients.screening import Answer

from . import regions
from .models import (
    AdverseEvent,
    AdverseEventFollowUp,
    AdverseEventType,
    Agent,
    AgentForm,
    Ceap,
    ChartAmendment,
    ChartCosignature,
    CheckInAnswer,
    CheckInReply,
    Clearance,
    ClearanceKind,
    Consultation,
    Decision,
    PlanStatus,
    SafetyCheckIn,
    SessionChart,
    Severity,
    TreatedArea,
    TreatmentPlan,
    VesselType,
    Visit,
)

CONSULTATION_LABELS = {
    "consultations/item": _("Consultation %(number)s"),
    "held_on": _("Date"),
    "ceap_right": _("CEAP class, right leg"),
    "ceap_left": _("CEAP class, left leg"),
    "vessels_right": _("Vessels seen, right leg"),
    "vessels_left": _("Vessels seen, left leg"),
    "screening_reviewed": _("Screening as the doctor reviewed it"),
    "question": _("Question"),
    "answer": _("Answer"),
    "acknowledged": _("Relative contraindications acknowledged"),
    "decision": _("Decision"),
    "varicose_override": _("Treat despite untreated varicose veins"),
    "varicose_override_reason": _("Why"),
    "varicose_override_by": _("Decided by"),
    "varicose_override_at": _("Decided"),
}

PLAN_LABELS = {
    "treatment_plans/item": _("Treatment plan %(number)s"),
    "charts/item": _("Session chart %(number)s"),
    "consultation": _("Consultation"),
    "areas": _("Areas to treat"),
    "sessions_planned": _("Number of sessions"),
    "interval_weeks": _("Weeks between sessions"),
    "hose_days": _("Days of support hose after each session"),
    "session_minutes": _("Planned session length (minutes)"),
    "stop_reason": _("Why the plan stopped"),
    "estrogen_warning": _("Estrogen (“blush”) warning"),
    "touch_up_due": _("Touch-up review due"),
    "completed_at": _("Completed"),
    "stopped_at": _("Stopped"),
    "clearances": _("Go-aheads despite a screening finding"),
    "session": _("Session"),
    "what": _("What it clears"),
    "kind": _("Kind"),
    "charts": _("Session charts"),
    "number": _("Session"),
    "visit": _("Visit"),
    "treated_on": _("Date of the session"),
    "immediate_reactions": _("Immediate reactions"),
    "compression": _("Compression prescribed"),
    "signed_at": _("Signed"),
    "signed_by": _("Signed by"),
    "volumes_confirmed": _("Volumes confirmed by the doctor"),
    "volume_warnings": _("Volume warnings confirmed"),
    "treated_areas": _("Treated areas"),
    "region": _("Area"),
    "vessel_type": _("Vessels"),
    "agent": _("Agent"),
    "concentration": _("Concentration (%)"),
    "form": _("Liquid or foam"),
    "volume_ml": _("Volume (mL)"),
    "injections": _("Injections"),
    "amendments": _("Amendments (the earlier text is kept)"),
    "field": _("What changed"),
    "old_text": _("Before"),
    "new_text": _("After"),
    "cosignatures": _("Co-signatures"),
    "note": _("Note"),
}

EVENT_LABELS = {
    "adverse_events/item": _("Adverse event %(number)s"),
    "chart": _("Session"),
    "type": _("What happened"),
    "onset_on": _("Began on"),
    "severity": _("Severity"),
    "region": _("Area"),
    "management": _("Management"),
    "follow_up_needed": _("Follow-up needed"),
    "resolved_on": _("Resolved on"),
    "outcome": _("Outcome"),
    "closed_at": _("Closed"),
    "closed_by": _("Closed by"),
    "reported_by": _("Recorded by"),
    "alerted_at": _("Doctor alerted"),
    "acknowledged_at": _("Seen by the doctor"),
    "acknowledged_by": _("Seen by"),
    "follow_ups": _("Follow-ups"),
    "on": _("Date"),
    "action": _("What was done"),
}


def region(key: str) -> dict | None:
    return {"value": key, "label": regions.label(key)} if key else None


def consultations(patient: Patient) -> list[dict]:
    rows = Consultation.objects.filter(patient=patient).select_related(
        "doctor", "varicose_override_by"
    )
    return [
        {
            "id": c.pk,
            "held_on": day(c.held_on),
            "doctor": person(c.doctor),
            "ceap_right": choice(Ceap, c.ceap_right),
            "ceap_left": choice(Ceap, c.ceap_left),
            "vessels_right": [choice(VesselType, v) for v in c.vessels_right],
            "vessels_left": [choice(VesselType, v) for v in c.vessels_left],
            "screening_reviewed": [
                {"question": question(key), "answer": choice(Answer, answer)}
                for key, answer in c.screening_reviewed.items()
            ],
            "acknowledged": [question(key) for key in c.acknowledged],
            "decision": choice(Decision, c.decision),
            "varicose_override": c.varicose_override,
            "varicose_override_reason": c.varicose_override_reason,
            "varicose_override_by": person(c.varicose_override_by),
            "varicose_override_at": when(c.varicose_override_at),
            "notes": c.notes,
            "created_at": when(c.created_at),
        }
        for c in rows.order_by("held_on", "id")
    ]


def _area(a: TreatedArea) -> dict:
    return {
        "region": region(a.region),
        "vessel_type": choice(VesselType, a.vessel_type),
        "agent": choice(Agent, a.agent),
        "concentration": str(a.concentration),
        "form": choice(AgentForm, a.form),
        "volume_ml": str(a.volume_ml),
        "injections": a.injections,
    }


def _chart(chart: SessionChart) -> dict:
    return {
        "number": chart.number,
        "visit": choice(Visit, chart.visit),
        "treated_on": day(chart.treated_on),
        "doctor": person(chart.doctor),
        "immediate_reactions": chart.immediate_reactions,
        "compression": chart.compression,
        "notes": chart.notes,
        "created_at": when(chart.created_at),
        "signed_at": when(chart.signed_at),
        "signed_by": person(chart.signed_by),
        "volumes_confirmed": chart.volumes_confirmed,
        "volume_warnings": chart.volume_warnings,
        "treated_areas": [_area(a) for a in chart.areas.all()],
        "amendments": [
            {
                "field": {"value": a.field, "label": str(a.field_label)},
                "old_text": a.old_text,
                "new_text": a.new_text,
                "reason": a.reason,
                "by": person(a.by),
                "at": when(a.at),
            }
            for a in chart.amendments.all()
        ],
        "cosignatures": [
            {"doctor": person(c.doctor), "at": when(c.at), "note": c.note}
            for c in chart.cosignatures.all()
        ],
    }


def _clearance(c: Clearance) -> dict:
    return {
        "session": c.session,
        "what": {"value": c.key, "label": c.what},
        "kind": choice(ClearanceKind, c.kind),
        "reason": c.reason,
        "by": person(c.by),
        "at": when(c.at),
    }


def treatment_plans(patient: Patient) -> list[dict]:
    charts = SessionChart.objects.select_related("doctor", "signed_by").prefetch_related(
        "areas",
        Prefetch("amendments", queryset=ChartAmendment.objects.select_related("by")),
        Prefetch("cosignatures", queryset=ChartCosignature.objects.select_related("doctor")),
    )
    plans = (
        TreatmentPlan.objects.filter(patient=patient)
        .select_related("doctor")
        .prefetch_related(
            Prefetch("charts", queryset=charts),
            Prefetch("clearances", queryset=Clearance.objects.select_related("by")),
        )
        .order_by("created_at", "id")
    )
    return [
        {
            "id": p.pk,
            "consultation": p.consultation_id,
            "doctor": person(p.doctor),
            "status": choice(PlanStatus, p.status),
            "areas": [region(key) for key in p.areas],
            "sessions_planned": p.sessions_planned,
            "interval_weeks": p.interval_weeks,
            "hose_days": p.hose_days,
            "session_minutes": p.session_minutes,
            "stop_reason": p.stop_reason,
            "estrogen_warning": p.estrogen_warning,
            "touch_up_due": day(p.touch_up_due),
            "notes": p.notes,
            "created_at": when(p.created_at),
            "completed_at": when(p.completed_at),
            "stopped_at": when(p.stopped_at),
            "clearances": [_clearance(c) for c in p.clearances.all()],
            "charts": [_chart(chart) for chart in p.charts.all()],
        }
        for p in plans
    ]


def adverse_events(patient: Patient) -> list[dict]:
    events = (
        AdverseEvent.objects.filter(plan__patient=patient)
        .select_related("chart", "reported_by", "closed_by", "acknowledged_by")
        .prefetch_related(
            Prefetch("follow_ups", queryset=AdverseEventFollowUp.objects.select_related("by"))
        )
        .order_by("onset_on", "id")
    )
    return [
        {
            "id": e.pk,
            "plan": e.plan_id,
            "chart": e.chart.number if e.chart else None,
            "type": choice(AdverseEventType, e.type),
            "onset_on": day(e.onset_on),
            "severity": choice(Severity, e.severity),
            "region": region(e.region),
            "management": e.management,
            "follow_up_needed": e.follow_up_needed,
            "resolved_on": day(e.resolved_on),
            "outcome": e.outcome,
            "closed_at": when(e.closed_at),
            "closed_by": person(e.closed_by),
            "reported_by": person(e.reported_by),
            "created_at": when(e.created_at),
            "alerted_at": when(e.alerted_at),
            "acknowledged_at": when(e.acknowledged_at),
            "acknowledged_by": person(e.acknowledged_by),
            "follow_ups": [
                {
                    "on": day(f.on),
                    "action": f.action,
                    "outcome": f.outcome,
                    "by": person(f.by),
                    "created_at": when(f.created_at),
                }
                for f in e.follow_ups.all()
            ],
        }
        for e in events
    ]


CHECK_IN_LABELS = {
    "safety_check_ins/item": _("Safety check-in %(number)s"),
    "plan": _("Treatment plan"),
    "session_on": _("Session of"),
    "days_after": _("Days after the session"),
    "due_at": _("Asked"),
    "expires_at": _("Open until"),
    "called_at": _("Called by the clinic"),
    "called_by": _("Called by"),
    "call_note": _("What came of the call"),
    "replies": _("Answers"),
    "replies/item": _("Answer %(number)s"),
    "answers": _("How the legs were"),
    "note": _("Anything else"),
    "warning": _("A warning sign"),
    "answered_at": _("Answered"),
    "handled_at": _("Handled"),
    "handled_by": _("Handled by"),
    "handled_note": _("What was done"),
}


def safety_check_ins(patient: Patient) -> list[dict]:
    rows = (
        SafetyCheckIn.objects.filter(plan__patient=patient)
        .select_related("called_by")
        .prefetch_related(
            Prefetch("replies", queryset=CheckInReply.objects.select_related("handled_by"))
        )
        .order_by("due_at", "id")
    )
    return [
        {
            "plan": c.plan_id,
            "session_on": day(c.session_on),
            "days_after": c.days_after,
            "due_at": when(c.due_at),
            "expires_at": when(c.expires_at),
            "called_at": when(c.called_at),
            "called_by": person(c.called_by),
            "call_note": c.call_note,
            "replies": [
                {
                    "answers": [choice(CheckInAnswer, a) for a in r.answers],
                    "note": r.note,
                    "warning": r.warning,
                    "answered_at": when(r.answered_at),
                    "handled_at": when(r.handled_at),
                    "handled_by": person(r.handled_by),
                    "handled_note": r.handled_note,
                }
                for r in c.replies.all()
            ],
        }
        for c in rows
    ]


def register() -> None:
    register_section(
        "consultations",
        _("Consultations"),
        consultations,
        labels=CONSULTATION_LABELS,
        models=(Consultation,),
        order=30,
    )
    register_section(
        "treatment_plans",
        _("Treatment plans and session charts"),
        treatment_plans,
        labels=PLAN_LABELS,
        models=(
            TreatmentPlan,
            Clearance,
            SessionChart,
            TreatedArea,
            ChartAmendment,
            ChartCosignature,
        ),
        order=31,
    )
    register_section(
        "adverse_events",
        _("Adverse events"),
        adverse_events,
        labels=EVENT_LABELS,
        models=(AdverseEvent, AdverseEventFollowUp),
        order=32,
    )
    register_section(
        "safety_check_ins",
        _("Safety check-ins after sessions"),
        safety_check_ins,
        labels=CHECK_IN_LABELS,
        models=(SafetyCheckIn, CheckInReply),
        order=33,
    )
