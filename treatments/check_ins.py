"""The safety check-in after a session (issue 16, point 1).

Some days after a treatment session (SAFETY_CHECK_IN_DAYS) the patient gets a link, with no
login, asking how their legs are. An answer that is a warning sign alerts the treating doctor
through the outbox and stays on the doctor's home page until a doctor says what was done; a
check-in no one answered within SAFETY_CHECK_IN_NO_ANSWER_HOURS is listed for the front desk to
call. Every answer is kept with the plan and shown on the chart of the next session.

Scheduling writes the check-ins when a session is completed and sends their messages
(scheduling.check_in_messages); the portal shows the page."""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from goodskin import tokens
from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import STAFF_ROLES, Role
from messaging import kinds, outbox, selectors
from messaging.kinds import MessageKind, Rendered
from messaging.models import Channel
from patients import audit
from patients.models import AuditAction

from .models import ALARMING_ANSWERS, CheckInAnswer, CheckInReply, SafetyCheckIn, TreatmentPlan

SALT = "goodskin.safety_check_in"
ALERT_KIND = "check_in_alert"
REPLY_TOPIC = "check_in_reply"
# The doctor's alert is retried this long while the mail server is down (the home page shows
# the answer all along).
ALERT_USEFUL_FOR = timedelta(days=7)


class CheckInError(Exception):
    """Refused, with a message for the page."""


class LinkNotValid(Exception):
    """No check-in has this link: mistyped, cut short or made up."""


def token_for(nonce) -> str:
    return tokens.from_nonce(SALT, nonce)


token_hash = tokens.digest


def create(
    *, plan: TreatmentPlan, appointment_id: int, session_on, days_after: int, due_at: datetime
) -> SafetyCheckIn:
    """The check-in `days_after` a visit, in the caller's transaction; the one there is if the
    visit has it already (a visit completed again writes none twice)."""
    nonce = uuid.uuid4()
    check_in, _created = SafetyCheckIn.objects.get_or_create(
        appointment_id=appointment_id,
        days_after=days_after,
        defaults={
            "plan": plan,
            "session_on": session_on,
            "nonce": nonce,
            "token_hash": token_hash(token_for(nonce)),
            "due_at": due_at,
            "expires_at": due_at + timedelta(days=settings.SAFETY_CHECK_IN_VALID_DAYS),
        },
    )
    return check_in


