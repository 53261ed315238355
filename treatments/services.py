"""Every change to consultations, plans, charts and adverse events. Each use case checks the
actor, owns its transaction, audits, and raises TreatmentError with a message for the doctor."""

import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import Role
from patients import audit
from patients.models import AuditAction, Patient
from patients.selectors import screening_summary

from . import alerts, eligibility, regions
from .models import (
    CLEARANCE_REASON_MAX,
    COSIGN_NOTE_MAX,
    INJECTIONS_MAX,
    INJECTIONS_MIN,
    VOLUME_ML_MAX,
    VOLUME_ML_MIN,
    AdverseEvent,
    AdverseEventFollowUp,
    Agent,
    AgentForm,
    ChartAmendment,
    ChartCosignature,
    Clearance,
    ClearanceKind,
    Consultation,
    Decision,
    PlanStatus,
    SessionChart,
    TreatedArea,
    TreatmentPlan,
    VesselType,
    Visit,
    add_months,
)
from .selectors import agent_settings, get_clinic_settings, volume_warnings

# Chart fields that may change after saving; a signed chart changes them only by amendment.
AMENDABLE = ("immediate_reactions", "compression", "notes")
# What a treated area records that may be corrected the same way; its region is not a value.
AREA_AMENDABLE = ("vessel_type", "agent", "concentration", "form", "volume_ml", "injections")


class TreatmentError(Exception):
    """A use case that can't go ahead; the message is for the doctor who tried."""


class AlreadySaved(TreatmentError):
    """The same form was posted twice; `saved` is what the first post made."""

    def __init__(self, saved):
        super().__init__(_("This form was already saved; nothing was saved twice."))
        self.saved = saved


class VolumesNotConfirmed(TreatmentError):
    """Volumes outside the usual range, or above a session maximum: saved only once the doctor
    confirms them; `warnings` names each area and number."""

    def __init__(self, warnings: list[str]):
        super().__init__(
            _("Check the volumes below. To save them as they are, tick “I confirm these volumes”.")
        )
        self.warnings = warnings


def _doctor_only(by: Actor) -> None:
    if by.role != Role.DOCTOR:
        raise TreatmentError(_("Only a doctor can do this."))


def _once(model, token: uuid.UUID | None) -> None:
    """Refuse a second post of the same form (double click, browser resend)."""
    if token and (saved := model.objects.filter(form_token=token).first()):
        raise AlreadySaved(saved)


def _check_consultation(*, summary, decision_allows_plan: bool, data: dict, acknowledged) -> None:
    missing = [q for q in summary.relative if q.key not in set(acknowledged)]
    if missing:
        names = ", ".join(str(q.label) for q in missing)
        raise TreatmentError(_("Acknowledge each relative contraindication: %s.") % names)
    if decision_allows_plan and summary.missing:
        names = ", ".join(str(q.label) for q in summary.missing)
        raise TreatmentError(
            _("Answer every screening question before deciding the patient is eligible: %s.")
            % names
        )
    unknown = [q for q in summary.unknown if q.key not in set(acknowledged)]
    if decision_allows_plan and unknown:
        names = ", ".join(str(q.label) for q in unknown)
        raise TreatmentError(_("Acknowledge each answer the patient did not know: %s.") % names)
    if decision_allows_plan and summary.blocks_plan:
        raise TreatmentError(
            _("An absolute contraindication was answered yes: the patient can't be eligible.")
        )
    if data.get("varicose_override") and not data.get("varicose_override_reason", "").strip():
        raise TreatmentError(_("Write why you treat despite untreated varicose veins."))


def record_consultation(
    *,
    patient: Patient,
    data: dict,
    acknowledged: list[str],
    by: Actor,
    form_token: uuid.UUID | None = None,
) -> Consultation:
    """Save the doctor's findings and decision with the screening as it stands now."""
    _doctor_only(by)
    _once(Consultation, form_token)
    summary = screening_summary(patient)
    allows = data["decision"] in (Decision.ELIGIBLE, Decision.PRECAUTIONS)
    _check_consultation(
        summary=summary, decision_allows_plan=allows, data=data, acknowledged=acknowledged
    )
    relative_yes = {q.key for q in summary.to_acknowledge}
    consultation = Consultation(
        patient=patient,
        doctor=by.user,
        screening_reviewed={k: a.answer for k, a in summary.answers.items()},
        acknowledged=sorted(set(acknowledged) & relative_yes),
        form_token=form_token,
        **data,
    )
    if consultation.varicose_override:
        consultation.varicose_override_reason = consultation.varicose_override_reason.strip()
        consultation.varicose_override_by = by.user
        consultation.varicose_override_at = timezone.now()
    else:
        consultation.varicose_override_reason = ""
    try:
        # The row and its audit entry together; a savepoint when seed_demo's transaction holds
        # it (not durable), so a lost race below leaves that transaction usable.
        with transaction.atomic():
            consultation.save()
            audit.record(
                actor=by,
                patient=patient,
                action=AuditAction.CREATE,
                subject=f"consultation:{consultation.pk}",
                details={
                    "decision": consultation.decision,
                    "varicose_override": consultation.varicose_override,
                },
            )
    except IntegrityError as error:
        # Two posts of one form raced past the check above; the first one won.
        raise AlreadySaved(Consultation.objects.get(form_token=form_token)) from error
    return consultation


