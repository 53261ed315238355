"""Reads that several pages share: the clinic settings, a plan's progress, the aftercare
programme, the doctor's open alerts."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from goodskin.row_versions import versions
from patients.models import Patient, ScreeningAnswer, ScreeningChange

from . import diagram, regions
from .aftercare import AftercareNumbers, TemplateError, step_texts
from .models import (
    DEFAULT_AGENTS,
    AdverseEvent,
    AdverseEventFollowUp,
    AftercareStep,
    Agent,
    AgentForm,
    AgentSetting,
    Clearance,
    ClinicSettings,
    Consultation,
    PlanStatus,
    SessionChart,
    TreatmentPlan,
    Visit,
)


def get_clinic_settings() -> ClinicSettings:
    """The clinic's one settings row, made with the clinic page's defaults the first time."""
    return ClinicSettings.objects.order_by("pk").first() or ClinicSettings.objects.create()


def agent_settings() -> dict[str, AgentSetting]:
    """{agent: its setting}, one query; made from the label defaults if the table is empty
    (a fresh database), so a chart is never refused for want of settings."""
    found = {row.agent: row for row in AgentSetting.objects.all()}
    if found:
        return found
    AgentSetting.objects.bulk_create(
        [
            AgentSetting(agent=agent, **defaults._asdict())
            for agent, defaults in DEFAULT_AGENTS.items()
        ],
        ignore_conflicts=True,  # another request made them meanwhile
    )
    return {row.agent: row for row in AgentSetting.objects.all()}


def agent_choices(agents: dict[str, AgentSetting], keep: str = "") -> list[tuple[str, str]]:
    """The agents a chart's menu offers: those in use, and `keep` (the agent an area already
    has) even if it no longer is, so that correcting the area does not change it unseen."""
    choices = []
    for value, label in Agent.choices:
        setting = agents.get(value)
        if setting is not None and setting.active:
            choices.append((value, label))
        elif value == keep:
            choices.append((value, _("%(agent)s (no longer in use)") % {"agent": label}))
    return choices


@dataclass
class VolumeCheck:
    """A session's volume per agent and form, and which go over their maximum per session."""

    per_agent: dict[str, Decimal] = field(default_factory=dict)
    foam: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    # {agent: its maximum} for the agents above it, in the order the chart first names them
    over_agents: dict[str, Decimal] = field(default_factory=dict)
    foam_max: Decimal = Decimal(0)
    over_foam: bool = False

    @property
    def warn(self) -> bool:
        return bool(self.over_agents) or self.over_foam

    @property
    def over_texts(self) -> list[str]:
        """One sentence per maximum passed, for the chart pages and the confirmation."""
        texts = [
            _("%(agent)s: %(total)s mL in this session, more than the most of %(max)s mL.")
            % {"agent": Agent(agent).label, "total": _ml(self.per_agent[agent]), "max": _ml(most)}
            for agent, most in self.over_agents.items()
        ]
        if self.over_foam:
            texts.append(
                _("Foam: %(total)s mL in this session, more than the most of %(max)s mL.")
                % {"total": _ml(self.foam), "max": _ml(self.foam_max)}
            )
        return texts


def session_maxima(agents: dict[str, AgentSetting]) -> dict[str, Decimal]:
    """{agent: most per session}; an agent without a settings row has its label default."""
    return {
        agent: agents[agent].session_max_ml if agent in agents else defaults.session_max_ml
        for agent, defaults in DEFAULT_AGENTS.items()
    }


def volume_check(areas, clinic: ClinicSettings, agents=None) -> VolumeCheck:
    """`areas`: TreatedArea rows or dicts with agent, form and volume_ml. `agents`:
    agent_settings(), when the caller has it (read here otherwise)."""
    maxima = session_maxima(agent_settings() if agents is None else agents)
    check = VolumeCheck(foam_max=clinic.foam_max_ml)
    for area in areas:
        get = area.get if isinstance(area, dict) else lambda name, a=area: getattr(a, name)
        volume = Decimal(get("volume_ml") or 0)
        check.per_agent[get("agent")] = check.per_agent.get(get("agent"), Decimal(0)) + volume
        if get("form") == AgentForm.FOAM:
            check.foam += volume
        check.total += volume
    check.over_agents = {
        agent: maxima[agent]
        for agent, volume in check.per_agent.items()
        if agent in maxima and volume > maxima[agent]
    }
    check.over_foam = check.foam > clinic.foam_max_ml
    return check


