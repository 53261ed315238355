"""The message a patient gets when an appointment of theirs is booked (one, or a whole series
in one message), moved or cancelled, by the front desk or by themselves online: written to
the outbox in the same transaction as the change, once per change (the key names the
appointment and its version after the change). How they read and when they are no longer
true: `change_notice_kinds`.

A notice says what is true when it goes out: it is rendered then, and one whose change was
overtaken before it went out (moved twice in a minute) is not sent: the change that overtook
it withdraws it, and the send-time check (`change_notice_kinds.reason_not_to_send`) stops one
a worker had already claimed. A patient who never heard of a booking is told of it as a
booking, at its new time; one cancelled before its booking notice went out gets nothing.
A patient's own cancellation waits out the undo window (`CANCEL_UNDO_MINUTES`) and is
withdrawn if they undo it.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from messaging import outbox
from messaging.outbox import Draft

from .models import Appointment
from .reminders import CHANGE as FAMILY
from .reminders import Topic


class NoticeKind(models.TextChoices):
    BOOKED = f"{FAMILY}:booked"
    SERIES = f"{FAMILY}:series"
    MOVED = f"{FAMILY}:moved"
    CANCELLED = f"{FAMILY}:cancelled"


BOOKED, SERIES, MOVED, CANCELLED = NoticeKind
SUPERSEDED = "superseded by a later change"
UNDONE = "cancellation undone"


def undo_window() -> timedelta:
    return timedelta(minutes=settings.CANCEL_UNDO_MINUTES)


def _draft(appointment: Appointment, kind: str, *, due_at: datetime) -> Draft:
    # Worth sending until the appointment starts; a cancellation notice a little longer.
    give_up_at = max(appointment.starts_at, due_at + timedelta(hours=1))
    return Draft(
        key=f"a{appointment.pk}:{kind}:{appointment.version}",
        kind=kind,
        patient=appointment.patient,
        channel=outbox.channel_for(appointment.patient),
        topic=Topic.APPOINTMENT,
        topic_id=appointment.pk,
        due_at=due_at,
        give_up_at=give_up_at,
        announced_at=appointment.starts_at,
    )


def booked(appointment: Appointment) -> None:
    """One appointment just booked."""
    if appointment.starts_at > timezone.now():
        outbox.put_new([_draft(appointment, BOOKED, due_at=timezone.now())])


def series_booked(appointments: list[Appointment]) -> None:
    """A plan's sessions just booked together: one message, about the plan."""
    ahead = [a for a in appointments if a.starts_at > timezone.now()]
    if not ahead:
        return
    first, last = min(ahead, key=lambda a: a.starts_at), max(ahead, key=lambda a: a.starts_at)
    now = timezone.now()
    outbox.put_new(
        [
            Draft(
                key=f"p{first.plan_id}:{SERIES}:a{first.pk}",
                kind=SERIES,
                patient=first.patient,
                channel=outbox.channel_for(first.patient),
                topic=Topic.PLAN,
                topic_id=first.plan_id,
                due_at=now,
                give_up_at=max(last.starts_at, now + timedelta(hours=1)),
                announced_at=first.starts_at,
            )
        ]
    )


class Told(models.TextChoices):
    """What the patient has heard of an appointment's booking, as a change finds it."""

    YES = "yes"  # its booking notice went out (or is going out)
    OWN_WITHDRAWN = "own"  # its booking notice was still waiting: withdrawn now
    SERIES_WAITING = "series"  # the plan's series message still waits, and will say it as is


def _overtaken(appointment: Appointment) -> Told:
    """Withdraw the notices about `appointment` still waiting (what they say is overtaken)
    and say whether the patient has heard of the booking. A series message still waiting
    is kept from the workers until this change commits, so it says the appointment as the
    change leaves it."""
    withdrawn_booking = outbox.withdraw(
        topic=Topic.APPOINTMENT, topic_id=appointment.pk, kinds=[BOOKED], reason=SUPERSEDED
    )
    outbox.withdraw(
        topic=Topic.APPOINTMENT, topic_id=appointment.pk, kinds=NoticeKind, reason=SUPERSEDED
    )
    if withdrawn_booking:
        return Told.OWN_WITHDRAWN
    if appointment.plan_id and outbox.hold_waiting(
        topic=Topic.PLAN, topic_id=appointment.plan_id, kinds=[SERIES]
    ):
        return Told.SERIES_WAITING
    return Told.YES


def moved(appointment: Appointment) -> None:
    """The appointment is at a new time (its version raised)."""
    if appointment.starts_at <= timezone.now():
        return
    told = _overtaken(appointment)
    if told == Told.SERIES_WAITING:
        return  # the series message still waiting will give the new time
    kind = BOOKED if told == Told.OWN_WITHDRAWN else MOVED
    outbox.put(_draft(appointment, kind, due_at=timezone.now()))


def cancelled(appointment: Appointment, *, by_patient: bool) -> None:
    """The appointment is cancelled. Nothing is sent about a booking the patient never heard
    of. The patient's own cancellation waits out the undo window."""
    if _overtaken(appointment) != Told.YES or appointment.starts_at <= timezone.now():
        return
    due_at = timezone.now() + (undo_window() if by_patient else timedelta(0))
    outbox.put(_draft(appointment, CANCELLED, due_at=due_at))


def cancellation_undone(appointment: Appointment) -> None:
    """The patient undid their cancellation within the window: its notice never goes out,
    and nothing else needs saying (the appointment is as they were last told). A
    cancellation that sent nothing (the booking had not been told yet) is told as a
    booking now."""
    withdrawn = outbox.withdraw(
        topic=Topic.APPOINTMENT, topic_id=appointment.pk, kinds=[CANCELLED], reason=UNDONE
    )
    if withdrawn:
        return
    if appointment.plan_id and outbox.hold_waiting(
        topic=Topic.PLAN, topic_id=appointment.plan_id, kinds=[SERIES]
    ):
        return
    outbox.put(_draft(appointment, BOOKED, due_at=timezone.now()))


def of(appointment: Appointment):
    """The messages that told (or will tell) the patient of an appointment's changes."""
    return outbox.about(Topic.APPOINTMENT, appointment.pk).filter(kind__startswith=f"{FAMILY}:")