def _check_plan(*, patient: Patient, consultation: Consultation, areas, sessions: int) -> None:
    clinic = get_clinic_settings()
    if consultation.patient_id != patient.pk:
        raise TreatmentError(_("This consultation belongs to another patient."))
    if not consultation.allows_plan:
        raise TreatmentError(_("The consultation did not find the patient eligible."))
    if not areas:
        raise TreatmentError(_("Choose at least one area to treat."))
    if any(not regions.is_region(key) for key in areas):
        raise TreatmentError(_("One of the areas does not exist. Choose areas from the diagram."))
    if not clinic.sessions_min <= sessions <= clinic.sessions_max:
        raise TreatmentError(
            _("A plan has between %(min)d and %(max)d sessions.")
            % {"min": clinic.sessions_min, "max": clinic.sessions_max}
        )


def _plan_blockers(plan: TreatmentPlan, *, override_reason: str) -> list[eligibility.Problem]:
    """The eligibility gate for making or starting `plan`: its blockers, which the doctor
    overrides for the whole plan by writing `override_reason`; else TreatmentError naming
    them."""
    verdict = eligibility.assess(plan, clearances=None if plan.pk else [])
    if verdict.blockers and not override_reason:
        names = "; ".join(str(p) for p in verdict.blockers)
        raise TreatmentError(
            _(
                "Treatment is blocked: %(names)s. To go ahead anyway, write why in "
                "“Override: why treat anyway”."
            )
            % {"names": names}
        )
    if len(override_reason) > CLEARANCE_REASON_MAX:
        raise TreatmentError(
            _("Write the reason in at most %(n)d characters.") % {"n": CLEARANCE_REASON_MAX}
        )
    return verdict.blockers


def _override(plan, problems, *, reason: str, by: Actor, session: int | None = None) -> list:
    """Clearances for `problems` of `plan` (an override with `reason` for a blocker, an
    acknowledgment for the rest), audited with the plan."""
    now = timezone.now()
    rows = Clearance.objects.bulk_create(
        Clearance(
            plan=plan,
            session=session,
            key=problem.key,
            kind=ClearanceKind.ACKNOWLEDGMENT if problem.acknowledge else ClearanceKind.OVERRIDE,
            reason=reason,
            by=by.user,
            at=now,
        )
        for problem in problems
    )
    if rows:
        audit.record(
            actor=by,
            patient=plan.patient,
            action=AuditAction.CHANGE,
            subject=f"plan:{plan.pk}",
            details={
                "cleared": [[c.kind, c.key] for c in rows],
                "session": session,
            },
        )
    return rows


def create_plan(
    *,
    patient: Patient,
    consultation: Consultation,
    areas: list[str],
    sessions: int,
    interval_weeks: int,
    hose_days: int,
    start: bool,
    notes: str,
    by: Actor,
    form_token: uuid.UUID | None = None,
    override_reason: str = "",
) -> TreatmentPlan:
    """Make a plan from an eligible consultation. What the eligibility gate blocks (the
    screening as it stands now, the consultation's CEAP on the legs treated) needs
    `override_reason`: the override for the whole plan, kept with it."""
    _doctor_only(by)
    _once(TreatmentPlan, form_token)
    _check_plan(patient=patient, consultation=consultation, areas=areas, sessions=sessions)
    if start:
        _check_one_active(patient)
    clinic = get_clinic_settings()
    areas = list(dict.fromkeys(areas))
    override_reason = override_reason.strip()
    blockers = _plan_blockers(
        TreatmentPlan(patient=patient, consultation=consultation, areas=areas),
        override_reason=override_reason,
    )
    plan = TreatmentPlan(
        patient=patient,
        doctor=by.user,
        consultation=consultation,
        areas=areas,
        sessions_planned=sessions,
        interval_weeks=interval_weeks,
        hose_days=hose_days,
        session_minutes=clinic.session_minutes(len(areas)),
        status=PlanStatus.ACTIVE if start else PlanStatus.DRAFT,
        estrogen_warning=screening_summary(patient).estrogen,
        notes=notes,
        form_token=form_token,
    )
    try:
        # As in record_consultation: one unit, and not durable (seed_demo holds it).
        with transaction.atomic():
            plan.save()
            audit.record(
                actor=by,
                patient=patient,
                action=AuditAction.CREATE,
                subject=f"plan:{plan.pk}",
                details={"sessions": sessions, "areas": len(areas), "status": plan.status},
            )
            _override(plan, blockers, reason=override_reason, by=by)
    except IntegrityError as error:
        if form_token and (saved := TreatmentPlan.objects.filter(form_token=form_token).first()):
            raise AlreadySaved(saved) from error
        # The other unique rule: a plan of this patient's was started meanwhile.
        raise TreatmentError(_one_active_message(patient)) from error
    return plan