def _ml(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def volume_warnings(areas, clinic: ClinicSettings, agents=None) -> list[str]:
    """What a doctor must confirm before a chart with these areas is saved: each area whose
    volume per injection is outside the clinic's usual range, and each session maximum passed
    (an agent's own, all foam together). `areas`: dicts with region, agent, form, volume_ml
    and injections (checked already); `agents`: as for volume_check."""
    warnings = []
    for area in areas:
        volume, injections = Decimal(area["volume_ml"]), area["injections"]
        each = volume / injections
        if not clinic.injection_ml_min <= each <= clinic.injection_ml_max:
            warnings.append(
                _(
                    "%(area)s: %(volume)s mL in %(injections)d injections is %(each)s mL per "
                    "injection, outside the usual %(low)s–%(high)s mL."
                )
                % {
                    "area": regions.label(area["region"]),
                    "volume": _ml(volume),
                    "injections": injections,
                    "each": _ml(each),
                    "low": _ml(clinic.injection_ml_min),
                    "high": _ml(clinic.injection_ml_max),
                }
            )
    return warnings + volume_check(areas, clinic, agents).over_texts


@dataclass
class PlanProgress:
    plan: TreatmentPlan
    charts: list[SessionChart]
    sessions_done: int
    sessions_left: int
    next_earliest: date | None
    # region key -> session numbers that treated it, for the table and the picture.
    sessions_by_area: dict[str, list[int]]
    # Touch-up visits after the plan was completed: charted, but not among its sessions.
    touch_ups: list[SessionChart] = field(default_factory=list)

    @property
    def area_rows(self) -> list[tuple[str, str, list[int]]]:
        keys = list(dict.fromkeys([*self.plan.areas, *self.sessions_by_area]))
        return [(k, regions.label(k), self.sessions_by_area.get(k, [])) for k in keys]

    @property
    def picture(self) -> list:
        counts = {k: len(v) for k, v in self.sessions_by_area.items()}
        views = diagram.build(counts=counts, planned=self.plan.areas)
        for view in views:
            # Planned areas drawn last, so no neighbour's edge covers their dashed outline.
            view.shapes.sort(key=lambda shape: shape.planned)
        return views


def plan_progress(plan: TreatmentPlan) -> PlanProgress:
    every = list(plan.charts.prefetch_related("areas").order_by("number"))
    charts = [chart for chart in every if not chart.is_touch_up]
    by_area: dict[str, list[int]] = defaultdict(list)
    for chart in charts:
        for area in chart.areas.all():
            if chart.number not in by_area[area.region]:
                by_area[area.region].append(chart.number)
    done = len(charts)
    left = max(0, plan.sessions_planned - done) if plan.status != PlanStatus.STOPPED else 0
    next_earliest = None
    if charts and left:
        next_earliest = charts[-1].treated_on + plan.interval
    return PlanProgress(
        plan=plan,
        charts=charts,
        sessions_done=done,
        sessions_left=left,
        next_earliest=next_earliest,
        sessions_by_area=dict(by_area),
        touch_ups=[chart for chart in every if chart.is_touch_up],
    )


@dataclass(frozen=True)
class AftercareMessage:
    """One step of the programme as a patient reads it, its numbers filled in."""

    step: AftercareStep
    # The day after the session day it arrives (0: the session day).
    offset_days: int
    title: str
    advice: str
    email_subject: str
    # The advice and the warning signs, as the email and the text message end.
    email_body: str
    sms_text: str


def aftercare_numbers(plan: TreatmentPlan | None = None) -> AftercareNumbers:
    return AftercareNumbers.of(get_clinic_settings(), plan)


def aftercare_steps(
    plan: TreatmentPlan | None = None, *, numbers: AftercareNumbers | None = None
) -> list[AftercareMessage]:
    """The after-session messages in order, with the plan's numbers (the clinic's without a
    plan), each ending with the warning signs. A step whose text can't be filled is left out
    of the page (and logged), never a page error."""
    clinic = get_clinic_settings()
    numbers = numbers or AftercareNumbers.of(clinic, plan)
    footer = clinic.warning_signs_text()
    found = []
    for step in AftercareStep.objects.filter(active=True):
        try:
            texts = step_texts(step, numbers)
        except TemplateError:
            continue  # logged by step_texts; the sender reports it on the message too
        found.append(
            AftercareMessage(
                step=step,
                offset_days=step.day(numbers),
                title=texts.title,
                advice=texts.email_body.strip(),
                email_subject=texts.email_subject,
                email_body=f"{texts.email_body.strip()}\n\n{footer}",
                sms_text=f"{texts.sms_text.strip()} {footer}",
            )
        )
    return found


def open_serious_events(doctor, clinic: ClinicSettings) -> QuerySet[AdverseEvent]:
    """Adverse events that alert, on this doctor's plans, that are not resolved or that the
    doctor has not acknowledged yet (one query; the settings are read by the caller)."""
    return (
        AdverseEvent.objects.alerting(clinic.alerting_event_types)
        .to_follow_up()
        .filter(plan__doctor=doctor)
        .select_related("plan__patient")
        .order_by("onset_on", "id")
    )


@dataclass(frozen=True)
class AftercareAdvice:
    """What a patient reads about the days after a session: the steps and the warning signs."""

    steps: list[AftercareMessage]
    warning_signs: str


def follow_ups(event: AdverseEvent) -> QuerySet[AdverseEventFollowUp]:
    """An event's follow-ups in date order (entered order within a day), with who wrote them."""
    return event.follow_ups.select_related("by").order_by("on", "id")


def aftercare_advice(plan: TreatmentPlan | None = None) -> AftercareAdvice:
    return AftercareAdvice(
        steps=aftercare_steps(plan), warning_signs=get_clinic_settings().warning_signs_text()
    )


def _shown_to_patient(patient) -> QuerySet[TreatmentPlan]:
    # A draft is still the doctor's; the patient sees a plan once it has started.
    return TreatmentPlan.objects.for_patient(patient).exclude(status=PlanStatus.DRAFT)


def patient_plans_progress(patient) -> list[PlanProgress]:
    """The progress of each plan the patient may see, for their treatment page."""
    return [plan_progress(plan) for plan in _shown_to_patient(patient)]


def latest_plan_progress(patient) -> PlanProgress | None:
    """The progress of the patient's newest plan they may see, for their home page."""
    plan = _shown_to_patient(patient).order_by("-created_at").first()
    return plan_progress(plan) if plan else None


# What assess, next_visits and rescreen_many read of a plan and its consultation: a page of
# many visits loads these columns (`only`), not the whole rows. Of the patient only the
# screening's confirmation is read, beside the plan (eligibility.confirmed_at): no Patient is
# built for it (a quarter of the gate's time on a day of a hundred visits).
GATE_FIELDS = (
    "patient_id",
    "consultation_id",
    "status",
    "sessions_planned",
    "areas",
    "created_at",
    *(
        f"consultation__{name}"
        for name in (
            "doctor_id",
            "acknowledged",
            "varicose_override",
            "varicose_override_at",
            "varicose_override_by_id",
            "varicose_override_reason",
            "created_at",
            "ceap_right",
            "ceap_left",
        )
    ),
)


def for_gate(plans, *, counted: bool = False):
    """`plans` (a TreatmentPlan queryset) with what the gate reads, and only that.
    `counted`: with their charts counted too, as eligibility.next_visits reads them (its
    query then saved)."""
    plans = (
        plans.select_related("consultation")
        .only(*GATE_FIELDS)
        .annotate(screening_confirmed_at=F("patient__screening_confirmed_at"))
    )
    if counted:
        charts = SessionChart.objects.filter(plan=OuterRef("pk")).order_by().values("plan")
        plans = plans.annotate(
            sessions_charted=Subquery(
                charts.filter(visit=Visit.SESSION).annotate(n=Count("pk")).values("n")
            ),
            last_charted=Subquery(charts.annotate(last=Max("number")).values("last")),
        )
    return plans


def gate_plans(plan_ids, touch_up_patients) -> tuple[dict, dict]:
    """({plan id: plan} for `plan_ids`, {patient id: the plan their touch-up follows} for
    `touch_up_patients`, as touch_up_plans finds it), in one query, with what the gate reads
    of them and their charts counted (for_gate)."""
    plan_ids, touch_up_patients = set(plan_ids), set(touch_up_patients)
    wanted = Q(pk__in=plan_ids) | Q(patient_id__in=touch_up_patients, status=PlanStatus.COMPLETED)
    plans = for_gate(TreatmentPlan.objects.filter(wanted), counted=True).order_by(
        "patient_id", "-completed_at", "-id"
    )
    by_id: dict[int, TreatmentPlan] = {}
    touch_ups: dict[int, TreatmentPlan] = {}
    for plan in plans:
        if plan.pk in plan_ids:
            by_id[plan.pk] = plan
        if plan.patient_id in touch_up_patients and plan.status == PlanStatus.COMPLETED:
            touch_ups.setdefault(plan.patient_id, plan)
    return by_id, touch_ups


def gated_plans(plans: str, touch_up_patients: str) -> str:
    """SQL of the plans the gate reads (id, patient, consultation) for the plans matching the
    condition `plans` and every plan of the patients matching `touch_up_patients` (a
    touch-up's gate reads its patient's latest completed plan): the `gated` of
    gate_versions()."""
    # A union, not an OR: each side is read through its own index (an OR of two IN
    # subqueries reads every plan).
    select = f"SELECT id, patient_id, consultation_id FROM {TreatmentPlan._meta.db_table}"
    return f"{select} WHERE {plans} UNION {select} WHERE {touch_up_patients}"


def gate_versions() -> str:
    """SQL of the versions of every row the gate reads for the plans of a query named `gated`
    (gated_plans), as the parts of a concat_ws(): the plans, their consultations and patients,
    the patients' screening answers and changes, the plans' clearances and charts, the
    clinic's settings. A write to any of them, by any path, changes one of these (the day
    view's fingerprint, scheduling.day_page). PostgreSQL only."""
    return ", ".join(
        [
            versions(TreatmentPlan._meta.db_table, "t.id IN (SELECT id FROM gated)"),
            versions(Consultation._meta.db_table, "t.id IN (SELECT consultation_id FROM gated)"),
            versions(Patient._meta.db_table, "t.id IN (SELECT patient_id FROM gated)"),
            versions(
                ScreeningAnswer._meta.db_table, "t.patient_id IN (SELECT patient_id FROM gated)"
            ),
            versions(
                ScreeningChange._meta.db_table, "t.patient_id IN (SELECT patient_id FROM gated)"
            ),
            versions(Clearance._meta.db_table, "t.plan_id IN (SELECT id FROM gated)"),
            versions(SessionChart._meta.db_table, "t.plan_id IN (SELECT id FROM gated)"),
            versions(ClinicSettings._meta.db_table, "TRUE"),
        ]
    )


def touch_up_plans(patient_ids, *, gate: bool = False) -> dict[int, TreatmentPlan]:
    """{patient id: their most recently completed plan}: the plan a touch-up visit follows
    (one query for a whole day of visits). `gate`: with what the eligibility gate reads of
    it, and only that (for_gate)."""
    plans = TreatmentPlan.objects.filter(
        patient_id__in=set(patient_ids), status=PlanStatus.COMPLETED
    ).order_by("patient_id", "-completed_at", "-id")
    if gate:
        plans = for_gate(plans)
    found: dict[int, TreatmentPlan] = {}
    for plan in plans:
        found.setdefault(plan.patient_id, plan)
    return found
