"""New patients book a consultation online (issue 15, point 1).

The public page offers free consultation times (the front desk's booking rules); the person's
details wait in a BookingRequest until they follow the link emailed to them. Confirming makes
the patient and books the consultation, unless the time was taken meanwhile (the person
chooses another, from the same link). When the duplicate check finds a likely existing patient,
the booking is made all the same, under a record of its own, and the front desk then says
whether it is the same person (the records are joined) or not.

The page answers in the same way whatever the details are: nothing here looks at existing
patients before the link is followed, so nothing tells a visitor who is a patient already."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from goodskin import tokens
from goodskin.actors import Actor
from goodskin.db import locked
from messaging.models import Message, MessageStatus
from patients import audit
from patients.models import AuditAction, Patient
from patients.patient_answers import record_online_screening
from patients.selectors import possible_duplicates
from patients.services import merge_records, register_patient
from treatments.models import Consultation, TreatmentPlan

from .. import clock, online_booking_link, rules
from ..models import BookingRequest, BookingStatus, Kind, Location, WorkingHours
from ..slots import free_slots
from .booking import _book
from .common import (
    BookingError,
    _require_staff,
    default_location,
    minutes_for,
    scheduling_settings,
)
from .patient_changes import _thin

# Link and request last this long: a time held for days would be a time lost to others.
VALID_FOR = timedelta(hours=24)
IP_WINDOW = timedelta(hours=1)
CONTACT_WINDOW = timedelta(days=1)


class LinkNotValid(Exception):
    """No request has this link: mistyped, cut short or made up."""


@dataclass(frozen=True)
class Choice:
    """A free time offered on the public page: when, with which doctor, at which office
    (`office`: its name, shown when the clinic has more than one)."""

    starts_at: datetime
    doctor_id: int
    location_id: int | None = None
    office: str = ""

    @property
    def value(self) -> str:
        return f"{self.starts_at.isoformat()}|{self.doctor_id}|{self.location_id or ''}"


def consultation_options(*, days: int = 21, per_day: int = 6, max_days: int = 10) -> list:
    """Free consultation times with any doctor who has working hours, at every office in use
    that offers consultations, after the patient notice period: at most one doctor per time
    and office, `per_day` a day (on the hour and half hour)."""
    sched = scheduling_settings()
    offices = [o for o in Location.objects.in_use() if o.offers(Kind.CONSULTATION)]
    if not offices:
        return []
    now = timezone.now()
    tz = clock.zone(default_location().time_zone)
    doctor_ids = list(
        WorkingHours.objects.filter(doctor__is_active=True)
        .values_list("doctor_id", flat=True)
        .distinct()
    )
    if not doctor_ids:
        return []
    first = (now + timedelta(hours=sched.patient_notice_hours)).astimezone(tz).date()
    slots = free_slots(
        doctor_ids=doctor_ids,
        locations=offices,
        first_day=first,
        last_day=first + timedelta(days=days),
        minutes=minutes_for(Kind.CONSULTATION, None, settings=sched),
        step_minutes=sched.slot_step_minutes,
        buffer_minutes=sched.buffer_minutes,
    )
    seen, one_per_time = set(), []
    for slot in slots:
        if (slot.starts_at, slot.location.pk) in seen:
            continue
        if rules.with_notice(slot.starts_at, now, sched.patient_notice_hours) is None:
            seen.add((slot.starts_at, slot.location.pk))
            one_per_time.append(slot)
    thinned = _thin(one_per_time, tz, per_day=per_day * len(offices), max_days=max_days)
    named = len(offices) > 1
    return [
        Choice(
            starts_at=s.starts_at,
            doctor_id=s.doctor.pk,
            location_id=s.location.pk,
            office=s.location.name if named else "",
        )
        for s in thinned
    ]


token_hash = tokens.digest


def request_consultation(
    *, details: dict, choice: Choice, ip: str | None, form_token: uuid.UUID | None = None
) -> bool:
    """Keep the request and queue the link to confirm it. False, and nothing kept, when this
    address asked ONLINE_BOOKING_PER_ADDRESS times in the last hour. Over the limit per email
    or phone (ONLINE_BOOKING_PER_CONTACT a day) nothing is kept either, silently: the person's
    answer is the same. The form's token names the request: a double click keeps one."""
    now = timezone.now()
    per_ip = BookingRequest.objects.filter(ip=ip, created_at__gte=now - IP_WINDOW)
    if ip and per_ip.count() >= settings.ONLINE_BOOKING_PER_ADDRESS:
        return False
    same_contact = Q(email=details["email"])
    if details.get("phone"):
        same_contact |= Q(phone=details["phone"])
    recent = BookingRequest.objects.filter(same_contact, created_at__gte=now - CONTACT_WINDOW)
    if recent.count() >= settings.ONLINE_BOOKING_PER_CONTACT:
        return True
    nonce = form_token or uuid.uuid4()
    request = BookingRequest(
        **details,
        doctor_id=choice.doctor_id,
        starts_at=choice.starts_at,
        location_id=choice.location_id,
        nonce=nonce,
        token_hash=token_hash(online_booking_link.token_for(nonce)),
        ip=ip,
        created_at=now,
        expires_at=now + VALID_FOR,
    )
    try:
        # The request and its email stand or fall together; the second post of the same form
        # meets the first on the unique nonce and keeps nothing.
        with transaction.atomic():
            request.save(force_insert=True)
            online_booking_link.queue(request)
    except IntegrityError:
        pass
    return True