def _one_active_message(patient: Patient) -> str:
    active = TreatmentPlan.objects.filter(patient=patient, status=PlanStatus.ACTIVE).first()
    return _(
        "This patient already has an active plan (#%(n)s): complete or stop it before "
        "starting another."
    ) % {"n": active.pk if active else "?"}


def _check_one_active(patient: Patient, *, other_than: int | None = None) -> None:
    """A patient has one active plan at a time (a partial unique index keeps it under a race)."""
    others = TreatmentPlan.objects.filter(patient=patient, status=PlanStatus.ACTIVE)
    if others.exclude(pk=other_than).exists():
        raise TreatmentError(_one_active_message(patient))


# Not durable: an upper app may stop a plan within its own change (as scheduling's test does).
@transaction.atomic
def set_plan_status(*, plan: TreatmentPlan, status: str, reason: str = "", by: Actor) -> None:
    """Start a draft plan, or stop an open one (with a reason)."""
    _doctor_only(by)
    # Lock the plan: a session charted at the same moment could complete it meanwhile.
    plan = locked(TreatmentPlan.objects).get(pk=plan.pk)
    if status == PlanStatus.ACTIVE and plan.status == PlanStatus.DRAFT:
        _check_plan(
            patient=plan.patient,
            consultation=plan.consultation,
            areas=plan.areas,
            sessions=plan.sessions_planned,
        )
        if message := eligibility.assess(plan).message(eligibility.Step.PLAN):
            raise TreatmentError(message)
        _check_one_active(plan.patient, other_than=plan.pk)
        plan.status = PlanStatus.ACTIVE
        try:
            # A savepoint: losing the race for "the" active plan leaves the caller's
            # transaction usable for the message.
            with transaction.atomic():
                plan.save(update_fields=["status"])
        except IntegrityError as error:
            raise TreatmentError(_one_active_message(plan.patient)) from error
    elif status == PlanStatus.STOPPED and plan.status in (PlanStatus.DRAFT, PlanStatus.ACTIVE):
        if not reason.strip():
            raise TreatmentError(_("Say why the plan stops."))
        plan.status, plan.stop_reason, plan.stopped_at = status, reason.strip(), timezone.now()
        plan.save(update_fields=["status", "stop_reason", "stopped_at"])
    else:
        raise TreatmentError(_("This plan can't change to that status now."))
    audit.record(
        actor=by,
        patient=plan.patient,
        action=AuditAction.CHANGE,
        subject=f"plan:{plan.pk}",
        details={"status": status},
    )


# Not durable, like set_plan_status.
@transaction.atomic
def clear_for_treatment(
    *, plan: TreatmentPlan, keys: list[str], session: int | None, reason: str, by: Actor
) -> list[Clearance]:
    """A doctor lets treatment go ahead despite what the eligibility gate found now: an
    override (with `reason`) of each blocker in `keys`, an acknowledgment of each relative
    contraindication, for the whole plan or (`session`) for that visit only. `keys` are what
    the doctor was shown: if the gate finds something else now, nothing is saved."""
    _doctor_only(by)
    plan = (
        locked(TreatmentPlan.objects, of=("self",))
        .select_related("patient", "consultation")
        .get(pk=plan.pk)
    )
    if plan.status == PlanStatus.STOPPED:
        raise TreatmentError(_("This plan is stopped."))
    if session is not None and not 1 <= session <= eligibility.MAX_VISIT:
        raise TreatmentError(_("Choose the whole plan or its next visit."))
    verdict = eligibility.assess(plan, session=session)
    found = {p.key: p for p in verdict.blockers + verdict.to_acknowledge}
    keys = list(dict.fromkeys(keys))
    if not keys or not found:
        raise TreatmentError(_("Nothing here needs a doctor's decision any more."))
    if set(keys) != set(found):
        raise TreatmentError(
            _("The screening changed since this page was opened. Look at it again.")
        )
    problems = [found[key] for key in keys]
    reason = reason.strip()
    if any(not p.acknowledge for p in problems) and not reason:
        raise TreatmentError(_("Write why treatment goes ahead despite this."))
    if len(reason) > CLEARANCE_REASON_MAX:
        raise TreatmentError(
            _("Write the reason in at most %(n)d characters.") % {"n": CLEARANCE_REASON_MAX}
        )
    return _override(plan, problems, reason=reason, by=by, session=session)


def _plain(number: Decimal) -> str:
    """50, 0.5, 23.4: no trailing zeros and never "5E+1" (what Decimal.normalize alone gives)."""
    return format(number.normalize(), "f")


