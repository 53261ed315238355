"""The waitlist that fills freed times (issue 17, point 3).

A patient (or the front desk for them) joins the waitlist for a kind of visit, with a doctor
or any, on some weekdays, mornings or afternoons, between two dates. When a time becomes free
(a cancellation, a move, a no-show that leaves later time, time off lifted), the transaction
that freed it writes an Opening. Every minute the waitlist task offers each opening to the
patients it fits (their wishes and the booking rules: the plan's interval, the eligibility
gate, the patient's other visits), in the order they joined, WAITLIST_OFFERS_AT_ONCE at a time.
Each offer is a message with a link that books the time if it is still free: the first to
accept gets it, the others are told it went. An offer with no answer lapses after
WAITLIST_OFFER_HOURS and the next patient is asked.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin import tokens
from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import STAFF_ROLES, Role
from messaging import outbox
from messaging.models import Message, MessageStatus
from patients import audit
from patients.models import AuditAction, Patient
from treatments.models import PlanStatus, TreatmentPlan

from .. import clock, openings, rules
from ..models import (
    EVERY_WEEKDAY,
    Appointment,
    DayPart,
    Kind,
    OfferStatus,
    Opening,
    OpeningReason,
    OpeningStatus,
    SchedulingSettings,
    TimeOff,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from ..slots import Slot, free_slots
from .booking import _book
from .common import BookingError, _lock_doctor, _session, minutes_for, scheduling_settings
from .patient_booking import _unbooked

SALT = "goodskin.waitlist_offer"
OFFER_KIND = "waitlist_offer"
GONE_KIND = "waitlist_gone"
OFFER_TOPIC = "waitlist_offer"
# An offer leaves the patient at least this long to answer, or is not made.
MIN_ANSWER_TIME = timedelta(minutes=30)

logger = logging.getLogger(__name__)
# An opening is offered until its time is too near, filled or not.
STILL_OFFERED = (OpeningStatus.OPEN, OpeningStatus.FILLED)


class AlreadyWaiting(BookingError):
    def __init__(self):
        super().__init__(_("This patient is on the waitlist for this kind of visit already."))


class OfferNotValid(Exception):
    """No offer has this link: mistyped, cut short or made up."""


@dataclass(frozen=True)
class Wish:
    """What a patient would take: the form's answers."""

    kind: str
    not_before: date
    not_after: date | None = None
    doctor: object = None
    location: object = None
    weekdays: int = EVERY_WEEKDAY
    day_part: str = DayPart.ANY
    note: str = ""


@dataclass(frozen=True)
class Answer:
    """What became of an accepted offer: booked (`appointment`), or gone (`gone`, why)."""

    offer: WaitlistOffer
    appointment: Appointment | None = None
    gone: str = ""


def token_for(nonce) -> str:
    return tokens.from_nonce(SALT, nonce)


def find_offer(token: str) -> WaitlistOffer:
    found = (
        WaitlistOffer.objects.filter(token_hash=tokens.digest(token or ""))
        .select_related("entry__patient", "opening__doctor", "opening__location")
        .first()
    )
    if found is None:
        raise OfferNotValid
    return found


# --- Joining and leaving ----------------------------------------------------------------------


def _check_wish(patient: Patient, wish: Wish, by: Actor) -> TreatmentPlan | None:
    """The plan a session wish is for; BookingError when the wish can't be kept."""
    if by.role not in STAFF_ROLES and not (
        by.role == Role.PATIENT and patient.portal_user_id == getattr(by.user, "pk", None)
    ):
        raise BookingError(_("You can't put this patient on the waitlist."))
    if patient.merged_into_id:
        raise BookingError(_("This record is closed; use the patient's current record."))
    if wish.kind not in Kind.values:
        raise BookingError(_("Choose a kind of visit."))
    if not 0 < wish.weekdays <= EVERY_WEEKDAY:
        raise BookingError(_("Choose at least one day of the week."))
    if wish.day_part not in DayPart.values:
        raise BookingError(_("Choose a time of day."))
    office = wish.location
    if office is not None and not (office.active and office.offers(wish.kind)):
        raise BookingError(
            _("%(office)s offers no %(kind)s: choose another office.")
            % {"office": office.name, "kind": Kind(wish.kind).label.lower()}
        )
    today = timezone.localdate()
    if wish.not_before < today:
        raise BookingError(_("The first day can't be in the past."))
    if wish.not_after is not None and wish.not_after < wish.not_before:
        raise BookingError(_("The last day must be on or after the first day."))
    if wish.kind != Kind.SESSION:
        return None
    plan = TreatmentPlan.objects.filter(patient=patient, status=PlanStatus.ACTIVE).first()
    if plan is None:
        raise BookingError(_("A treatment session needs an active treatment plan."))
    if _unbooked(plan) is None:
        raise BookingError(_("Every session of the plan is booked already."))
    if wish.doctor is not None and wish.doctor.pk != plan.doctor_id:
        raise BookingError(_("Sessions are with the plan's doctor."))
    return plan


