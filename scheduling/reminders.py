"""Which messages an appointment or a finished session causes, and when: scheduling's kinds
of message, written to the outbox (`messaging.outbox`).

Called by the booking services inside their transaction, so a booking that rolls back leaves
no reminder and a cancelled appointment leaves none pending. Due times are instants: "48 hours
before" is 48 real hours, whatever the clocks do in between. How each kind is rendered and
checked before it goes out: `reminder_kinds`.
"""

import logging
from datetime import date, datetime, time, timedelta

from django.db import DatabaseError, models, transaction
from django.utils import timezone

from messaging import outbox
from messaging.outbox import Draft
from treatments.aftercare import AftercareNumbers
from treatments.models import AftercareStep, PlanStatus, TreatmentPlan
from treatments.selectors import get_clinic_settings, touch_up_plans

from . import check_in_messages, clock
from .models import Appointment, Kind, SchedulingSettings, Status

log = logging.getLogger(__name__)


class ReminderKind(models.TextChoices):
    """Scheduling's kinds of message. Aftercare kinds are one per aftercare step
    (`aftercare_kind`), all of the `AFTERCARE` family."""

    FIRST = "reminder_first"
    SECOND = "reminder_second"
    TOUCH_UP = "touch_up"
    BOOK_NEXT = "aftercare:book-next"


FIRST, SECOND, TOUCH_UP, BOOK_NEXT = ReminderKind
BEFORE_APPOINTMENT = (FIRST, SECOND)
AFTERCARE = "aftercare"
# The family of the messages about a change of an appointment (change_notices): a
# cancellation withdraws the reminders, not the message that tells of it.
CHANGE = "change"


def aftercare_kind(step_key: str) -> str:
    return f"{AFTERCARE}:{step_key}"


class Topic(models.TextChoices):
    """What scheduling's messages are about (`Message.topic`)."""

    APPOINTMENT = "appointment"
    PLAN = "plan"


def of(appointment: Appointment):
    """The messages about an appointment: its reminders and aftercare (not the messages that
    tell of its changes: `change_notices.of`)."""
    return outbox.about(Topic.APPOINTMENT, appointment.pk).exclude(kind__startswith=f"{CHANGE}:")


def about_plan(plan: TreatmentPlan):
    """The messages about a plan (its touch-up invitation)."""
    return outbox.about(Topic.PLAN, plan.pk)


def _draft(*, key: str, patient, due_at: datetime, kind: str, appointment=None, plan=None) -> Draft:
    announced = appointment.starts_at if kind in BEFORE_APPOINTMENT else None
    topic, topic_id = (Topic.APPOINTMENT, appointment.pk) if appointment else (Topic.PLAN, plan.pk)
    return Draft(
        key=key,
        kind=kind,
        patient=patient,
        channel=outbox.channel_for(patient),
        topic=topic,
        topic_id=topic_id,
        due_at=due_at,
        give_up_at=useful_until(kind=kind, due_at=due_at, appointment_starts=announced),
        announced_at=announced,
    )


def _write(**draft) -> None:
    """Create or re-time the message `key`. One that went out (or is going out) stays as it
    is: the key is what keeps a message from being sent twice."""
    outbox.put(_draft(**draft))


# How long after it falls due a message is still worth sending; transient failures (the mail
# server down) are retried until then. A reminder before an appointment is useful until
# shortly before the appointment, whatever its own due time.
BEFORE_APPOINTMENT_CUTOFF = timedelta(minutes=30)
USEFUL_FOR = {TOUCH_UP: timedelta(days=30), BOOK_NEXT: timedelta(days=14)}
AFTERCARE_USEFUL_FOR = timedelta(days=3)


def useful_until(*, kind: str, due_at: datetime, appointment_starts: datetime | None) -> datetime:
    if kind in BEFORE_APPOINTMENT and appointment_starts is not None:
        return appointment_starts - BEFORE_APPOINTMENT_CUTOFF
    return due_at + USEFUL_FOR.get(kind, AFTERCARE_USEFUL_FOR)


def still_as_announced(message, *, status: str | None, starts_at) -> str:
    """Why a reminder before an appointment no longer fits the appointment as it is now
    (`status`, `starts_at`), or "": the send-time check and "send again" both ask."""
    if message.kind not in BEFORE_APPOINTMENT:
        return ""
    if status != Status.BOOKED:
        return "appointment no longer booked"
    if message.announced_at and starts_at != message.announced_at:
        return "appointment moved"
    return ""


def _key_before(appointment: Appointment, kind: str) -> str:
    # The time is part of the key: a move makes new reminders for the new time, whatever
    # went out for the old one, and a new key gives the new message its own Message-ID.
    return f"a{appointment.pk}:{kind}:{int(appointment.starts_at.timestamp())}"


def _reminders_before(appointment: Appointment, settings) -> list[tuple[str, str, datetime]]:
    """(key, kind, due time) of the reminders before an appointment."""
    return [
        (_key_before(appointment, kind), kind, appointment.starts_at - timedelta(hours=hours))
        for kind, hours in (
            (FIRST, settings.first_reminder_hours),
            (SECOND, settings.second_reminder_hours),
        )
    ]


def appointments_booked(appointments: list[Appointment]) -> None:
    """The reminders of appointments just inserted (one or a series), in one INSERT: none of
    them can have a reminder yet. One whose time has already passed is not written."""
    settings = SchedulingSettings.current()
    now = timezone.now()
    outbox.put_new(
        [
            _draft(key=key, patient=a.patient, due_at=due_at, kind=kind, appointment=a)
            for a in appointments
            for key, kind, due_at in _reminders_before(a, settings)
            if due_at > now
        ]
    )


