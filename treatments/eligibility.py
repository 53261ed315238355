"""The eligibility gate: may this plan's patient be treated now, and if not, why.

Asked wherever treatment can happen (making or starting a plan, booking or moving a session,
checking the patient in, charting), always with the screening as it stands that day, so an
answer changed after the consultation counts at the next step, not only at the plan.

- A **blocker** stops every step: an absolute contraindication answered yes, untreated varicose
  veins, or CEAP C2 or above on a leg the plan treats. A doctor may override it with a reason,
  for the plan or for one visit (`Clearance`); the consultation's own override (treat despite
  varicose veins, with its reason) counts for the plan.
- A relative contraindication answered yes, or an answer "unknown", that no doctor has
  acknowledged since it was given (at the consultation or later) stops check-in and charting:
  the doctor acknowledges it before the next session.

An override or acknowledgment covers the answer it was given for: when the answer changes
afterwards, the gate asks again. Reads only; `clear` in services writes clearances.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patients.models import ScreeningAnswer, ScreeningChange
from patients.screening import BY_KEY, UNTREATED_VARICOSE, Kind
from patients.selectors import ScreeningSummary, screening_summary

from . import regions
from .models import Ceap, Clearance, ClearanceKind, PlanStatus, TreatmentPlan, Visit
from .selectors import get_clinic_settings

# The consultation's fields, also the keys of their clearances (models.CEAP_LABELS).
CEAP_KEYS = {"R": "ceap_right", "L": "ceap_left"}
# CEAP C2 and above: varicose veins or worse on that leg; spider-vein treatment waits.
CEAP_BLOCKS = {Ceap.C2, Ceap.C3, Ceap.C4, Ceap.C5, Ceap.C6}


class Step(models.TextChoices):
    """Where the gate is asked."""

    PLAN = "plan", gettext_lazy("make or start the plan")
    BOOK = "book", gettext_lazy("book the session")
    MOVE = "move", gettext_lazy("move the session")
    CHECK_IN = "check_in", gettext_lazy("check the patient in")
    CHART = "chart", gettext_lazy("chart the session")


# The highest visit number a clearance may name (sessions, then touch-ups after them).
MAX_VISIT = 100

# The steps where treatment is about to happen: an unacknowledged answer stops them too.
AT_THE_VISIT = {Step.CHECK_IN, Step.CHART}


@dataclass(frozen=True)
class Problem:
    """Something the gate found: `key` (a screening question, or ceap_left/ceap_right), what
    it is in words, and whether a doctor acknowledges it (else it needs an override)."""

    key: str
    label: str | Promise
    acknowledge: bool = False

    def __str__(self) -> str:
        return str(self.label)


@dataclass
class Verdict:
    """What the gate found for one visit of a plan (`session`, or the plan as a whole)."""

    blockers: list[Problem] = field(default_factory=list)
    to_acknowledge: list[Problem] = field(default_factory=list)
    # The overrides and acknowledgments that let it through, for the page to show.
    cleared: list = field(default_factory=list)

    def stops(self, step: str) -> list[Problem]:
        if step in AT_THE_VISIT:
            return self.blockers + self.to_acknowledge
        return list(self.blockers)

    def message(self, step: str) -> str:
        """The refusal for `step`, naming each problem; empty when the step may go ahead."""
        problems = self.stops(step)
        if not problems:
            return ""
        names = "; ".join(str(p) for p in problems)
        if any(not p.acknowledge for p in problems):
            return _(
                "Treatment is blocked: %(names)s. A doctor can override this, with a reason, "
                "on the plan's page."
            ) % {"names": names}
        return _("A doctor must acknowledge this first, on the plan's page: %(names)s.") % {
            "names": names
        }

    @property
    def overridden(self) -> list:
        return [c for c in self.cleared if c.kind == ClearanceKind.OVERRIDE]


def _question_problem(key: str) -> Problem:
    question = BY_KEY[key]
    if question.kind == Kind.ABSOLUTE:
        label = _("absolute contraindication: %(q)s") % {"q": question.label}
    else:
        label = str(question.label)
    return Problem(key, label)


def _ceap_problem(leg: str, ceap: str) -> Problem:
    leg_label = dict(regions.LEGS)[leg]
    label = _("%(leg)s leg %(ceap)s") % {"leg": leg_label, "ceap": Ceap(ceap).label}
    return Problem(CEAP_KEYS[leg], label)


def _legs(plan: TreatmentPlan) -> set[str]:
    return {regions.BY_KEY[key].leg for key in plan.areas if key in regions.BY_KEY}


def _covers(at: datetime, answer: ScreeningAnswer | None) -> bool:
    """A clearance given at `at` still covers the answer: it was not changed since."""
    return answer is None or at >= answer.recorded_at


@dataclass(frozen=True)
class _ConsultationClearance:
    """The consultation's own clearances, read like Clearance rows."""

    key: str
    kind: str
    reason: str
    by_id: int | None
    at: datetime
    session: int | None = None