@transaction.atomic
def add_to_waitlist(*, patient: Patient, wish: Wish, by: Actor) -> WaitlistEntry:
    """Put the patient on the waitlist. A session is the plan's next one, with its doctor."""
    plan = _check_wish(patient, wish, by)
    entry = WaitlistEntry(
        patient=patient,
        kind=wish.kind,
        plan=plan,
        doctor=plan.doctor if plan else wish.doctor,
        location=wish.location,
        weekdays=wish.weekdays,
        day_part=wish.day_part,
        not_before=wish.not_before,
        not_after=wish.not_after,
        note=wish.note.strip(),
        created_by=by.user if getattr(by.user, "is_authenticated", False) else None,
    )
    try:
        # A savepoint: the unique wish per kind is the last word on a double click.
        with transaction.atomic():
            entry.save()
    except IntegrityError as error:
        raise AlreadyWaiting from error
    audit.record(
        actor=by,
        patient=patient,
        action=AuditAction.CREATE,
        subject=f"waitlist:{entry.pk}",
        details={"kind": entry.kind},
    )
    return entry


@transaction.atomic
def remove_from_waitlist(*, entry_id: int, by: Actor, patient: Patient | None = None) -> None:
    """Take a wish off the list (staff, or the patient their own, named by `patient`); its
    offers still waiting for an answer are withdrawn."""
    found = locked(WaitlistEntry.objects.select_related("patient"), of=("self",))
    found = found.filter(pk=entry_id).first()
    own = patient is not None and found is not None and found.patient_id == patient.pk
    if found is None or not (by.role in STAFF_ROLES or (by.role == Role.PATIENT and own)):
        raise BookingError(_("This waitlist entry does not exist."))
    if found.status != WaitlistStatus.WAITING:
        return  # taken off already, or booked: nothing to do twice
    end_wish(found, WaitlistStatus.REMOVED, by=by)
    audit.record(
        actor=by,
        patient=found.patient,
        action=AuditAction.CHANGE,
        subject=f"waitlist:{found.pk}",
        details={"status": WaitlistStatus.REMOVED},
    )


def end_wish(entry: WaitlistEntry, status: str, *, by: Actor, appointment=None) -> None:
    """`entry` (locked) leaves the list; its unanswered offers are withdrawn."""
    entry.status = status
    entry.ended_at = timezone.now()
    entry.ended_by = by.user if getattr(by.user, "is_authenticated", False) else None
    entry.appointment = appointment
    entry.save(update_fields=["status", "ended_at", "ended_by", "appointment"])
    live = list(locked(entry.offers.filter(status=OfferStatus.SENT)))
    for offer in live:
        offer.status = OfferStatus.WITHDRAWN
        offer.answered_at = entry.ended_at
        offer.save(update_fields=["status", "answered_at"])
        outbox.withdraw(topic=OFFER_TOPIC, topic_id=offer.pk, reason="the wish left the waitlist")


# --- Time off lifted ---------------------------------------------------------------------------


@transaction.atomic
def lift_time_off(*, block_id: int, by: Actor) -> None:
    """Give a doctor's blocked time back: it is offered to the waitlist."""
    if by.role not in STAFF_ROLES:
        raise BookingError(_("Only the clinic's staff can do this."))
    block = locked(TimeOff.objects.filter(pk=block_id)).first()
    if block is None:
        raise BookingError(_("This time off was lifted already."))
    if by.role == Role.DOCTOR and by.user.pk != block.doctor_id:
        raise BookingError(_("A doctor can only lift their own time off."))
    _lock_doctor(block.doctor_id)
    location_ids = set(block.doctor.working_hours.values_list("location_id", flat=True).distinct())
    for location_id in sorted(location_ids):
        openings.time_freed(
            doctor_id=block.doctor_id,
            location_id=location_id,
            starts_at=block.starts_at,
            ends_at=block.ends_at,
            reason=OpeningReason.TIME_OFF_LIFTED,
        )
    block.delete()