def _amount(value) -> Decimal | None:
    """A finite number with at most two decimals (what the chart stores), or None."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite() or number != number.quantize(Decimal("0.01")):
        return None
    return number


def _check_amounts(area: dict, name: str) -> str | None:
    """What is wrong with an area's choices, volume or injections, or None."""
    if (
        area.get("vessel_type") not in VesselType.values
        or area.get("agent") not in Agent.values
        or area.get("form") not in AgentForm.values
    ):
        return _("%(area)s: choose the vessels, the agent and the form from the lists.") % {
            "area": name
        }
    volume = _amount(area.get("volume_ml"))
    if volume is None or not VOLUME_ML_MIN <= volume <= VOLUME_ML_MAX:
        return _("%(area)s: the volume is %(low)s–%(high)s mL, with at most two decimals.") % {
            "area": name,
            "low": _plain(VOLUME_ML_MIN),
            "high": _plain(VOLUME_ML_MAX),
        }
    injections = area.get("injections")
    if (
        not isinstance(injections, int)
        or isinstance(injections, bool)
        or not INJECTIONS_MIN <= injections <= INJECTIONS_MAX
    ):
        return _("%(area)s: the number of injections is %(low)d–%(high)d.") % {
            "area": name,
            "low": INJECTIONS_MIN,
            "high": INJECTIONS_MAX,
        }
    return None


def check_area(area: dict, *, foam_blocked: bool, agents=None, keep_agent: str = "") -> str | None:
    """What is wrong with one treated area, or None. A new chart and a corrected area both pass
    here, so a correction obeys the rules a new chart does. `agents`: agent_settings(), when the
    caller checks several areas (read here otherwise). `keep_agent`: the agent a corrected area
    already has, which it may keep though the clinic no longer uses it."""
    if not regions.is_region(area.get("region", "")):
        return _("One of the areas does not exist. Choose areas from the diagram.")
    name = regions.label(area["region"])
    if problem := _check_amounts(area, name):
        return problem
    setting = (agent_settings() if agents is None else agents).get(area["agent"])
    if setting is None or not (setting.active or area["agent"] == keep_agent):
        return _("%(area)s: %(agent)s is not in use at the clinic.") % {
            "area": name,
            "agent": Agent(area["agent"]).label,
        }
    low, high = setting.concentration_min, setting.concentration_max
    concentration = _amount(area.get("concentration"))
    if concentration is None or not low <= concentration <= high:
        return _("%(area)s: the concentration for this agent is %(low)s–%(high)s %%.") % {
            "area": name,
            "low": _plain(low),
            "high": _plain(high),
        }
    if area["form"] == AgentForm.FOAM and not setting.foam_allowed:
        return _("%(area)s: %(agent)s is not used as foam at the clinic.") % {
            "area": name,
            "agent": Agent(area["agent"]).label,
        }
    if area["form"] == AgentForm.FOAM and foam_blocked:
        return _("No foam: the patient has a known right-to-left shunt.")
    return None


def _complete_if_last(plan: TreatmentPlan, chart: SessionChart) -> None:
    if chart.number < plan.sessions_planned:
        return
    plan.status = PlanStatus.COMPLETED
    plan.completed_at = timezone.now()
    plan.touch_up_due = add_months(chart.treated_on, get_clinic_settings().touch_up_months)
    plan.save(update_fields=["status", "completed_at", "touch_up_due"])


def record_session(
    *,
    plan: TreatmentPlan,
    treated_on: date,
    areas: list[dict],
    immediate_reactions: str,
    compression: str,
    notes: str,
    sign: bool,
    by: Actor,
    form_token: uuid.UUID | None = None,
    visit: str = Visit.SESSION,
    volumes_confirmed: bool = False,
) -> SessionChart:
    """Chart the plan's next session (charting the last one completes the plan), or, with
    `visit` TOUCH_UP, a touch-up visit of a completed plan under the same chart rules. Volumes
    outside the clinic's usual range are saved only with `volumes_confirmed`, kept on the chart."""
    _doctor_only(by)
    if visit not in Visit.values:
        raise TreatmentError(_("Chart a session or a touch-up."))
    _once(SessionChart, form_token)
    if not areas:
        raise TreatmentError(_("Mark at least one treated area."))
    foam_blocked = screening_summary(plan.patient).foam_blocked
    agents = agent_settings()
    for area in areas:
        if problem := check_area(area, foam_blocked=foam_blocked, agents=agents):
            raise TreatmentError(problem)
    warnings = volume_warnings(areas, get_clinic_settings(), agents)
    if warnings and not volumes_confirmed:
        raise VolumesNotConfirmed(warnings)
    try:
        # Not durable: seed_demo charts its demo sessions inside its one transaction.
        with transaction.atomic():
            chart = _save_chart(
                plan=plan,
                treated_on=treated_on,
                areas=areas,
                fields={
                    "immediate_reactions": immediate_reactions,
                    "compression": compression,
                    "notes": notes,
                    "volumes_confirmed": bool(warnings),
                    "volume_warnings": "\n".join(warnings),
                },
                sign=sign,
                by=by,
                form_token=form_token,
                visit=visit,
            )
    except IntegrityError as error:
        saved = SessionChart.objects.filter(form_token=form_token).first() if form_token else None
        if saved:
            raise AlreadySaved(saved) from error
        raise TreatmentError(_("This session was charted by someone else meanwhile.")) from error
    return chart