def _consultation_clearances(plan: TreatmentPlan) -> list:
    consultation = plan.consultation
    rows = [
        _ConsultationClearance(
            key, ClearanceKind.ACKNOWLEDGMENT, "", consultation.doctor_id, consultation.created_at
        )
        for key in consultation.acknowledged
    ]
    if consultation.varicose_override:
        at = consultation.varicose_override_at or consultation.created_at
        for key in (UNTREATED_VARICOSE, *CEAP_KEYS.values()):
            rows.append(
                _ConsultationClearance(
                    key,
                    ClearanceKind.OVERRIDE,
                    consultation.varicose_override_reason,
                    consultation.varicose_override_by_id or consultation.doctor_id,
                    at,
                )
            )
    return rows


def assess(
    plan: TreatmentPlan,
    *,
    session: int | None = None,
    summary: ScreeningSummary | None = None,
    clearances: list | None = None,
) -> Verdict:
    """The gate for visit `session` of `plan` (None: the plan as a whole, where only the
    plan's clearances count). `summary` and `clearances` when the caller read them already
    (a page of many visits); otherwise two queries."""
    summary = screening_summary(plan.patient) if summary is None else summary
    if clearances is None:
        clearances = list(plan.clearances.all()) if plan.pk else []
    answers = summary.answers
    found: list[Problem] = []
    for question in summary.absolute:
        found.append(_question_problem(question.key))
    if summary.untreated_varicose:
        found.append(_question_problem(UNTREATED_VARICOSE))
    legs = _legs(plan)
    for leg, key in CEAP_KEYS.items():
        ceap = getattr(plan.consultation, key)
        if leg in legs and ceap in CEAP_BLOCKS:
            found.append(_ceap_problem(leg, ceap))
    to_acknowledge = [
        Problem(q.key, _question_problem(q.key).label, acknowledge=True)
        for q in summary.relative
        if q.key != UNTREATED_VARICOSE
    ]
    to_acknowledge += [
        Problem(q.key, _("%(q)s: not known") % {"q": q.label}, acknowledge=True)
        for q in summary.unknown
        if q.kind != Kind.HISTORY
    ]
    applicable = [
        c
        for c in [*_consultation_clearances(plan), *clearances]
        if c.session is None or (session is not None and c.session == session)
    ]
    verdict = Verdict()
    for problem, wanted, into in [
        *((p, ClearanceKind.OVERRIDE, verdict.blockers) for p in found),
        *((p, ClearanceKind.ACKNOWLEDGMENT, verdict.to_acknowledge) for p in to_acknowledge),
    ]:
        answer = answers.get(problem.key)
        covering = [
            c
            for c in applicable
            if c.key == problem.key
            and (c.kind == wanted or c.kind == ClearanceKind.OVERRIDE)
            and _covers(c.at, answer)
        ]
        if covering:
            verdict.cleared.append(covering[-1])
        else:
            into.append(problem)
    return verdict


def assess_sessions(plan: TreatmentPlan, numbers) -> dict[int, Verdict]:
    """assess for several visits of one plan (a series): two queries."""
    summary = screening_summary(plan.patient)
    clearances = list(plan.clearances.all()) if plan.pk else []
    return {n: assess(plan, session=n, summary=summary, clearances=clearances) for n in numbers}


def names(problems: list[Problem]) -> str:
    return "; ".join(str(p) for p in problems)


def screening_answers(patient_ids) -> dict[int, dict[str, ScreeningAnswer]]:
    """{patient id: {question: answer}} with what the gate reads of each answer: one query,
    shared by assess_many and rescreen_many on a page of many visits."""
    answers: dict[int, dict] = defaultdict(dict)
    for answer in ScreeningAnswer.objects.filter(patient_id__in=set(patient_ids)).only(
        "patient_id", "question", "answer", "recorded_at"
    ):
        answers[answer.patient_id][answer.question] = answer
    return answers


def assess_many(
    visits: list[tuple[TreatmentPlan, int | None]], *, answers: dict | None = None
) -> dict[int, Verdict]:
    """assess for many (plan, session) pairs at once, keyed by their index in `visits`: two
    queries whatever their number (one with the `answers` of screening_answers given; the
    plans come with patient and consultation)."""
    plan_ids = {plan.pk for plan, _session in visits}
    if answers is None:
        answers = screening_answers(plan.patient_id for plan, _session in visits)
    clearances: dict[int, list] = defaultdict(list)
    for clearance in Clearance.objects.filter(plan_id__in=plan_ids):
        clearances[clearance.plan_id].append(clearance)
    return {
        index: assess(
            plan,
            session=session,
            summary=ScreeningSummary(answers=answers.get(plan.patient_id, {})),
            clearances=clearances[plan.pk],
        )
        for index, (plan, session) in enumerate(visits)
    }