# --- Offering ------------------------------------------------------------------------------------


def offer_openings() -> int:
    """The waitlist task's run: each open opening offered to whom it fits. Returns how many
    offers were made. One transaction per opening, so one that fails leaves the others."""
    now = timezone.now()
    ids = list(
        Opening.objects.filter(status__in=STILL_OFFERED, offer_from__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    made = 0
    for pk in ids:
        try:
            made += _offer_opening(pk)
        except Exception:
            logger.exception("waitlist: opening %s could not be offered", pk)
    return made


@transaction.atomic
def _offer_opening(opening_id: int) -> int:
    # Locked, skipping one another worker holds: two task runs at once never offer the same
    # opening twice, and an acceptance (which locks it too) is never overtaken.
    opening = (
        locked(
            Opening.objects.filter(pk=opening_id, status__in=STILL_OFFERED),
            skip_locked=True,
            of=("self",),
        )
        .select_related("location", "doctor", "appointment")
        .first()
    )
    if opening is None:
        return 0
    now = timezone.now()
    _lapse_offers(opening, now)
    if opening.ends_at <= now + timedelta(hours=django_settings.WAITLIST_NOTICE_HOURS):
        opening.status, opening.closed_at = OpeningStatus.CLOSED, now
        opening.save(update_fields=["status", "closed_at"])
        return 0
    if not _waking_hours(now, opening):
        return 0
    # Offers to wishes that have left the list meanwhile hold no place.
    room = (
        django_settings.WAITLIST_OFFERS_AT_ONCE
        - opening.offers.filter(
            status=OfferStatus.SENT, entry__status=WaitlistStatus.WAITING
        ).count()
    )
    made = 0
    settings = scheduling_settings()
    for entry in _candidates(opening) if room > 0 else ():
        opening.seen_entry_id = entry.pk
        if slot := fitting_time(entry, opening, settings=settings, now=now):
            _offer(opening, entry, slot, now)
            made += 1
            if made == room:
                break
    opening.save(update_fields=["seen_entry_id"])
    return made


def _waking_hours(now: datetime, opening: Opening) -> bool:
    """Offers go out in the clinic's waking hours only: a text at 2 a.m. would wake the
    patient, or lapse while they sleep and cost them their turn."""
    hour = now.astimezone(clock.zone(opening.location.time_zone)).hour
    first, last = (
        django_settings.WAITLIST_OFFER_FROM_HOUR,
        django_settings.WAITLIST_OFFER_UNTIL_HOUR,
    )
    return first <= hour < last


def _answer_by(now: datetime, starts_at: datetime) -> datetime:
    return min(
        now + timedelta(hours=django_settings.WAITLIST_OFFER_HOURS),
        starts_at - timedelta(hours=django_settings.WAITLIST_NOTICE_HOURS),
    )


def _lapse_offers(opening: Opening, now: datetime) -> None:
    opening.offers.filter(status=OfferStatus.SENT, expires_at__lte=now).update(
        status=OfferStatus.EXPIRED
    )


def _local_days(opening: Opening, tz) -> tuple[date, date]:
    """The first and last clinic-local days the opening's time touches."""
    first = opening.starts_at.astimezone(tz).date()
    return first, (opening.ends_at - timedelta(microseconds=1)).astimezone(tz).date()


def _candidates(opening: Opening):
    """Waiting wishes the opening may fit, in the order they joined, from the first one this
    opening has not looked at yet (one that did not fit is not asked again)."""
    tz = clock.zone(opening.location.time_zone)
    first, last = _local_days(opening, tz)
    wishes = (
        WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING, pk__gt=opening.seen_entry_id)
        .filter(Q(doctor__isnull=True) | Q(doctor_id=opening.doctor_id))
        .filter(Q(location__isnull=True) | Q(location_id=opening.location_id))
        .filter(not_before__lte=last)
        .filter(Q(not_after__isnull=True) | Q(not_after__gte=first))
        .select_related("patient", "plan")
        .order_by("pk")
    )
    if opening.appointment is not None:
        # Not back to whoever just gave it up.
        wishes = wishes.exclude(patient_id=opening.appointment.patient_id)
    return wishes.iterator(chunk_size=50)


def fitting_time(
    entry: WaitlistEntry, opening: Opening, *, settings: SchedulingSettings, now: datetime
) -> Slot | None:
    """The first time inside the opening that the wish and the booking rules allow for this
    patient, or None. The rules are the free-time search's own (free_slots, rules.gap)."""
    patient = entry.patient
    tz = clock.zone(opening.location.time_zone)
    session = plan = None
    if rules.patient_record(patient):
        return None
    if not (opening.location.active and opening.location.offers(entry.kind)):
        return None
    if entry.kind == Kind.SESSION:
        plan = entry.plan
        number = _unbooked(plan) if plan and plan.doctor_id == opening.doctor_id else None
        if number is None:
            return None
        session = _session(plan, number, patient=patient, tz=tz)
        if rules.plan_session(patient, session):
            return None
    elif (
        Appointment.objects.filter(patient=patient, kind=entry.kind)
        .upcoming()
        .filter(starts_at__lt=opening.starts_at)
        .exists()
    ):
        return None  # a visit of this kind comes sooner already
    first, last = _local_days(opening, tz)
    first = max(first, entry.not_before)
    last = min(last, entry.not_after) if entry.not_after else last
    if last < first:
        return None
    slots = free_slots(
        doctor_ids=[opening.doctor_id],
        location=opening.location,
        first_day=first,
        last_day=last,
        minutes=minutes_for(entry.kind, plan, settings=settings),
        step_minutes=settings.slot_step_minutes,
        buffer_minutes=settings.buffer_minutes,
        patient_id=patient.pk,
    )
    earliest = now + timedelta(hours=django_settings.WAITLIST_NOTICE_HOURS)
    for slot in slots:
        local = slot.starts_at.astimezone(tz)
        if not opening.starts_at <= slot.starts_at < opening.ends_at or slot.starts_at < earliest:
            continue
        if not entry.wants_weekday(local.weekday()) or not rules.in_part(entry.day_part, local):
            continue
        if session is not None and rules.gap(session, local.date()) is not None:
            continue
        if _answer_by(now, slot.starts_at) - now < MIN_ANSWER_TIME:
            continue  # no time left to answer
        return slot
    return None


def _offer(opening: Opening, entry: WaitlistEntry, slot: Slot, now: datetime) -> WaitlistOffer:
    answer_by = _answer_by(now, slot.starts_at)
    nonce = uuid.uuid4()
    offer = WaitlistOffer.objects.create(
        opening=opening,
        entry=entry,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        nonce=nonce,
        token_hash=tokens.digest(token_for(nonce)),
        sent_at=now,
        expires_at=answer_by,
    )
    outbox.put_new(
        [
            outbox.Draft(
                key=f"waitlist-offer:{offer.pk}",
                kind=OFFER_KIND,
                patient=entry.patient,
                channel=outbox.channel_for(entry.patient),
                due_at=now,
                give_up_at=answer_by,
                topic=OFFER_TOPIC,
                topic_id=offer.pk,
            )
        ]
    )
    return offer


# --- Answering -------------------------------------------------------------------------------


@transaction.atomic
def accept_offer(*, token: str, ip: str | None) -> Answer:
    """Book the offered time, if it is still free and still this patient's to take. A second
    click answers as the first did. Raises OfferNotValid for a link no offer has."""
    found = find_offer(token)
    # The opening first: two patients accepting offers of one opening take turns here, and the
    # second finds it filled.
    opening = (
        locked(Opening.objects.filter(pk=found.opening_id), of=("self",))
        .select_related("location")
        .get()
    )
    entry = locked(WaitlistEntry.objects.filter(pk=found.entry_id), of=("self",)).select_related(
        "patient", "plan"
    )[0]
    offer = locked(WaitlistOffer.objects.filter(pk=found.pk)).get()
    if offer.status == OfferStatus.ACCEPTED:
        return Answer(offer=offer, appointment=offer.appointment)
    now = timezone.now()
    gone = _why_gone(offer, opening, entry, now)
    appointment = None
    if not gone:
        try:
            with transaction.atomic():  # a refusal leaves the offer to be marked below
                appointment = _book_offer(offer, opening, entry, ip)
        except BookingError as error:
            gone = str(error)
    if gone:
        if offer.status == OfferStatus.SENT:
            lapsed = offer.expires_at <= now
            _close_offer(offer, OfferStatus.EXPIRED if lapsed else OfferStatus.WENT, now)
        return Answer(offer=offer, gone=gone)
    # Every offer the two steps below change, locked at once in id order: two acceptances
    # that share patients and openings never wait for each other in a circle.
    list(
        locked(
            WaitlistOffer.objects.filter(
                Q(entry=entry) | Q(opening=opening), status=OfferStatus.SENT
            ).order_by("pk"),
            of=("self",),
        )
    )
    _close_offer(offer, OfferStatus.ACCEPTED, now, appointment=appointment)
    # Filled, and still offered: a long freed time (time off lifted) may hold more visits.
    opening.status = OpeningStatus.FILLED
    opening.save(update_fields=["status"])
    end_wish(entry, WaitlistStatus.BOOKED, by=Actor.system(), appointment=appointment)
    _tell_the_others(opening, appointment, now)
    return Answer(offer=offer, appointment=appointment)


def _why_gone(offer, opening, entry, now) -> str:
    lapsed = offer.status == OfferStatus.SENT and offer.expires_at <= now
    if lapsed or offer.status == OfferStatus.EXPIRED:
        return _("The time to answer this offer has passed.")
    if offer.status != OfferStatus.SENT or opening.status not in STILL_OFFERED:
        return _("This time has gone to someone else.")
    if entry.status != WaitlistStatus.WAITING:
        return _("You are no longer on the waitlist for this visit.")
    return ""


def _book_offer(offer, opening, entry, ip) -> Appointment:
    plan = number = None
    if entry.kind == Kind.SESSION:
        # Locked, as the portal's booking does: one booking per session number, whoever
        # books it at the same moment (the desk, the patient's portal, this link).
        plan = locked(TreatmentPlan.objects.filter(pk=entry.plan_id)).first()
        number = _unbooked(plan) if plan is not None else None
        if number is None:
            raise BookingError(_("Every session of your plan is booked already."))
    return _book(
        patient=entry.patient,
        doctor=opening.doctor,
        kind=entry.kind,
        starts_at=offer.starts_at,
        by=Actor(user=None, role=None, ip=ip),
        plan=plan,
        session_number=number,
        location=opening.location,
        notes=_("Booked from the waitlist"),
    )


def _close_offer(offer: WaitlistOffer, status: str, now: datetime, appointment=None) -> None:
    offer.status, offer.answered_at, offer.appointment = status, now, appointment
    offer.save(update_fields=["status", "answered_at", "appointment"])


def _tell_the_others(opening: Opening, booked: Appointment, now: datetime) -> None:
    """Whoever else was offered a time that `booked` now takes is told it went; an offer of
    another part of a long freed time stays open."""
    taken = opening.offers.filter(
        status=OfferStatus.SENT, starts_at__lt=booked.ends_at, ends_at__gt=booked.starts_at
    )
    others = list(locked(taken, of=("self",)).select_related("entry__patient"))
    for offer in others:
        _close_offer(offer, OfferStatus.WENT, now)
    keys = [f"waitlist-offer:{o.pk}" for o in others]
    offered = set(
        Message.objects.filter(key__in=keys, status=MessageStatus.SENT).values_list(
            "topic_id", flat=True
        )
    )
    outbox.withdraw_keys(keys, reason="the offered time went first")
    others = [o for o in others if o.pk in offered]  # told only if they were offered it
    outbox.put_new(
        [
            outbox.Draft(
                key=f"waitlist-gone:{offer.pk}",
                kind=GONE_KIND,
                patient=offer.entry.patient,
                channel=outbox.channel_for(offer.entry.patient),
                due_at=now,
                give_up_at=offer.starts_at,
                topic=OFFER_TOPIC,
                topic_id=offer.pk,
            )
            for offer in others
        ]
    )


@transaction.atomic
def decline_offer(*, token: str) -> WaitlistOffer:
    """No thanks: the next patient is asked at the task's next run. The wish stays."""
    found = find_offer(token)
    offer = locked(WaitlistOffer.objects.filter(pk=found.pk)).get()
    if offer.status == OfferStatus.SENT:
        _close_offer(offer, OfferStatus.DECLINED, timezone.now())
    return offer
