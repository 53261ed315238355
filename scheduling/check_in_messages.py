"""The messages of the safety check-in (issue 16, point 1): when a treatment session is
completed, a check-in (treatments.check_ins) for each of SAFETY_CHECK_IN_DAYS after it, and a
message with its link, due that day at the clinic's aftercare hour. It goes out whatever
messages the patient chose, as the warning signs do: it asks after their safety."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from messaging import kinds, outbox
from messaging.kinds import MessageKind, PermanentFailure, Rendered
from patients.models import Purpose
from treatments import check_ins
from treatments.models import SafetyCheckIn, TreatmentPlan
from treatments.selectors import get_clinic_settings

from . import clock
from .models import Appointment

KIND = "check_in"
TOPIC = "check_in"

_page: list[Callable[[str], str]] = []


def register_page(path_for: Callable[[str], str]) -> None:
    """`path_for(token)`: the check-in page (the portal's, registered at start: this app cannot
    name the portal's pages)."""
    _page[:] = [path_for]


def link_for(check_in: SafetyCheckIn) -> str:
    return settings.SITE_URL.rstrip("/") + _page[0](check_ins.token_for(check_in.nonce))


def session_completed(
    appointment: Appointment,
    plan: TreatmentPlan,
    *,
    session_day: date,
    session_end: datetime,
    tz,
    hour: int,
) -> None:
    """In the completion's transaction: the check-ins of this visit and their messages."""
    for days in settings.SAFETY_CHECK_IN_DAYS:
        due_at = max(clock.instant(session_day + timedelta(days=days), time(hour), tz), session_end)
        check_in = check_ins.create(
            plan=plan,
            appointment_id=appointment.pk,
            session_on=session_day,
            days_after=days,
            due_at=due_at,
        )
        outbox.put(
            outbox.Draft(
                key=f"check-in:{check_in.pk}",
                kind=KIND,
                patient=appointment.patient,
                channel=outbox.channel_for(appointment.patient),
                due_at=check_in.due_at,
                give_up_at=check_in.expires_at,
                topic=TOPIC,
                topic_id=check_in.pk,
            )
        )


def _check_in(message) -> SafetyCheckIn | None:
    return SafetyCheckIn.objects.filter(pk=message.topic_id).first()


def _render(message, memo: dict, *, unsubscribe: bool = True) -> Rendered:
    check_in = _check_in(message)
    if check_in is None or not _page:
        raise PermanentFailure("cannot render: no check-in, or no page to answer it")
    patient = message.patient
    link = link_for(check_in)
    unsubscribe_url = (
        outbox.unsubscribe_url(patient.pk, message.channel, Purpose.AFTERCARE)
        if unsubscribe
        else ""
    )
    context = {
        "name": patient.preferred_name or patient.legal_first_name,
        "clinic_name": settings.CLINIC_NAME,
        "session_on": check_in.session_on,
        "link": link,
        "unsubscribe_url": unsubscribe_url,
        "about_aftercare": True,
        "warning_signs": get_clinic_settings().warning_signs_text(),
    }
    text = render_to_string("scheduling/messages/check_in.txt", context)
    sms = render_to_string("scheduling/messages/check_in_sms.txt", context).strip()
    hidden = gettext("(the link is not kept)")
    return Rendered(
        subject=gettext("How are your legs after your session?"),
        text=text,
        html="",
        sms=sms,
        unsubscribe_url=unsubscribe_url,
        kept=text.replace(link, hidden),
    )


def _render_safety(message, memo: dict) -> Rendered:
    """For a patient who declined aftercare advice: the same question, with no link to stop
    it (it asks after their safety)."""
    return _render(message, memo, unsubscribe=False)


def _reason_not_to_send(message) -> str:
    check_in = _check_in(message)
    if check_in is None:
        return "the check-in no longer exists"
    if check_ins.is_expired(check_in):
        return "the check-in link has expired"
    return ""


def register() -> None:
    kinds.register(
        KIND,
        MessageKind(
            label=lambda kind: _("Safety check-in after a session"),
            render=_render,
            render_safety=_render_safety,
            reason_not_to_send=_reason_not_to_send,
            purpose=lambda kind: Purpose.AFTERCARE,
            useful_until=lambda message, due_at: (
                due_at + timedelta(days=settings.SAFETY_CHECK_IN_VALID_DAYS)
            ),
        ),
    )