def _next_number(plan: TreatmentPlan, visit: str) -> int:
    """The number the new chart takes, or why the plan can't take this kind of visit now."""
    if visit == Visit.TOUCH_UP:
        if plan.status != PlanStatus.COMPLETED:
            raise TreatmentError(
                _("A touch-up follows a completed plan; this plan is %(status)s.")
                % {"status": plan.get_status_display().lower()}
            )
        last = plan.charts.order_by("-number").first()
        return last.number + 1 if last else plan.sessions_planned + 1
    if plan.status == PlanStatus.COMPLETED:
        raise TreatmentError(_("This plan is completed: a visit now is charted as a touch-up."))
    if plan.status != PlanStatus.ACTIVE:
        raise TreatmentError(_("Only an active plan can be charted."))
    done = plan.charts.sessions().count()
    if done >= plan.sessions_planned:
        raise TreatmentError(_("Every session of this plan is charted."))
    return done + 1


def _save_chart(*, plan, treated_on, areas, fields, sign, by, form_token, visit) -> SessionChart:
    # Lock the plan (its row only): two doctors charting at once must not both become session N.
    plan = (
        locked(TreatmentPlan.objects, of=("self",))
        .select_related("patient", "consultation")
        .get(pk=plan.pk)
    )
    number = _next_number(plan, visit)
    if message := eligibility.assess(plan, session=number).message(eligibility.Step.CHART):
        raise TreatmentError(message)
    last = plan.charts.order_by("-treated_on").first()
    if last and treated_on < last.treated_on:
        raise TreatmentError(_("The date is before the plan's previous charted visit."))
    now = timezone.now()
    chart = SessionChart.objects.create(
        plan=plan,
        number=number,
        visit=visit,
        treated_on=treated_on,
        doctor=by.user,
        signed_at=now if sign else None,
        signed_by=by.user if sign else None,
        form_token=form_token,
        **fields,
    )
    TreatedArea.objects.bulk_create([TreatedArea(chart=chart, **area) for area in areas])
    if visit == Visit.SESSION:
        _complete_if_last(plan, chart)
    audit.record(
        actor=by,
        patient=plan.patient,
        action=AuditAction.CREATE,
        subject=f"chart:{chart.pk}",
        details={
            "plan": plan.pk,
            "session": chart.number,
            "visit": visit,
            "areas": len(areas),
            "signed": sign,
            "volumes_confirmed": chart.volumes_confirmed,
        },
    )
    return chart


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


# Not durable, like the chart changes below: their writes are all rows, which may ride on a
# caller's transaction.
@transaction.atomic
def sign_chart(*, chart: SessionChart, by: Actor) -> None:
    """The treating doctor signs their chart; another doctor may co-sign it, never sign it."""
    _doctor_only(by)
    # Lock the chart's row (of: not the plan and patient it reads): a second signature waits
    # and is refused instead of replacing the first.
    chart = (
        locked(SessionChart.objects, of=("self",))
        .select_related("plan__patient", "doctor")
        .get(pk=chart.pk)
    )
    if chart.is_signed:
        raise TreatmentError(_("This chart is already signed."))
    if chart.doctor_id != by.user.pk:
        raise TreatmentError(
            _(
                "Only %(doctor)s, who treated this session, can sign this chart. Once it is "
                "signed, you can co-sign it."
            )
            % {"doctor": _name(chart.doctor)}
        )
    chart.signed_at, chart.signed_by = timezone.now(), by.user
    chart.save(update_fields=["signed_at", "signed_by"])
    audit.record(
        actor=by,
        patient=chart.plan.patient,
        action=AuditAction.CHANGE,
        subject=f"chart:{chart.pk}",
        details={"signed": True},
    )


@transaction.atomic
def cosign_chart(*, chart: SessionChart, by: Actor, note: str = "") -> ChartCosignature:
    """Another doctor has read a signed chart and agrees: their name is added beside the
    treating doctor's signature, which stays as it is."""
    _doctor_only(by)
    note = note.strip()
    if len(note) > COSIGN_NOTE_MAX:
        raise TreatmentError(
            _("Keep the note to %(max)d characters; a longer remark is an amendment.")
            % {"max": COSIGN_NOTE_MAX}
        )
    # Lock the chart's row: two presses of "Co-sign" at once (two tabs) would both find no
    # co-signature of theirs below; the second waits and is refused instead of failing.
    chart = (
        locked(SessionChart.objects, of=("self",))
        .select_related("plan__patient", "doctor")
        .get(pk=chart.pk)
    )
    if not chart.is_signed:
        raise TreatmentError(
            _("%(doctor)s has not signed this chart yet; it can be co-signed once signed.")
            % {"doctor": _name(chart.doctor)}
        )
    if chart.doctor_id == by.user.pk:
        raise TreatmentError(_("You treated this session: your signature is already on it."))
    if chart.cosignatures.filter(doctor=by.user).exists():
        raise TreatmentError(_("You have already co-signed this chart."))
    cosignature = ChartCosignature.objects.create(chart=chart, doctor=by.user, note=note)
    audit.record(
        actor=by,
        patient=chart.plan.patient,
        action=AuditAction.CREATE,
        subject=f"chart:{chart.pk}",
        details={"cosignature": cosignature.pk},
    )
    return cosignature