def find_request(token: str) -> BookingRequest:
    request = BookingRequest.objects.filter(token_hash=token_hash(token)).first()
    if request is None:
        raise LinkNotValid
    return request


def is_expired(request: BookingRequest) -> bool:
    return timezone.now() >= request.expires_at


@transaction.atomic
def confirm_online_booking(
    *, token: str, ip: str | None, choice: Choice | None = None
) -> BookingRequest:
    """Confirm the request of this link: a patient and their consultation, or a request for
    the front desk (a likely existing patient), or the time lost (then the person may send
    `choice`, another free time, with the same link). A link used already or expired changes
    nothing."""
    found = find_request(token)
    # The request's row: a double click (or two tabs) confirms once, and books once.
    request = locked(BookingRequest.objects).get(pk=found.pk)
    if is_expired(request):
        return request
    if request.status == BookingStatus.LOST_TIME and choice is not None:
        request.starts_at, request.doctor_id = choice.starts_at, choice.doctor_id
        request.location_id = choice.location_id
    elif request.status != BookingStatus.PENDING:
        return request
    now = timezone.now()
    matches = possible_duplicates(
        first_name=request.legal_first_name,
        last_name=request.legal_last_name,
        date_of_birth=request.date_of_birth,
        phone=str(request.phone or ""),
        email=request.email,
    )
    # A likely existing patient is booked exactly as a new one is, under a record of their
    # own that the front desk then joins to the existing one (or not): the email, the page and
    # the time taken from the public list are the same either way, so whoever typed someone
    # else's name and birthday learns nothing of them.
    _make_patient_and_book(request, Actor(user=None, role=None, ip=ip))
    if matches and request.status == BookingStatus.CONFIRMED:
        request.status, request.matched_patient = BookingStatus.NEEDS_DESK, matches[0]
    request.confirmed_at = now
    request.save()
    return request


class Resolution:
    SAME_PERSON = "same"
    NEW_PERSON = "new"


@transaction.atomic
def resolve_online_request(*, request_id: int, resolution: str, by: Actor) -> BookingRequest:
    """The front desk settles a booked request whose person may be a patient already: the
    same person (the record the booking made is joined into the existing one, with its
    appointment, messages and the screening answers, which wait for the doctor's review as
    any answer from a patient does), or a different person (both records stay)."""
    _require_staff(by)
    seen = BookingRequest.objects.get(pk=request_id)
    # The two patient rows, in id order, as a doctor's merge locks them: two clicks (or two
    # people at the desk, or a doctor merging the same records) settle it one after the other,
    # and the request read once they are held is the one the first left.
    ids = sorted({pk for pk in (seen.patient_id, seen.matched_patient_id) if pk})
    list(locked(Patient.objects).filter(pk__in=ids).order_by("pk"))
    request = BookingRequest.objects.get(pk=request_id)
    if request.status != BookingStatus.NEEDS_DESK:
        raise BookingError(_("This request was dealt with already."))
    if (request.patient_id, request.matched_patient_id) != (
        seen.patient_id,
        seen.matched_patient_id,
    ):
        raise BookingError(_("This request changed meanwhile. Open the page again."))
    if resolution == Resolution.SAME_PERSON:
        _join_into_existing(request, by)
    request.status = BookingStatus.CONFIRMED
    request.resolved_by, request.resolved_at = by.user, timezone.now()
    request.save()
    audit.record(
        actor=by,
        patient=request.patient,
        action=AuditAction.CHANGE,
        subject="online booking request",
        details={"request": request.pk, "resolution": resolution},
    )
    return request