def next_visits(plans: list[TreatmentPlan]) -> dict[int, int]:
    """{plan id: the number its next chart takes}: the next session of an open plan, the next
    touch-up of a completed one (as charting numbers them). One query, or none for plans
    read with their charts counted (selectors.for_gate(counted=True))."""
    if all(hasattr(plan, "sessions_charted") for plan in plans):
        counts = {
            plan.pk: {"done": plan.sessions_charted or 0, "last": plan.last_charted}
            for plan in plans
        }
    else:
        counts = {
            row["pk"]: row
            for row in TreatmentPlan.objects.filter(pk__in=[p.pk for p in plans])
            .annotate(
                done=Count("charts", filter=Q(charts__visit=Visit.SESSION)),
                last=Max("charts__number"),
            )
            .values("pk", "done", "last")
        }
    numbers = {}
    for plan in plans:
        row = counts.get(plan.pk, {"done": 0, "last": None})
        if plan.status == PlanStatus.COMPLETED:
            numbers[plan.pk] = (row["last"] or plan.sessions_planned) + 1
        else:
            numbers[plan.pk] = row["done"] + 1
    return numbers


def changes_since(plan: TreatmentPlan):
    """The patient's screening answers changed since the plan was made, newest first: what
    the doctor looks at before the next session."""
    return ScreeningChange.objects.filter(
        patient_id=plan.patient_id, changed_at__gt=plan.created_at
    ).select_related("changed_by")


# --- Re-screening at check-in ----------------------------------------------------------------


@dataclass
class Rescreen:
    """Why the screening must be gone through with the patient before the check-in: answers
    older than the clinic's limit, and answers changed since the plan was made (`changes`,
    newest first), none of them confirmed with the patient since."""

    stale: bool = False
    changes: list = field(default_factory=list)
    # When the answers grow older than the clinic's limit, if they are not yet and nothing
    # changes (None: stale already, or no answer to grow old): a kept verdict lasts until then.
    stale_from: datetime | None = None

    @property
    def needed(self) -> bool:
        return self.stale or bool(self.changes)

    @property
    def changed_keys(self) -> set[str]:
        return {c.question for c in self.changes}


def _stale(answers, confirmed_at: datetime | None, cutoff: datetime) -> bool:
    if confirmed_at is not None and confirmed_at >= cutoff:
        return False
    return any(a.recorded_at < cutoff for a in answers)


def _stale_from(answers, confirmed_at: datetime | None, life: timedelta) -> datetime | None:
    """The instant _stale turns true as the clock moves on: once the cutoff (now - life) has
    passed both the confirmation and the oldest answer. None with no answer."""
    oldest = min((a.recorded_at for a in answers), default=None)
    if oldest is None:
        return None
    return max(oldest, confirmed_at or oldest) + life


def screening_life(months: int) -> timedelta:
    """How long screening answers stay fresh: the clinic's months, as days."""
    return timedelta(days=round(months * 30.44))


def confirmed_at(plan: TreatmentPlan) -> datetime | None:
    """When the plan's patient last confirmed their screening: read beside the plan for the
    gate (selectors.for_gate), else from the patient."""
    if "screening_confirmed_at" in plan.__dict__:
        return plan.screening_confirmed_at
    return plan.patient.screening_confirmed_at


def rescreen(plan: TreatmentPlan, *, now: datetime | None = None) -> Rescreen:
    """What must be confirmed at the check-in of a visit of `plan` (two queries)."""
    return rescreen_many([plan], now=now)[plan.patient_id]


def rescreen_many(
    plans: list[TreatmentPlan], *, now: datetime | None = None, answers: dict | None = None
) -> dict:
    """{patient id: Rescreen} for the patients of `plans` (their latest plan counts): two
    queries whatever their number (one with the `answers` of screening_answers given)."""
    now = now or timezone.now()
    life = screening_life(get_clinic_settings().rescreen_months)
    cutoff = now - life
    since: dict[int, datetime] = {}
    confirmed: dict[int, datetime | None] = {}
    for plan in plans:
        confirmed[plan.patient_id] = at = confirmed_at(plan)
        start = max(plan.created_at, at or plan.created_at)
        since[plan.patient_id] = max(since.get(plan.patient_id, start), start)
    if answers is None:
        answers = screening_answers(since)
    changes: dict[int, list] = defaultdict(list)
    earliest = min(since.values(), default=now)
    for change in ScreeningChange.objects.filter(
        patient_id__in=since, changed_at__gt=earliest
    ).select_related("changed_by"):
        if change.changed_at > since[change.patient_id]:
            changes[change.patient_id].append(change)
    found = {}
    for patient_id in since:
        mine = answers.get(patient_id, {}).values()
        stale = _stale(mine, confirmed[patient_id], cutoff)
        found[patient_id] = Rescreen(
            stale=stale,
            changes=changes[patient_id],
            stale_from=None if stale else _stale_from(mine, confirmed[patient_id], life),
        )
    return found