def find(token: str) -> SafetyCheckIn:
    found = (
        SafetyCheckIn.objects.select_related("plan__patient", "plan__doctor")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if found is None:
        raise LinkNotValid
    return found


def is_expired(check_in: SafetyCheckIn) -> bool:
    return timezone.now() >= check_in.expires_at


def needs_911(answers) -> bool:
    return CheckInAnswer.CHEST in answers


@transaction.atomic
def answer(
    *,
    check_in: SafetyCheckIn,
    answers: list[str],
    note: str = "",
    ip: str | None = None,
    form_token: uuid.UUID | None = None,
) -> CheckInReply:
    """Keep the patient's answer; a warning sign queues the doctor's alert in the same
    transaction (no answer kept without its alert). The same page sent twice (a double tap)
    keeps one answer; answering again from a new page keeps both."""
    if is_expired(check_in):
        raise CheckInError(_("This link has expired."))
    reply = CheckInReply(
        check_in=check_in,
        answers=[a for a in CheckInAnswer.values if a in answers],
        note=note,
        warning=any(a in ALARMING_ANSWERS for a in answers),
        ip=ip,
        form_token=form_token,
    )
    try:
        with transaction.atomic():  # a savepoint: the unique token meets the first post
            reply.save(force_insert=True)
    except IntegrityError:
        first = CheckInReply.objects.filter(check_in=check_in, form_token=form_token).first()
        if first is None:
            raise CheckInError(_("This page is out of date. Open the link again.")) from None
        return first
    if reply.warning:
        now = timezone.now()
        outbox.put(
            outbox.Draft(
                key=f"check-in-reply:{reply.pk}",
                kind=ALERT_KIND,
                staff=check_in.plan.doctor,
                channel=Channel.EMAIL,
                topic=REPLY_TOPIC,
                topic_id=reply.pk,
                due_at=now,
                give_up_at=now + ALERT_USEFUL_FOR,
            )
        )
    audit.record(
        actor=Actor(user=None, role=None, ip=ip),
        patient=check_in.plan.patient,
        action=AuditAction.CREATE,
        subject="safety check-in",
        details={"check_in": check_in.pk, "reply": reply.pk, "answers": reply.answers},
    )
    return reply


@transaction.atomic
def handle(*, reply_id: int, note: str, by: Actor) -> CheckInReply:
    """A doctor says what was done about an answer with a warning sign: it leaves the doctors'
    home pages, and an alert email still waiting is withdrawn."""
    if by.role != Role.DOCTOR:
        raise CheckInError(_("Only a doctor can mark a warning sign as handled."))
    note = note.strip()
    if not note:
        raise CheckInError(_("Say what was done."))
    # The reply's row: two doctors (or two clicks) handle it once.
    reply = locked(CheckInReply.objects).select_related("check_in__plan").get(pk=reply_id)
    if not reply.warning:
        raise CheckInError(_("This answer had no warning sign."))
    if reply.handled_at is not None:
        raise CheckInError(_("This was handled already."))
    reply.handled_by, reply.handled_at, reply.handled_note = by.user, timezone.now(), note
    reply.save(update_fields=["handled_by", "handled_at", "handled_note"])
    outbox.withdraw(topic=REPLY_TOPIC, topic_id=reply.pk, reason="handled in the app")
    audit.record(
        actor=by,
        patient=reply.check_in.plan.patient,
        action=AuditAction.CHANGE,
        subject="safety check-in",
        details={"reply": reply.pk, "handled": note},
    )
    return reply


@transaction.atomic
def record_call(*, check_in_id: int, note: str, by: Actor) -> SafetyCheckIn:
    """The front desk (or a doctor) called a patient who did not answer a check-in."""
    if by.role not in STAFF_ROLES:
        raise CheckInError(_("Only the clinic's staff can record a call."))
    note = note.strip()
    if not note:
        raise CheckInError(_("Say what came of the call."))
    # The check-in's row: two people at the desk record one call.
    check_in = locked(SafetyCheckIn.objects).select_related("plan").get(pk=check_in_id)
    if check_in.called_at is not None:
        raise CheckInError(_("Someone has recorded a call about this already."))
    check_in.called_by, check_in.called_at, check_in.call_note = by.user, timezone.now(), note
    check_in.save(update_fields=["called_by", "called_at", "call_note"])
    audit.record(
        actor=by,
        patient=check_in.plan.patient,
        action=AuditAction.CHANGE,
        subject="safety check-in",
        details={"check_in": check_in.pk, "called": note},
    )
    return check_in


def open_warnings():
    """Answers with a warning sign no doctor has handled yet, the oldest first."""
    return (
        CheckInReply.objects.filter(warning=True, handled_at__isnull=True)
        .select_related("check_in__plan__patient", "check_in__plan__doctor")
        .order_by("answered_at", "pk")
    )


def not_answered(*, now: datetime | None = None):
    """Check-ins due more than SAFETY_CHECK_IN_NO_ANSWER_HOURS ago with no answer since (to
    them or a later one of the plan) and no call recorded: the front desk calls."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.SAFETY_CHECK_IN_NO_ANSWER_HOURS)
    answered_since = CheckInReply.objects.filter(
        Q(check_in=OuterRef("pk"))
        | Q(check_in__plan=OuterRef("plan"), answered_at__gte=OuterRef("due_at"))
    )
    return (
        SafetyCheckIn.objects.filter(due_at__lte=cutoff, called_at__isnull=True)
        .exclude(Exists(answered_since))
        .select_related("plan__patient")
        .order_by("due_at", "pk")
    )


def said_before(plan: TreatmentPlan, on) -> list[CheckInReply]:
    """What the patient said in the check-ins after the plan's previous session, for the chart
    of the session on `on` (the day being charted): the answers to the check-ins of sessions
    since the last chart before `on`, newest first."""
    previous = (
        plan.charts.filter(treated_on__lt=on)
        .order_by("-treated_on")
        .values_list("treated_on", flat=True)
        .first()
    )
    rows = CheckInReply.objects.filter(check_in__plan=plan, check_in__session_on__lt=on)
    if previous is not None:
        rows = rows.filter(check_in__session_on__gte=previous)
    return list(rows.select_related("check_in", "handled_by"))


def alert_delivery(replies) -> dict:
    """{reply id: its alert message}, for the doctor's home page."""
    return selectors.latest_by_topic(REPLY_TOPIC, [r.pk for r in replies], kind=ALERT_KIND)


def _render_alert(message, memo: dict) -> Rendered:
    """The email names no patient: mail leaves the clinic, the link needs a login."""
    reply = CheckInReply.objects.get(pk=message.topic_id)
    text = render_to_string(
        "treatments/email/check_in_alert.txt",
        {
            "signs": [str(CheckInAnswer(a).label) for a in reply.warning_signs],
            "clinic_name": settings.CLINIC_NAME,
            "link": settings.SITE_URL.rstrip("/") + reverse("doctor_home"),
        },
    )
    return Rendered(
        subject=_("Safety check-in: a patient reports a warning sign"), text=text, html="", sms=""
    )


def _alert_reason_not_to_send(message) -> str:
    row = CheckInReply.objects.filter(pk=message.topic_id).values_list("handled_at").first()
    if row is None:
        return "the answer no longer exists"
    return "handled in the app" if row[0] else ""


def register() -> None:
    kinds.register(
        ALERT_KIND,
        MessageKind(
            label=lambda kind: gettext_lazy("Safety check-in alert"),
            render=_render_alert,
            reason_not_to_send=_alert_reason_not_to_send,
            useful_until=lambda message, due_at: due_at + ALERT_USEFUL_FOR,
        ),
    )