def _join_into_existing(request: BookingRequest, by: Actor) -> None:
    new, keep = request.patient, request.matched_patient
    if new.pk == keep.pk:  # a doctor merged the two already
        return
    if (
        Consultation.objects.filter(patient=new).exists()
        or TreatmentPlan.objects.filter(patient=new).exists()
    ):
        raise BookingError(
            _(
                "A doctor has recorded a consultation or a plan on the new record: "
                "ask a doctor to merge the two records."
            )
        )
    record_online_screening(patient=keep, answers=request.answers, by=by)
    merge_records(
        keep_id=keep.pk,
        duplicate_id=new.pk,
        reason=f"Online booking request {request.pk}: the front desk found the same person.",
        by=by,
    )
    request.patient = keep


# A request never confirmed is forgotten this long after its link expired: the details of
# someone who did not book are not kept (the week leaves the desk time to call about it).
KEEP_UNCONFIRMED = timedelta(days=7)


def forget_unconfirmed(*, now: datetime | None = None) -> int:
    """Delete the requests whose link expired more than KEEP_UNCONFIRMED ago without a
    booking (waiting for the link, or their time lost and none chosen). How many went."""
    now = now or timezone.now()
    deleted, _by_model = BookingRequest.objects.filter(
        status__in=[BookingStatus.PENDING, BookingStatus.LOST_TIME],
        expires_at__lt=now - KEEP_UNCONFIRMED,
    ).delete()
    return deleted


def needing_the_desk() -> int:
    """How many requests wait for the front desk: a possible patient already, or a link
    email that could not be delivered while the request lasts (the desk calls them)."""
    waiting = BookingRequest.objects.filter(status=BookingStatus.NEEDS_DESK).count()
    pending = BookingRequest.objects.filter(
        status=BookingStatus.PENDING, expires_at__gt=timezone.now()
    ).values("pk")
    undelivered = Message.objects.filter(
        topic=online_booking_link.TOPIC,
        kind=online_booking_link.KIND,
        topic_id__in=pending,
        status=MessageStatus.FAILED,
    ).count()
    return waiting + undelivered


def open_requests():
    """The front desk's list: requests waiting for their link or for the desk, newest first."""
    return BookingRequest.objects.filter(
        status__in=[BookingStatus.PENDING, BookingStatus.NEEDS_DESK]
    ).select_related("doctor", "matched_patient")


def _book_consultation(request: BookingRequest, patient, by: Actor):
    return _book(
        patient=patient,
        doctor=get_user_model().objects.get(pk=request.doctor_id),
        kind=Kind.CONSULTATION,
        starts_at=request.starts_at,
        location=request.location,
        by=by,
    )


def _make_patient_and_book(request: BookingRequest, by: Actor) -> None:
    sched = scheduling_settings()
    late = rules.with_notice(request.starts_at, timezone.now(), sched.patient_notice_hours)
    try:
        # A savepoint: a time taken meanwhile leaves no patient record behind.
        with transaction.atomic():
            if late is not None:
                raise BookingError(str(late))
            patient = register_patient(data=_patient_data(request), by=by)
            record_online_screening(patient=patient, answers=request.answers, by=by)
            appointment = _book_consultation(request, patient, by)
    except BookingError:
        request.status = BookingStatus.LOST_TIME
        return
    request.status = BookingStatus.CONFIRMED
    request.patient, request.appointment = patient, appointment


def _patient_data(request: BookingRequest) -> dict:
    channel = "sms" if request.consent_sms and not request.consent_email else "email"
    return {
        "legal_first_name": request.legal_first_name,
        "legal_last_name": request.legal_last_name,
        "date_of_birth": request.date_of_birth,
        "phone": request.phone,
        "email": request.email,
        "consent_email": request.consent_email,
        "consent_sms": request.consent_sms,
        "reminder_channel": channel,
        # The language of the page the person confirmed from (or the desk's, resolving it).
        "language": translation.get_supported_language_variant(translation.get_language()),
    }