def appointment_moved(appointment: Appointment) -> None:
    """Withdraw what was waiting for the old time and write the reminders for the new one.
    A reminder that already went out for the old time does not stop the one for the new
    time; one that already went out for this very time (moved away and back) is not sent
    again."""
    outbox.withdraw(
        topic=Topic.APPOINTMENT,
        topic_id=appointment.pk,
        kinds=BEFORE_APPOINTMENT,
        unless_announcing=appointment.starts_at,
        reason="appointment moved",
    )
    settings = SchedulingSettings.current()
    now = timezone.now()
    for key, kind, due_at in _reminders_before(appointment, settings):
        if due_at > now:
            _write(
                key=key,
                patient=appointment.patient,
                due_at=due_at,
                kind=kind,
                appointment=appointment,
            )
        else:
            outbox.withdraw_keys([key], reason="too late to remind")


def appointment_cancelled(appointment: Appointment) -> None:
    outbox.withdraw(
        topic=Topic.APPOINTMENT,
        topic_id=appointment.pk,
        reason="appointment cancelled",
        except_family=CHANGE,
    )


def _aftercare_due(
    step: AftercareStep,
    numbers: AftercareNumbers,
    *,
    session_day: date,
    session_end: datetime,
    tz,
    hour: int,
) -> datetime:
    """A step of the session day goes out at checkout; a later one on the calendar day it
    speaks of, at `hour` clinic time (10 days on is 10 days on the calendar, whatever the
    clocks did in between). `hour` is 6 to 21 (ClinicSettings): never a time a change of the
    clocks skips or repeats. Never before checkout (a visit completed days late)."""
    day = step.day(numbers)
    if day == 0:
        return session_end
    due = clock.instant(session_day + timedelta(days=day), time(hour), tz)
    return max(due, session_end)


def appointment_zone(plan: TreatmentPlan) -> str:
    appointment = plan.appointments.select_related("location").first()
    return appointment.location.time_zone if appointment else clock.zone().key


def aftercare_steps_for(appointment: Appointment) -> list[AftercareStep]:
    """The steps a visit of this kind gets: a touch-up follows a completed plan, so it has no
    next session to book."""
    steps = AftercareStep.objects.filter(active=True)
    if appointment.kind == Kind.TOUCH_UP:
        return [step for step in steps if aftercare_kind(step.key) != BOOK_NEXT]
    return list(steps)


def treated_plan(appointment: Appointment) -> TreatmentPlan | None:
    """The plan a treatment visit belongs to. Booking keeps no plan on a touch-up: it follows
    the patient's most recently completed plan (whose hose period its advice counts)."""
    if appointment.kind == Kind.SESSION:
        return appointment.plan
    if appointment.kind == Kind.TOUCH_UP:
        return appointment.plan or touch_up_plans([appointment.patient_id]).get(
            appointment.patient_id
        )
    return None


def session_completed(appointment: Appointment) -> None:
    """The after-session messages of a completed treatment session or touch-up, each due on
    the day it speaks of (with the plan's hose days and interval), and the touch-up
    invitation if the plan is now complete."""
    plan = treated_plan(appointment)
    if plan is None:
        return
    clinic = get_clinic_settings()
    numbers = AftercareNumbers.of(clinic, plan)
    session_end = max(appointment.ends_at, timezone.now())
    tz = clock.zone(appointment.location.time_zone)  # read once, not once per step
    session_day = appointment.starts_at.astimezone(tz).date()
    for step in aftercare_steps_for(appointment):
        due_at = _aftercare_due(
            step,
            numbers,
            session_day=session_day,
            session_end=session_end,
            tz=tz,
            hour=clinic.aftercare_hour,
        )
        _write(
            key=f"a{appointment.pk}:{aftercare_kind(step.key)}",
            patient=appointment.patient,
            due_at=due_at,
            kind=aftercare_kind(step.key),
            appointment=appointment,
            plan=plan,
        )
    check_in_messages.session_completed(
        appointment,
        plan,
        session_day=session_day,
        session_end=session_end,
        tz=tz,
        hour=clinic.aftercare_hour,
    )
    plan_changed(plan)


def plan_changed(plan: TreatmentPlan) -> None:
    """A completed plan invites the patient to a touch-up review when it is due."""
    if plan.status != PlanStatus.COMPLETED or plan.touch_up_due is None:
        return
    tz = clock.zone(appointment_zone(plan))
    due_at = clock.instant(plan.touch_up_due, time(SchedulingSettings.current().touch_up_hour), tz)
    _write(
        key=f"p{plan.pk}:{TOUCH_UP}", patient=plan.patient, due_at=due_at, kind=TOUCH_UP, plan=plan
    )


def sweep_completed_plans() -> int:
    """Plans completed by a chart rather than by a checked-out appointment get their touch-up
    invitation here (the dispatcher runs this each minute; the key keeps it to one). Each plan
    in a transaction of its own: one that fails doesn't hold back the others."""
    plans = TreatmentPlan.objects.filter(
        status=PlanStatus.COMPLETED, touch_up_due__isnull=False
    ).exclude(pk__in=outbox.topic_ids(Topic.PLAN, kind=TOUCH_UP))
    count = 0
    for plan in plans[:200]:
        try:
            with transaction.atomic():
                plan_changed(plan)
        except DatabaseError:
            raise  # the database itself: nothing else will work either
        except Exception:
            log.exception("touch-up invitation of plan %s", plan.pk)
            continue
        count += 1
    return count