def keeps_amendments(chart: SessionChart, user) -> bool:
    """Whether a change by `user` is kept as an amendment (the earlier value, a reason, who and
    when): on a signed chart, and on another doctor's draft. Only the treating doctor's own
    unsigned draft changes in place."""
    return chart.is_signed or chart.doctor_id != user.pk


def _reason_needed(chart: SessionChart) -> str:
    if chart.is_signed:
        return _("A signed chart needs a reason for every change.")
    return _(
        "Another doctor treated this session: say why you change their chart. The change is "
        "kept beside it with your reason."
    )


@transaction.atomic
def change_chart_text(
    *, chart: SessionChart, field: str, new_text: str, reason: str, by: Actor
) -> ChartAmendment | None:
    """Change a text of a chart. A signed chart, or another doctor's draft, is amended: the
    earlier text, the reason, who and when are kept. The treating doctor's unsigned draft
    changes in place."""
    _doctor_only(by)
    if field not in AMENDABLE:
        raise TreatmentError(_("This part of the chart can't be changed."))
    # Lock the chart: a signature landing meanwhile would let the change skip its amendment.
    chart = (
        locked(SessionChart.objects, of=("self",)).select_related("plan__patient").get(pk=chart.pk)
    )
    old_text = getattr(chart, field)
    if old_text == new_text:
        raise TreatmentError(_("The new text is the same as the old one."))
    amendment = None
    if keeps_amendments(chart, by.user):
        if not reason.strip():
            raise TreatmentError(_reason_needed(chart))
        amendment = ChartAmendment.objects.create(
            chart=chart,
            field=field,
            old_text=old_text,
            new_text=new_text,
            reason=reason.strip(),
            by=by.user,
        )
    setattr(chart, field, new_text)
    chart.save(update_fields=[field])
    audit.record(
        actor=by,
        patient=chart.plan.patient,
        action=AuditAction.CHANGE,
        subject=f"chart:{chart.pk}",
        details={"field": field, "amendment": amendment.pk if amendment else None},
    )
    return amendment


def area_fingerprint(area: TreatedArea) -> str:
    """The area's values as one string: the correction page carries it, so a correction made
    on values someone else has changed since is refused instead of quietly undoing theirs."""
    values = (getattr(area, name) for name in AREA_AMENDABLE)
    return "|".join(f"{v:.2f}" if isinstance(v, Decimal) else str(v) for v in values)


@transaction.atomic
def amend_treated_area(
    *,
    chart: SessionChart,
    area: TreatedArea,
    data: dict,
    reason: str,
    by: Actor,
    shown: str | None = None,
    volumes_confirmed: bool = False,
) -> list[ChartAmendment]:
    """Correct the values of one treated area under the rules a new chart follows. On a signed
    chart (or another doctor's draft) each changed value becomes an amendment that keeps the
    earlier value, the reason, who and when; the treating doctor's own draft changes in place.
    `shown` is area_fingerprint() of the values the doctor started from, where a page is
    involved. Volume
    warnings the chart has not had confirmed yet (the corrected area among the chart's others)
    need `volumes_confirmed`; the chart then records the warnings, as a new chart does."""
    _doctor_only(by)
    # Lock the chart: a signature landing meanwhile would let a change skip its amendment, and
    # two corrections at once would each keep a stale "before".
    chart = (
        locked(SessionChart.objects, of=("self",)).select_related("plan__patient").get(pk=chart.pk)
    )
    area = chart.areas.filter(pk=area.pk).first()
    if area is None:
        raise TreatmentError(_("This area is not part of this chart."))
    if shown is not None and shown != area_fingerprint(area):
        raise TreatmentError(
            _("Someone else changed this area meanwhile. Look at it again before changing it.")
        )
    if set(data) - set(AREA_AMENDABLE):
        raise TreatmentError(_("This part of the area can't be changed."))
    new = {name: getattr(area, name) for name in AREA_AMENDABLE} | data
    # An area charted as foam may keep it; turning one into foam follows today's screening.
    foam_blocked = (
        area.form != AgentForm.FOAM and screening_summary(chart.plan.patient).foam_blocked
    )
    agents = agent_settings()
    corrected = {**new, "region": area.region}
    # An agent the clinic no longer uses stays on the area it was charted on; none is new.
    if problem := check_area(
        corrected, foam_blocked=foam_blocked, agents=agents, keep_agent=area.agent
    ):
        raise TreatmentError(problem)
    for name in ("concentration", "volume_ml"):
        new[name] = corrected[name] = _amount(new[name])
    changed = [name for name in AREA_AMENDABLE if new[name] != getattr(area, name)]
    if not changed:
        raise TreatmentError(_("Nothing changed: the new values are the same as the old ones."))
    kept = keeps_amendments(chart, by.user)
    if kept and not reason.strip():
        raise TreatmentError(_reason_needed(chart))
    warnings = _warnings_with(chart, area, corrected, agents)
    if set(warnings) - set(chart.volume_warnings.splitlines()) and not volumes_confirmed:
        raise VolumesNotConfirmed(warnings)
    before = {name: area.value_text(name) for name in changed}
    for name in changed:
        setattr(area, name, new[name])
    area.save(update_fields=changed)
    amendments = (
        _area_amendments(chart=chart, area=area, before=before, reason=reason.strip(), by=by)
        if kept
        else []
    )
    amendments += _record_volume_warnings(chart, warnings, reason=reason.strip(), by=by)
    audit.record(
        actor=by,
        patient=chart.plan.patient,
        action=AuditAction.CHANGE,
        subject=f"chart:{chart.pk}",
        details={
            "area": area.pk,
            "fields": changed,
            "amendments": [a.pk for a in amendments],
            "volumes_confirmed": chart.volumes_confirmed,
        },
    )
    return amendments


