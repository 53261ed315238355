"""How scheduling's messages (reminders before an appointment, aftercare, the touch-up
invitation) are rendered and checked just before they go out; registered with the outbox in
`SchedulingConfig.ready`."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from goodskin import when
from messaging import outbox
from messaging.kinds import MessageKind, PermanentFailure, Rendered
from messaging.outbox import unsubscribe_url
from patients.models import Purpose
from treatments.aftercare import AftercareNumbers, step_texts
from treatments.models import AftercareStep, PlanStatus, TreatmentPlan
from treatments.selectors import get_clinic_settings

from . import clock, reminders
from .models import Appointment, Kind, Status
from .reminders import AFTERCARE, BOOK_NEXT, FIRST, SECOND, TOUCH_UP, Topic

LABELS = {
    FIRST: _("First appointment reminder"),
    SECOND: _("Last appointment reminder"),
    reminders.aftercare_kind("checkout"): _("Aftercare: right after the session"),
    reminders.aftercare_kind("days-0-3"): _("Aftercare: the first days"),
    reminders.aftercare_kind("rest-end"): _("Aftercare: back to exercise"),
    reminders.aftercare_kind("hose-end"): _("Aftercare: end of the support-hose period"),
    BOOK_NEXT: _("Book the next session"),
    TOUCH_UP: _("Touch-up review invitation"),
}

# Which message templates a kind uses; any other kind fails rather than going out dressed as
# something else.
TEMPLATES = {FIRST: "appointment", SECOND: "appointment", TOUCH_UP: "touch_up"}


def label(kind: str) -> str:
    return LABELS.get(kind) or _("Aftercare")


def prepare(messages: list, memo: dict) -> None:
    """The batch's appointments (with office and doctor) and plans, and the clinic's
    settings, read once for every message of the batch."""
    by_topic = {Topic.APPOINTMENT: set(), Topic.PLAN: set()}
    for message in messages:
        by_topic.get(message.topic, set()).add(message.topic_id)
    memo.setdefault("appointments", {}).update(
        Appointment.objects.select_related("location", "doctor", "plan").in_bulk(
            by_topic[Topic.APPOINTMENT]
        )
    )
    memo.setdefault("plans", {}).update(TreatmentPlan.objects.in_bulk(by_topic[Topic.PLAN]))
    memo.setdefault("clinic", get_clinic_settings())


def _appointment(message, memo: dict) -> Appointment | None:
    if message.topic != Topic.APPOINTMENT:
        return None
    found = memo.setdefault("appointments", {})
    if message.topic_id not in found:
        found[message.topic_id] = (
            Appointment.objects.select_related("location", "doctor", "plan")
            .filter(pk=message.topic_id)
            .first()
        )
    return found[message.topic_id]


def render(message, memo: dict) -> Rendered:
    """Subject, plain text, HTML and SMS text, as of now, with times in the office's zone
    (template date filters use the active zone, which is UTC in a worker)."""
    appointment = _appointment(message, memo)
    zone = appointment.location.time_zone if appointment else None
    with timezone.override(clock.zone(zone)):
        return _render(message, appointment, memo)


def _render(message, appointment: Appointment | None, memo: dict) -> Rendered:
    if "clinic" not in memo:
        memo["clinic"] = get_clinic_settings()
    context = _context(message, appointment, memo["clinic"])
    if message.kind.startswith(f"{AFTERCARE}:"):
        step = AftercareStep.objects.get(key=message.kind.split(":", 1)[1])
        # A wrong placeholder falls back to the seeded text; a step with none to fall back
        # on raises TemplateError, a ValueError: the message fails with it, the batch goes on.
        texts = step_texts(step, _numbers(appointment, memo))
        if not texts.email_subject.strip():
            raise PermanentFailure(f"cannot render: aftercare step {step.key!r} has no subject")
        context.update(
            subject=texts.email_subject,
            text=texts.email_body.strip(),
            sms=texts.sms_text.strip(),
            aftercare=True,
        )
        template = "aftercare"
    elif message.kind in TEMPLATES:
        template = TEMPLATES[message.kind]
        if template == "appointment" and appointment is None:
            raise PermanentFailure("cannot render: an appointment reminder without appointment")
    else:
        raise PermanentFailure(f"unknown reminder kind {message.kind!r}")
    return _rendered(template, context)


def _rendered(template: str, context: dict) -> Rendered:
    subject = (
        context.get("subject")
        or render_to_string(f"scheduling/messages/{template}_subject.txt", context).strip()
    )
    context["subject"] = subject
    return Rendered(
        unsubscribe_url=context["unsubscribe_url"],
        subject=subject,
        text=render_to_string(f"scheduling/messages/{template}.txt", context),
        html=render_to_string(f"scheduling/messages/{template}.html", context),
        sms=render_to_string(f"scheduling/messages/{template}_sms.txt", context).strip(),
    )


def _numbers(appointment: Appointment | None, memo: dict) -> AftercareNumbers:
    """The numbers the aftercare of this visit speaks of: its plan's, else the clinic's."""
    plan = reminders.treated_plan(appointment) if appointment is not None else None
    return AftercareNumbers.of(memo["clinic"], plan)


def _context(message, appointment: Appointment | None, clinic) -> dict:
    patient = message.patient
    purpose = kind_purpose(message.kind)
    context = {
        "name": patient.preferred_name or patient.legal_first_name,
        "clinic_name": settings.CLINIC_NAME,
        "warning_signs": clinic.warning_signs_text(),
        "unsubscribe_url": unsubscribe_url(patient.pk, message.channel, purpose),
        "about_aftercare": purpose == Purpose.AFTERCARE,
        "AppointmentKind": Kind,
    }
    if appointment is not None:
        tz = clock.zone(appointment.location.time_zone)
        context.update(
            appointment=appointment,
            starts=appointment.starts_at.astimezone(tz),
            location=appointment.location,
        )
        if appointment.kind in (Kind.SESSION, Kind.TOUCH_UP):
            numbers = AftercareNumbers.of(clinic, reminders.treated_plan(appointment))
            context["hose_period"] = numbers.values()["hose_period"]
    return context


def kind_purpose(kind: str) -> str:
    """Which of the patient's choices covers a kind: the after-session messages are aftercare
    advice (book-next included: the clinic's aftercare timeline has it); the reminders before
    an appointment and the touch-up invitation are appointment reminders."""
    return Purpose.AFTERCARE if kind.startswith(f"{AFTERCARE}:") else Purpose.REMINDERS


def render_safety(message, memo: dict) -> Rendered | None:
    """For a patient who declined aftercare advice (or the channel): the warning signs, in
    place of the first message after each session, and nothing in place of the others. No
    unsubscribe link: this one message goes out whatever the patient chose."""
    if kind_purpose(message.kind) != Purpose.AFTERCARE or not _first_after_session(message):
        return None
    appointment = _appointment(message, memo)
    zone = appointment.location.time_zone if appointment else None
    with timezone.override(clock.zone(zone)):
        if "clinic" not in memo:
            memo["clinic"] = get_clinic_settings()
        context = _context(message, appointment, memo["clinic"])
        context.update(
            unsubscribe_url="",
            subject=gettext("Warning signs to watch for after your session"),
            aftercare=True,
            phone=appointment.location.phone if appointment else "",
        )
        return _rendered("safety", context)


def _first_after_session(message) -> bool:
    """The first of a visit's after-session messages (written in the programme's order:
    the message at checkout)."""
    return not (
        outbox.about(message.topic, message.topic_id)
        .filter(kind__startswith=f"{AFTERCARE}:", pk__lt=message.pk)
        .exists()
    )


def reason_not_to_send(message) -> str:
    """Why the message is no longer wanted, read fresh just before it goes out (an
    appointment cancelled or moved while the batch waited is seen), or ""."""
    if message.topic == Topic.APPOINTMENT:
        row = (
            Appointment.objects.filter(pk=message.topic_id)
            .values_list("status", "starts_at", "plan_id", "plan__status")
            .first()
        )
        status, starts_at, plan_id, plan_status = row or (None, None, None, None)
    else:
        status = starts_at = None
        plan_id = message.topic_id
        plan_status = TreatmentPlan.objects.filter(pk=plan_id).values_list("status", flat=True)
        plan_status = plan_status.first()
    changed = reminders.still_as_announced(message, status=status, starts_at=starts_at)
    if changed:
        return changed
    if message.kind == TOUCH_UP and plan_status and plan_status != PlanStatus.COMPLETED:
        return "plan no longer completed"
    if message.kind == BOOK_NEXT:
        if plan_status and plan_status != PlanStatus.ACTIVE:
            return "plan no longer active"
        if plan_id and starts_at and _next_session_booked(plan_id, after=starts_at):
            return "next session already booked"
    return ""


def _next_session_booked(plan_id: int, *, after) -> bool:
    return Appointment.objects.filter(
        plan_id=plan_id, status=Status.BOOKED, starts_at__gt=after
    ).exists()


def describe(messages: list) -> dict[int, str]:
    """{message id: "Consultation, Nov 2 3:00 pm"} for messages about an appointment."""
    ids = {m.topic_id for m in messages if m.topic == Topic.APPOINTMENT}
    found = Appointment.objects.select_related("location").in_bulk(ids) if ids else {}
    lines = {}
    for message in messages:
        appointment = found.get(message.topic_id) if message.topic == Topic.APPOINTMENT else None
        if appointment is not None:
            with timezone.override(clock.zone(appointment.location.time_zone)):
                starts = when.short_day_and_time(appointment.starts_at)
            lines[message.pk] = f"{appointment.get_kind_display()}, {starts}"
    return lines


def useful_until(message, due_at):
    return reminders.useful_until(
        kind=message.kind, due_at=due_at, appointment_starts=message.announced_at
    )


REMINDERS = MessageKind(
    label=label,
    render=render,
    purpose=kind_purpose,
    render_safety=render_safety,
    reason_not_to_send=reason_not_to_send,
    describe=describe,
    prepare=prepare,
    useful_until=useful_until,
    too_late=_(
        "It is too late to send this message: the appointment has passed, moved or is about to "
        "start. Call the patient if they still need to hear it."
    ),
)


def register_all() -> None:
    from messaging import kinds

    for name in (*reminders.ReminderKind, AFTERCARE):
        kinds.register(str(name), REMINDERS)
