"""The patient books their plan's next session from the portal (issue 15, point 3): with the
plan's doctor, for the plan's session length, keeping the weeks between sessions, after the
notice period, and only while the eligibility gate lets the session go ahead."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import Role
from treatments.models import PlanStatus, TreatmentPlan

from .. import clock, rules
from ..models import ACTIVE_STATUSES, Appointment, Kind, Status
from ..slots import free_slots
from .booking import _book
from .common import (
    BookingError,
    Refused,
    _session,
    default_location,
    minutes_for,
    scheduling_settings,
)
from .patient_changes import _thin
from .series import plan_office


@dataclass(frozen=True)
class NextSession:
    """The session of the patient's active plan that is next to book (`number`), and why the
    rules refuse it whatever the time ("" when they don't)."""

    plan: TreatmentPlan
    number: int
    minutes: int
    refused: str


def _unbooked(plan: TreatmentPlan) -> int | None:
    """The lowest session number of the plan with neither a visit (booked, under way or done)
    nor a chart; None when every session has one."""
    taken = set(
        plan.appointments.filter(
            kind=Kind.SESSION, status__in=(*ACTIVE_STATUSES, Status.COMPLETED)
        ).values_list("session_number", flat=True)
    ) | set(plan.charts.values_list("number", flat=True))
    free = [n for n in range(1, plan.sessions_planned + 1) if n not in taken]
    return free[0] if free else None


def patient_next_session(patient) -> NextSession | None:
    """What the patient could book online now: the next session of their active plan."""
    plan = (
        TreatmentPlan.objects.filter(patient=patient, status=PlanStatus.ACTIVE)
        .select_related("doctor")
        .first()
    )
    number = _unbooked(plan) if plan else None
    if number is None:
        return None
    settings = scheduling_settings()
    tz = clock.zone(default_location().time_zone)
    session = _session(plan, number, patient=patient, tz=tz)
    refusal = rules.patient_record(patient) or rules.plan_session(patient, session)
    return NextSession(
        plan=plan,
        number=number,
        minutes=minutes_for(Kind.SESSION, plan, settings=settings),
        refused=str(refusal) if refusal else "",
    )


def patient_book_options(
    patient, upcoming: NextSession, days: int = 42, per_day: int = 6, max_days: int = 10
) -> list:
    """Free times for `upcoming`: the plan's doctor and session length, from the first day
    the plan's interval allows (and after the notice period), keeping the interval to every
    other session of the plan. A short list a phone can show (as for moving)."""
    if upcoming.refused:
        return []
    settings = scheduling_settings()
    now = timezone.now()
    # The plan's office: where its sessions have been (series.plan_office).
    location = plan_office(upcoming.plan)
    tz = clock.zone(location.time_zone)
    session = _session(upcoming.plan, upcoming.number, patient=patient, tz=tz)
    first = (now + timedelta(hours=settings.patient_notice_hours)).astimezone(tz).date()
    before = [day for number, day in session.others if number < session.number]
    first = max(filter(None, [first, rules.first_day_after(before, upcoming.plan.interval_weeks)]))
    slots = free_slots(
        doctor_ids=[upcoming.plan.doctor_id],
        location=location,
        first_day=first,
        last_day=first + timedelta(days=days),
        minutes=upcoming.minutes,
        step_minutes=settings.slot_step_minutes,
        buffer_minutes=settings.buffer_minutes,
        patient_id=patient.pk,
    )
    allowed = [
        slot
        for slot in slots
        if rules.with_notice(slot.starts_at, now, settings.patient_notice_hours) is None
        and rules.gap(session, slot.starts_at.astimezone(tz).date()) is None
    ]
    return _thin(allowed, tz, per_day=per_day, max_days=max_days)


@transaction.atomic
def patient_book_session(
    *, plan_id: int, number: int, starts_at: datetime, by: Actor
) -> Appointment:
    """Book session `number` of the patient's own active plan at `starts_at`, if it is still
    the next one to book (the page may be old: the front desk may have booked it meanwhile)."""
    # Locked: one booking per session number, however many tabs or clicks post at once.
    plan = (
        locked(TreatmentPlan.objects).select_related("patient", "doctor").filter(pk=plan_id).first()
    )
    if (
        plan is None
        or by.role != Role.PATIENT
        or plan.patient.portal_user_id != getattr(by.user, "pk", None)
    ):
        raise BookingError(_("This treatment plan is not yours."))
    if plan.status != PlanStatus.ACTIVE or _unbooked(plan) != number:
        raise BookingError(
            _("This session is booked already, or your plan changed. Look at your schedule.")
        )
    settings = scheduling_settings()
    starts_at = clock.utc(starts_at)
    problem = rules.with_notice(starts_at, timezone.now(), settings.patient_notice_hours)
    if problem is not None:
        raise Refused(problem)
    return _book(
        patient=plan.patient,
        doctor=plan.doctor,
        kind=Kind.SESSION,
        starts_at=starts_at,
        by=by,
        plan=plan,
        session_number=number,
        location=plan_office(plan),
    )