def _warnings_with(chart: SessionChart, area: TreatedArea, corrected: dict, agents) -> list[str]:
    """The volume warnings of the chart with `corrected` in place of `area`, in the chart's
    order of areas (so a warning reads as it did when the chart was saved)."""
    rows = [
        corrected
        if each.pk == area.pk
        else {name: getattr(each, name) for name in (*AREA_AMENDABLE, "region")}
        for each in chart.areas.all()
    ]
    return volume_warnings(rows, get_clinic_settings(), agents)


def _record_volume_warnings(chart, warnings: list[str], *, reason: str, by: Actor) -> list:
    """The chart keeps the warnings that apply now, confirmed; on a signed chart the earlier
    ones stay in an amendment. Returns it, or nothing when the warnings are as they were."""
    text = "\n".join(warnings)
    if text == chart.volume_warnings:
        return []
    old_text = chart.volume_warnings
    chart.volumes_confirmed, chart.volume_warnings = bool(warnings), text
    chart.save(update_fields=["volumes_confirmed", "volume_warnings"])
    if not chart.is_signed:
        return []
    return [
        ChartAmendment.objects.create(
            chart=chart,
            field="volume_warnings",
            old_text=old_text,
            new_text=text,
            reason=reason,
            by=by.user,
        )
    ]


def _area_amendments(*, chart, area, before: dict[str, str], reason: str, by: Actor):
    """One amendment per changed value of a saved area: `before` holds the earlier texts."""
    now = timezone.now()
    return ChartAmendment.objects.bulk_create(
        ChartAmendment(
            chart=chart,
            field=ChartAmendment.area_field(area.region, name),
            old_text=old_text,
            new_text=area.value_text(name),
            reason=reason,
            by=by.user,
            at=now,
        )
        for name, old_text in before.items()
    )


def report_adverse_event(
    *, plan: TreatmentPlan, data: dict, by: Actor, form_token: uuid.UUID | None = None
) -> AdverseEvent:
    """Record an adverse event; one of a type the clinic's settings name alerts the treating
    doctor through the outbox (sent within a minute, retried while the mail server is down)
    and stays on their home page until they acknowledge it."""
    _doctor_only(by)
    _once(AdverseEvent, form_token)
    if data.get("region") and not regions.is_region(data["region"]):
        raise TreatmentError(_("One of the areas does not exist. Choose areas from the diagram."))
    if data.get("chart") and data["chart"].plan_id != plan.pk:
        raise TreatmentError(_("That session belongs to another plan."))
    alerts_on = get_clinic_settings().alerts_on(data["type"])
    try:
        with transaction.atomic():
            event = AdverseEvent(plan=plan, reported_by=by.user, form_token=form_token, **data)
            _record_closing(event, was_closed=False, by=by)
            event.save()
            audit.record(
                actor=by,
                patient=plan.patient,
                action=AuditAction.CREATE,
                subject=f"adverse event:{event.pk}",
                details={"type": event.type, "severity": event.severity},
            )
            if alerts_on:
                alerts.serious_event_recorded(event)
                event.alerted_at = timezone.now()
                event.save(update_fields=["alerted_at"])
    except IntegrityError as error:
        raise AlreadySaved(AdverseEvent.objects.get(form_token=form_token)) from error
    return event


@transaction.atomic(durable=True)
def acknowledge_adverse_event(*, event_id: int, by: Actor) -> AdverseEvent:
    """The treating doctor has seen a serious event: it leaves their home page once resolved,
    and an alert still waiting in the outbox is withdrawn."""
    _doctor_only(by)
    # Locked: a second press (another tab) finds it acknowledged and changes nothing.
    event = (
        locked(AdverseEvent.objects, of=("self",))
        .select_related("plan__patient")
        .filter(pk=event_id)
        .first()
    )
    if event is None or event.plan.doctor_id != by.user.pk:
        raise TreatmentError(_("Only the treating doctor can acknowledge this event."))
    if event.acknowledged_at:
        return event
    event.acknowledged_at = timezone.now()
    event.acknowledged_by = by.user
    event.save(update_fields=["acknowledged_at", "acknowledged_by"])
    alerts.acknowledged(event)
    audit.record(
        actor=by,
        patient=event.plan.patient,
        action=AuditAction.CHANGE,
        subject=f"adverse event:{event.pk}",
        details={"fields": ["acknowledged_at"]},
    )
    return event


