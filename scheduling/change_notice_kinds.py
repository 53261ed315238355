"""How the messages about a change of an appointment (`change_notices`) read, with their
calendar invitation, and whether they are still true just before they go out; registered
with the outbox in `SchedulingConfig.ready`."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from goodskin import when
from messaging.kinds import Attachment, MessageKind, PermanentFailure, Rendered
from messaging.models import Channel
from messaging.outbox import unsubscribe_url
from patients.models import Purpose

from . import clock, ical
from .change_notices import BOOKED, CANCELLED, FAMILY, MOVED, SERIES, SUPERSEDED, NoticeKind
from .models import Appointment, CancelledBy, Status
from .reminders import Topic

LABELS = {
    BOOKED: _("Appointment booked"),
    SERIES: _("Treatment sessions booked"),
    MOVED: _("Appointment moved"),
    CANCELLED: _("Appointment cancelled"),
}
RELATED = ("location", "doctor", "plan", "patient")


def label(kind: str) -> str:
    return LABELS.get(kind) or _("Appointment changed")


def _appointment(message) -> Appointment:
    found = Appointment.objects.select_related(*RELATED).filter(pk=message.topic_id).first()
    if found is None:
        raise PermanentFailure("cannot render: the appointment is gone")
    return found


def _series(message) -> list[Appointment]:
    """The plan's sessions booked and still ahead, as they are now."""
    return list(
        Appointment.objects.select_related(*RELATED)
        .filter(plan_id=message.topic_id, status=Status.BOOKED, starts_at__gt=timezone.now())
        .order_by("starts_at")
    )


def render(message, memo: dict) -> Rendered:
    """What the patient is told, as the appointment stands now, in the office's zone."""
    if message.kind == SERIES:
        appointments = _series(message)
        if not appointments:
            raise PermanentFailure("cannot render: no session of the series is still booked")
    elif message.kind in (BOOKED, MOVED, CANCELLED):
        appointments = [_appointment(message)]
    else:
        raise PermanentFailure(f"unknown kind of change message {message.kind!r}")
    zone = clock.zone(appointments[0].location.time_zone)
    with timezone.override(zone):
        context = _context(message, appointments, zone)
        template = "series" if message.kind == SERIES else "change"
        return Rendered(
            unsubscribe_url=context["unsubscribe_url"],
            subject=render_to_string(
                f"scheduling/messages/{template}_subject.txt", context
            ).strip(),
            text=render_to_string(f"scheduling/messages/{template}.txt", context),
            html=render_to_string(f"scheduling/messages/{template}.html", context),
            sms=render_to_string(f"scheduling/messages/{template}_sms.txt", context).strip(),
            attachments=_invitations(message, appointments),
        )


def _context(message, appointments: list[Appointment], zone) -> dict:
    patient = message.patient
    first = appointments[0]
    return {
        "name": patient.preferred_name or patient.legal_first_name,
        "clinic_name": settings.CLINIC_NAME,
        "unsubscribe_url": unsubscribe_url(patient.pk, message.channel, Purpose.REMINDERS),
        "about_aftercare": False,
        "change": message.kind.split(":", 1)[1],
        "appointment": first,
        "starts": first.starts_at.astimezone(zone),
        "location": first.location,
        "by_patient": first.cancelled_by == CancelledBy.PATIENT,
        "sessions": [(a, a.starts_at.astimezone(zone)) for a in appointments],
    }


def _invitations(message, appointments: list[Appointment]) -> tuple[Attachment, ...]:
    """One calendar file per appointment, for email only: REQUEST adds or updates it in the
    patient's calendar, CANCEL removes it (RFC 5546; one event per file, as iTIP asks)."""
    if message.channel != Channel.EMAIL:
        return ()
    method = ical.Method.CANCEL if message.kind == CANCELLED else ical.Method.REQUEST
    return tuple(
        Attachment(
            filename=f"goodskin-{appointment.pk}.ics",
            content=ical.calendar_for(
                [appointment],
                appointment.location.time_zone,
                method=method,
                attendee=message.patient.email,
            ).decode(),
            mimetype="text/calendar",
            params=(("method", method),),
        )
        for appointment in appointments
    )


def reason_not_to_send(message) -> str:
    """Why the message no longer says what is true, read fresh just before it goes out (a
    second move, an undone cancellation, a check-in), or ""."""
    if message.kind == SERIES:
        return "" if _series(message) else "no session of the series is still booked"
    status, starts_at = (
        Appointment.objects.filter(pk=message.topic_id).values_list("status", "starts_at").first()
    ) or (None, None)
    if message.kind == CANCELLED:
        return "" if status == Status.CANCELLED else "appointment no longer cancelled"
    if status != Status.BOOKED:
        return "appointment no longer booked"
    if starts_at != message.announced_at:
        return SUPERSEDED
    return ""


def describe(messages: list) -> dict[int, str]:
    """{message id: "Follow-up review, Dec 3 10:00 am"} for the staff's list of messages."""
    ids = {m.topic_id for m in messages if m.topic == Topic.APPOINTMENT}
    found = Appointment.objects.select_related("location").in_bulk(ids) if ids else {}
    lines = {}
    for message in messages:
        appointment = found.get(message.topic_id) if message.topic == Topic.APPOINTMENT else None
        if appointment is not None and message.announced_at:
            with timezone.override(clock.zone(appointment.location.time_zone)):
                starts = when.short_day_and_time(message.announced_at)
            lines[message.pk] = f"{appointment.get_kind_display()}, {starts}"
    return lines


CHANGE_NOTICES = MessageKind(
    label=label,
    render=render,
    purpose=lambda kind: Purpose.REMINDERS,
    reason_not_to_send=reason_not_to_send,
    describe=describe,
    too_late=_(
        "It is too late to send this message: the appointment has changed again or passed. "
        "Call the patient if they still need to hear it."
    ),
)


def register_all() -> None:
    from messaging import kinds

    kinds.register(FAMILY, CHANGE_NOTICES)
    for name in NoticeKind:
        kinds.register(str(name), CHANGE_NOTICES)
