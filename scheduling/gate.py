"""The eligibility gate (treatments.eligibility) where scheduling meets it: booking and moving
a session, checking the patient in for a session or a touch-up, and the marks on the day view.

Check-in also asks for the screening to be gone through with the patient again when its answers
are older than the clinic's limit or changed since the plan was made (`Rescreen`).
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from treatments import eligibility
from treatments.eligibility import Rescreen, Step, Verdict
from treatments.models import TreatmentPlan
from treatments.selectors import gate_plans

from .models import Appointment, Kind

# The visits where treatment happens; the gate is asked before them.
TREATMENT_KINDS = (Kind.SESSION, Kind.TOUCH_UP)


def session_blockers(plan: TreatmentPlan, numbers, step: str = Step.BOOK) -> dict[int, str]:
    """{session number: what blocks booking it, named} for the numbers something blocks."""
    verdicts = eligibility.assess_sessions(plan, numbers)
    return {
        number: eligibility.names(verdict.stops(step))
        for number, verdict in verdicts.items()
        if verdict.stops(step)
    }


def plan_blockers(plan: TreatmentPlan) -> str:
    """What blocks every session of the plan (no visit's own override counts), named."""
    return eligibility.names(eligibility.assess(plan).blockers)


@dataclass
class Flag:
    """What stands between a treatment visit and its check-in, for the day view and the
    appointment page: the gate's verdict for the visit, and the re-screen."""

    plan: TreatmentPlan
    visit: int
    verdict: Verdict
    rescreen: Rescreen

    @property
    def problems(self) -> list:
        return self.verdict.stops(Step.CHECK_IN)

    @property
    def blocked(self) -> bool:
        return bool(self.problems)

    @property
    def names(self) -> str:
        return eligibility.names(self.problems)


@dataclass(frozen=True)
class Visit:
    """What flags() needs of an appointment: enough to read from a values() row."""

    pk: int
    kind: str
    patient_id: int
    plan_id: int | None


def flags(visits: list[Visit]) -> dict[int, Flag]:
    """{appointment id: Flag} for the treatment visits among `visits`: a fixed number of
    queries whatever their number (none when there is no treatment visit)."""
    visits = [v for v in visits if v.kind in TREATMENT_KINDS]
    if not visits:
        return {}
    by_id, touch_ups = gate_plans(
        {v.plan_id for v in visits if v.plan_id},
        {v.patient_id for v in visits if v.kind == Kind.TOUCH_UP and v.plan_id is None},
    )
    plans = {}
    for visit in visits:
        plan = by_id.get(visit.plan_id) or touch_ups.get(visit.patient_id)
        if plan is not None:
            plans[visit.pk] = plan
    if not plans:
        return {}
    unique = list({plan.pk: plan for plan in plans.values()}.values())
    numbers = eligibility.next_visits(unique)
    answers = eligibility.screening_answers(plan.patient_id for plan in unique)
    verdicts = eligibility.assess_many(
        [(plan, numbers[plan.pk]) for plan in plans.values()], answers=answers
    )
    rescreens = eligibility.rescreen_many(unique, answers=answers)
    return {
        appointment_id: Flag(
            plan=plan,
            visit=numbers[plan.pk],
            verdict=verdicts[index],
            rescreen=rescreens[plan.patient_id],
        )
        for index, (appointment_id, plan) in enumerate(plans.items())
    }


@dataclass(frozen=True)
class Mark:
    """What the day view shows of a visit's gate: what stops its check-in, named ("" for
    nothing), and whether the screening is gone through with the patient first."""

    blocked: str
    rescreen: bool


@dataclass(frozen=True)
class Marks:
    by_visit: dict[int, Mark]
    until: datetime | None  # when a screening grows old and the marks may change


def marks(visits: list[Visit]) -> Marks:
    """{appointment id: Mark} for the treatment visits among `visits`, as flags() has them,
    and the instant the clock makes one of their screenings old (the day view keeps its page
    until then, scheduling.day_page). Check-in itself always asks the gate
    (check_in_refusal)."""
    found = flags(visits)
    untils = [f.rescreen.stale_from for f in found.values() if f.rescreen.stale_from]
    return Marks(
        {pk: Mark(f.names if f.blocked else "", f.rescreen.needed) for pk, f in found.items()},
        min(untils, default=None),
    )


def flag(appointment: Appointment) -> Flag | None:
    """The Flag of one appointment (None if it is not a treatment visit with a plan)."""
    visit = Visit(appointment.pk, appointment.kind, appointment.patient_id, appointment.plan_id)
    return flags([visit]).get(appointment.pk)


def check_in_refusal(flag: Flag | None) -> str:
    """Why the patient can't be checked in for this visit yet, or "" if they can."""
    if flag is None:
        return ""
    if message := flag.verdict.message(Step.CHECK_IN):
        return message
    if flag.rescreen.needed:
        return _("Go through the screening questions with the patient first (re-screen).")
    return ""