def _record_closing(event: AdverseEvent, *, was_closed: bool, by: Actor) -> list[str]:
    """Whoever sets or clears the date it resolved closes or reopens the event: keep who and
    when on the row (the audit log keeps the history). Returns the fields it set."""
    if event.is_closed == was_closed:
        return []
    if event.is_closed:
        event.closed_at, event.closed_by = timezone.now(), by.user
    else:
        event.closed_at, event.closed_by = None, None
    return ["closed_at", "closed_by"]


def _locked_event(event: AdverseEvent) -> AdverseEvent:
    return (
        locked(AdverseEvent.objects, of=("self",)).select_related("plan__patient").get(pk=event.pk)
    )


# Not durable: its writes are all rows, which may ride on a caller's transaction.
@transaction.atomic
def update_adverse_event(*, event: AdverseEvent, data: dict, by: Actor) -> AdverseEvent:
    """Record management, follow-up and the date it resolved (which closes the event)."""
    _doctor_only(by)
    # Lock the event: a change of its onset meanwhile would let it resolve before it began.
    event = _locked_event(event)
    if data.get("resolved_on") and data["resolved_on"] < event.onset_on:
        raise TreatmentError(_("An event can't resolve before it began."))
    changed = [name for name, value in data.items() if getattr(event, name) != value]
    was_closed = event.is_closed
    for name, value in data.items():
        setattr(event, name, value)
    closing = _record_closing(event, was_closed=was_closed, by=by)
    event.save(update_fields=[*data, *closing])
    audit.record(
        actor=by,
        patient=event.plan.patient,
        action=AuditAction.CHANGE,
        subject=f"adverse event:{event.pk}",
        details={"fields": changed + closing},
    )
    return event


@transaction.atomic(durable=True)
def close_adverse_event(
    *, event: AdverseEvent, resolved_on: date, outcome: str, by: Actor
) -> AdverseEvent:
    """A doctor closes the event with the date it resolved and how it ended; it then takes no
    more follow-ups and leaves the treating doctor's home once they have seen it."""
    _doctor_only(by)
    outcome = outcome.strip()
    if not outcome:
        raise TreatmentError(_("Write how the event ended."))
    # Locked: a second doctor closing at the same moment finds it closed, not closes it again
    # under their name; a follow-up being added waits and lands before the close.
    event = _locked_event(event)
    if event.is_closed:
        raise TreatmentError(_("This event is already closed."))
    if resolved_on < event.onset_on:
        raise TreatmentError(_("An event can't resolve before it began."))
    event.resolved_on, event.outcome = resolved_on, outcome
    closing = _record_closing(event, was_closed=False, by=by)
    event.save(update_fields=["resolved_on", "outcome", *closing])
    audit.record(
        actor=by,
        patient=event.plan.patient,
        action=AuditAction.CHANGE,
        subject=f"adverse event:{event.pk}",
        details={"fields": ["resolved_on", "outcome", *closing]},
    )
    return event


def add_follow_up(*, event: AdverseEvent, data: dict, by: Actor) -> AdverseEventFollowUp:
    """A dated entry on an open event: what was done and its outcome. `data`: on, action,
    outcome, form_token (optional)."""
    _doctor_only(by)
    data = {**data, "action": data["action"].strip(), "outcome": data["outcome"].strip()}
    token = data.pop("form_token", None)
    _once(AdverseEventFollowUp, token)
    if not data["action"] or not data["outcome"]:
        raise TreatmentError(_("Write what was done and its outcome."))
    try:
        with transaction.atomic(durable=True):
            return _add_follow_up(event=event, data=data, token=token, by=by)
    except IntegrityError as error:  # the same form posted twice at once: its token is taken
        if token is None:
            raise
        raise AlreadySaved(AdverseEventFollowUp.objects.get(form_token=token)) from error


def _add_follow_up(*, event, data, token, by) -> AdverseEventFollowUp:
    # Locked: an event closed meanwhile must refuse the entry, not gain one after its close.
    event = _locked_event(event)
    if event.is_closed:
        raise TreatmentError(_("This event is closed: it takes no more follow-ups."))
    if data["on"] < event.onset_on:
        raise TreatmentError(_("A follow-up can't come before the event began."))
    follow_up = AdverseEventFollowUp.objects.create(
        event=event, by=by.user, form_token=token, **data
    )
    audit.record(
        actor=by,
        patient=event.plan.patient,
        action=AuditAction.CREATE,
        subject=f"adverse event:{event.pk}",
        details={"follow_up": follow_up.pk, "on": data["on"].isoformat()},
    )
    return follow_up


def move_patient_rows(*, keep: Patient, duplicate: Patient) -> dict[str, int]:
    """This app's part of merging two patient records (patients/merging.py): consultations and
    plans follow the kept record; charts and events follow their plan."""
    return {
        model._meta.label: model.objects.filter(patient=duplicate).update(patient=keep)
        for model in (Consultation, TreatmentPlan)
    }
