"""Issue 17, point 3: a waitlist that fills freed times. A cancellation, a move or time off
lifted writes an opening with the change; the waitlist task offers it to the waiting patients
it fits (their wishes, the plan's rules), in the order they joined, a setting's number at a
time; the first to accept through the link gets it and the others are told it went."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from goodskin.actors import Actor
from goodskin.roles import Role
from messaging import sending
from messaging.models import Message, MessageStatus
from scheduling import services
from scheduling.models import (
    Appointment,
    DayPart,
    Kind,
    OfferStatus,
    Opening,
    OpeningReason,
    OpeningStatus,
    Status,
    TimeOff,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from scheduling.services import waitlist
from scheduling.services.common import BookingError
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, TZ, at, desk_actor
from tests.treatments.conftest import make_plan

pytestmark = pytest.mark.usefixtures("waking_all_day")

WEDNESDAY = MONDAY + timedelta(days=2)
ALL_DAYS = 0b1111111


def book(front_desk, doctor, starts_at, patient=None, kind=Kind.CONSULTATION, **extra):
    return services.book_appointment(
        patient=patient or PatientFactory(),
        doctor=doctor,
        kind=kind,
        starts_at=starts_at,
        by=desk_actor(front_desk),
        **extra,
    )


def wait(front_desk, patient=None, **wish):
    values = {"kind": Kind.CONSULTATION, "not_before": MONDAY, **wish}
    return waitlist.add_to_waitlist(
        patient=patient or PatientFactory(), wish=waitlist.Wish(**values), by=desk_actor(front_desk)
    )


def cancel(appointment, user):
    services.cancel_appointment(
        appointment=Appointment.objects.get(pk=appointment.pk),
        by=desk_actor(user),
        cancelled_by="clinic",
        reason="The patient is ill",
    )


def token(offer) -> str:
    return waitlist.token_for(offer.nonce)


def offers_of(entry):
    return list(WaitlistOffer.objects.filter(entry=entry).order_by("pk"))


def test_a_cancelled_time_is_offered_to_the_first_waiting_patient_and_the_link_books_it(
    now, hours, front_desk, doctor
):
    taken = book(front_desk, doctor, at(WEDNESDAY, 10))
    first, second = wait(front_desk), wait(front_desk)
    cancel(taken, front_desk)
    assert Opening.objects.get().reason == OpeningReason.CANCELLED

    assert waitlist.offer_openings() == 1
    [offer] = offers_of(first)
    assert offers_of(second) == []  # one at a time, in the order they joined
    assert offer.starts_at == at(WEDNESDAY, 10)
    message = Message.objects.get(kind=waitlist.OFFER_KIND)
    assert message.patient == first.patient and message.topic_id == offer.pk

    answer = waitlist.accept_offer(token=token(offer), ip="203.0.113.9")
    assert answer.appointment is not None and not answer.gone
    booked = Appointment.objects.get(pk=answer.appointment.pk)
    assert (booked.patient, booked.starts_at, booked.status) == (
        first.patient,
        at(WEDNESDAY, 10),
        Status.BOOKED,
    )
    first.refresh_from_db()
    assert first.status == WaitlistStatus.BOOKED and first.appointment == booked
    assert Opening.objects.get().status == OpeningStatus.FILLED
    # A second click answers as the first did and books nothing more.
    again = waitlist.accept_offer(token=token(offer), ip="203.0.113.9")
    assert again.appointment == booked
    assert Appointment.objects.filter(status=Status.BOOKED).count() == 1
    assert waitlist.offer_openings() == 0  # filled: nobody else is asked


def test_the_next_patient_is_asked_when_an_offer_lapses_or_is_declined(
    now, hours, front_desk, doctor
):
    taken = book(front_desk, doctor, at(WEDNESDAY, 10))
    first, second, third = wait(front_desk), wait(front_desk), wait(front_desk)
    cancel(taken, front_desk)
    waitlist.offer_openings()
    [lapsing] = offers_of(first)
    assert waitlist.offer_openings() == 0  # still waiting for the first answer

    now.move_to(timezone.now() + timedelta(hours=2, minutes=1))
    assert waitlist.offer_openings() == 1
    lapsing.refresh_from_db()
    assert lapsing.status == OfferStatus.EXPIRED
    [declined] = offers_of(second)
    late = waitlist.accept_offer(token=token(lapsing), ip=None)
    assert late.appointment is None and "passed" in late.gone

    waitlist.decline_offer(token=token(declined))
    assert waitlist.offer_openings() == 1
    assert len(offers_of(third)) == 1
    # The one who declined stays on the list.
    assert WaitlistEntry.objects.get(pk=second.pk).status == WaitlistStatus.WAITING


def test_with_two_offers_at_once_the_first_to_accept_gets_it_and_the_other_is_told(
    now, hours, front_desk, doctor, settings
):
    settings.WAITLIST_OFFERS_AT_ONCE = 2
    taken = book(front_desk, doctor, at(WEDNESDAY, 10))
    first, second = wait(front_desk), wait(front_desk)
    cancel(taken, front_desk)
    assert waitlist.offer_openings() == 2
    sending.send_batch(50)  # both offers go out
    [to_first], [to_second] = offers_of(first), offers_of(second)

    won = waitlist.accept_offer(token=token(to_second), ip=None)
    assert won.appointment.patient == second.patient
    to_first.refresh_from_db()
    assert to_first.status == OfferStatus.WENT
    gone = Message.objects.get(kind=waitlist.GONE_KIND)
    assert gone.patient == first.patient and gone.topic_id == to_first.pk
    lost = waitlist.accept_offer(token=token(to_first), ip=None)
    assert lost.appointment is None and "someone else" in lost.gone
    assert WaitlistEntry.objects.get(pk=first.pk).status == WaitlistStatus.WAITING
    assert Appointment.objects.filter(starts_at=at(WEDNESDAY, 10), status="booked").count() == 1


@pytest.mark.parametrize(
    "wish",
    [
        {"weekdays": 0b0000001},  # Mondays only; the time is on a Wednesday
        {"day_part": DayPart.AFTERNOON},  # the time is at 10
        {"not_before": WEDNESDAY + timedelta(days=1)},
        {"not_after": MONDAY + timedelta(days=1)},
        {"kind": Kind.REVIEW, "doctor": "other"},
    ],
    ids=["weekday", "afternoon", "not-before", "not-after", "other-doctor"],
)
def test_a_time_outside_the_wish_is_not_offered(now, hours, front_desk, doctor, other_doctor, wish):
    if wish.get("doctor") == "other":
        wish["doctor"] = other_doctor
    taken = book(front_desk, doctor, at(WEDNESDAY, 10))
    entry = wait(front_desk, **wish)
    cancel(taken, front_desk)
    assert waitlist.offer_openings() == 0
    assert offers_of(entry) == []


def test_a_wish_that_fits_part_of_a_long_freed_time_gets_the_part(now, hours, front_desk, doctor):
    """A 45-minute session cancelled: a 30-minute consultation in the afternoon fits it."""
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(patient, doctor)
    taken = book(
        front_desk, doctor, at(WEDNESDAY, 13), patient, Kind.SESSION, plan=plan, session_number=1
    )
    entry = wait(front_desk, day_part=DayPart.AFTERNOON)
    cancel(taken, front_desk)
    waitlist.offer_openings()
    [offer] = offers_of(entry)
    assert offer.starts_at == at(WEDNESDAY, 13)
    assert offer.ends_at - offer.starts_at == timedelta(minutes=30)


def test_a_session_is_offered_only_where_the_plans_interval_allows(now, hours, front_desk, doctor):
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(patient, doctor)  # four weeks between sessions
    book(front_desk, doctor, at(MONDAY, 9), patient, Kind.SESSION, plan=plan, session_number=1)
    entry = wait(front_desk, patient, kind=Kind.SESSION)
    assert entry.plan == plan and entry.doctor == doctor

    too_soon = book(front_desk, doctor, at(MONDAY + timedelta(weeks=3), 10))
    cancel(too_soon, front_desk)
    assert waitlist.offer_openings() == 0

    in_time = book(front_desk, doctor, at(MONDAY + timedelta(weeks=4, days=1), 10))
    cancel(in_time, front_desk)
    assert waitlist.offer_openings() == 1
    [offer] = offers_of(entry)
    answer = waitlist.accept_offer(token=token(offer), ip=None)
    assert (answer.appointment.plan, answer.appointment.session_number) == (plan, 2)


def test_a_session_the_screening_now_blocks_is_not_offered(now, hours, front_desk, doctor):
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(patient, doctor)
    entry = wait(front_desk, patient, kind=Kind.SESSION)
    assert entry.plan == plan
    screen(patient, sclerosant_allergy="yes")
    cancel(book(front_desk, doctor, at(WEDNESDAY, 10)), front_desk)
    assert waitlist.offer_openings() == 0


def test_a_patients_own_cancellation_is_offered_only_after_its_undo_window(
    now, hours, front_desk, doctor, patient, settings
):
    taken = book(front_desk, doctor, at(WEDNESDAY, 10), PatientFactory(portal_user=patient))
    entry = wait(front_desk)
    services.cancel_appointment(
        appointment=taken,
        by=Actor(user=patient, role=Role.PATIENT, ip=None),
        cancelled_by="patient",
        reason="Away",
    )
    assert waitlist.offer_openings() == 0
    now.move_to(timezone.now() + timedelta(minutes=settings.CANCEL_UNDO_MINUTES + 1))
    assert waitlist.offer_openings() == 1
    assert len(offers_of(entry)) == 1


def test_an_undone_cancellation_closes_its_opening(now, hours, front_desk, doctor, patient):
    record = PatientFactory(portal_user=patient)
    taken = book(front_desk, doctor, at(WEDNESDAY, 10), record)
    by = Actor(user=patient, role=Role.PATIENT, ip=None)
    services.patient_cancel(appointment=taken, by=by)
    services.patient_undo_cancel(appointment=taken, by=by, version=None)
    assert Opening.objects.get().status == OpeningStatus.CLOSED


def test_a_moved_appointment_frees_its_old_time(now, hours, front_desk, doctor):
    taken = book(front_desk, doctor, at(WEDNESDAY, 10))
    entry = wait(front_desk)
    services.move_appointment(
        appointment=taken, starts_at=at(WEDNESDAY, 15), by=desk_actor(front_desk)
    )
    assert Opening.objects.get().reason == OpeningReason.MOVED
    waitlist.offer_openings()
    assert [o.starts_at for o in offers_of(entry)] == [at(WEDNESDAY, 10)]


def test_lifted_time_off_is_offered(now, hours, front_desk, doctor):
    block = TimeOff.objects.create(
        doctor=doctor, starts_at=at(WEDNESDAY, 8), ends_at=at(WEDNESDAY, 17)
    )
    entry = wait(front_desk, day_part=DayPart.AFTERNOON)
    waitlist.lift_time_off(block_id=block.pk, by=desk_actor(front_desk))
    assert not TimeOff.objects.exists()
    waitlist.offer_openings()
    assert [o.starts_at for o in offers_of(entry)] == [at(WEDNESDAY, 12)]


def test_a_time_booked_meanwhile_by_the_desk_is_told_gone_and_not_booked_twice(
    now, hours, front_desk, doctor
):
    taken = book(front_desk, doctor, at(WEDNESDAY, 10))
    entry = wait(front_desk)
    cancel(taken, front_desk)
    waitlist.offer_openings()
    [offer] = offers_of(entry)
    book(front_desk, doctor, at(WEDNESDAY, 10))
    answer = waitlist.accept_offer(token=token(offer), ip=None)
    assert answer.appointment is None and answer.gone
    assert Appointment.objects.filter(status="booked", starts_at=at(WEDNESDAY, 10)).count() == 1
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


def test_taking_a_wish_off_the_list_withdraws_its_offer(now, hours, front_desk, doctor):
    taken = book(front_desk, doctor, at(WEDNESDAY, 10))
    entry = wait(front_desk)
    cancel(taken, front_desk)
    waitlist.offer_openings()
    waitlist.remove_from_waitlist(entry_id=entry.pk, by=desk_actor(front_desk))
    [offer] = offers_of(entry)
    assert offer.status == OfferStatus.WITHDRAWN
    assert Message.objects.get(kind=waitlist.OFFER_KIND).status == MessageStatus.CANCELLED
    assert waitlist.accept_offer(token=token(offer), ip=None).appointment is None


def test_a_made_up_link_finds_no_offer(db):
    with pytest.raises(waitlist.OfferNotValid):
        waitlist.accept_offer(token="not-a-token", ip=None)
    with pytest.raises(waitlist.OfferNotValid):
        waitlist.decline_offer(token="")


@pytest.mark.parametrize(
    "wish, message",
    [
        ({"weekdays": 0}, "at least one day"),
        ({"not_before": MONDAY - timedelta(days=1)}, "past"),
        ({"not_after": MONDAY - timedelta(days=1), "not_before": MONDAY}, "on or after"),
        ({"kind": Kind.SESSION}, "active treatment plan"),
        ({"kind": "nonsense"}, "kind of visit"),
        ({"day_part": "night"}, "time of day"),
    ],
)
def test_a_wish_that_cannot_be_kept_is_refused_with_a_message(
    now, hours, front_desk, wish, message
):
    with pytest.raises(BookingError, match=message):
        wait(front_desk, **wish)
    assert not WaitlistEntry.objects.exists()


def test_the_same_wish_twice_is_refused(now, hours, front_desk):
    entry = wait(front_desk)
    with pytest.raises(waitlist.AlreadyWaiting):
        wait(front_desk, entry.patient)
    assert WaitlistEntry.objects.count() == 1


def test_a_patient_manages_only_their_own_wishes(now, hours, front_desk, patient):
    own = PatientFactory(portal_user=patient)
    by = Actor(user=patient, role=Role.PATIENT, ip=None)
    wish = waitlist.Wish(kind=Kind.CONSULTATION, not_before=MONDAY)
    entry = waitlist.add_to_waitlist(patient=own, wish=wish, by=by)
    with pytest.raises(BookingError):
        waitlist.add_to_waitlist(patient=PatientFactory(), wish=wish, by=by)
    other = wait(front_desk)
    with pytest.raises(BookingError):
        waitlist.remove_from_waitlist(entry_id=other.pk, by=by, patient=own)
    waitlist.remove_from_waitlist(entry_id=entry.pk, by=by, patient=own)
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.REMOVED
    assert WaitlistEntry.objects.get(pk=other.pk).status == WaitlistStatus.WAITING


def test_a_time_too_near_is_not_offered_and_its_opening_closes(now, hours, front_desk, doctor):
    taken = book(front_desk, doctor, at(MONDAY, 9))
    wait(front_desk)
    cancel(taken, front_desk)
    assert waitlist.offer_openings() == 0  # two hours from now: under the notice
    assert Opening.objects.get().status == OpeningStatus.CLOSED


def test_the_offer_is_written_in_the_patients_language_with_the_office(
    now, hours, front_desk, doctor
):
    taken = book(front_desk, doctor, at(WEDNESDAY, 10))
    entry = wait(front_desk, PatientFactory(language="es", email="ana@example.org"))
    cancel(taken, front_desk)
    waitlist.offer_openings()
    with time_machine.travel(timezone.now(), tick=False):
        sending.send_batch(50)
    [sent] = [m for m in mail.outbox if m.to == ["ana@example.org"]]
    assert "2 de diciembre" in sent.body and hours.name in sent.body
    assert "/portal/waitlist/offer/" in sent.body
    assert entry.patient.language == "es"
    assert date(2026, 12, 2) == at(WEDNESDAY, 10).astimezone(TZ).date()


def test_a_long_freed_time_fills_more_than_one_wish(now, hours, front_desk, doctor, settings):
    settings.WAITLIST_OFFERS_AT_ONCE = 2
    block = TimeOff.objects.create(
        doctor=doctor, starts_at=at(WEDNESDAY, 8), ends_at=at(WEDNESDAY, 17)
    )
    morning = wait(front_desk, day_part=DayPart.MORNING)
    afternoon = wait(front_desk, day_part=DayPart.AFTERNOON)
    waitlist.lift_time_off(block_id=block.pk, by=desk_actor(front_desk))
    assert waitlist.offer_openings() == 2
    [early], [late] = offers_of(morning), offers_of(afternoon)
    assert (early.starts_at, late.starts_at) == (at(WEDNESDAY, 8), at(WEDNESDAY, 12))
    assert waitlist.accept_offer(token=token(early), ip=None).appointment is not None
    # The afternoon's offer does not overlap the morning's booking: it is still open.
    late.refresh_from_db()
    assert late.status == OfferStatus.SENT
    assert waitlist.accept_offer(token=token(late), ip=None).appointment is not None
    assert Opening.objects.get().status == OpeningStatus.FILLED
    assert not Message.objects.filter(kind=waitlist.GONE_KIND).exists()


def test_a_wish_for_one_office_is_offered_only_its_times(now, hours, front_desk, doctor):
    from scheduling.models import Location, Room

    other = Location.objects.create(name="Salem office", time_zone=TZ.key)
    Room.objects.create(location=other, name="Room A")
    at_salem = wait(front_desk, location=other)
    cancel(book(front_desk, doctor, at(WEDNESDAY, 10)), front_desk)  # at the Portland office
    assert waitlist.offer_openings() == 0
    assert offers_of(at_salem) == []


def test_an_office_that_offers_no_such_visit_is_neither_wished_for_nor_offered(
    now, hours, front_desk, doctor
):
    with pytest.raises(BookingError, match="offers no"):
        hours.kinds = [Kind.SESSION]
        hours.save()
        wait(front_desk, location=hours)
    hours.kinds = [Kind.CONSULTATION, Kind.SESSION]
    hours.save()
    entry = wait(front_desk, kind=Kind.REVIEW)
    cancel(book(front_desk, doctor, at(WEDNESDAY, 10)), front_desk)
    assert waitlist.offer_openings() == 0
    assert offers_of(entry) == []


def test_an_offer_that_never_went_out_is_withdrawn_and_its_patient_not_told(
    now, hours, front_desk, doctor, settings
):
    settings.WAITLIST_OFFERS_AT_ONCE = 2
    first, second = wait(front_desk), wait(front_desk)
    cancel(book(front_desk, doctor, at(WEDNESDAY, 10)), front_desk)
    waitlist.offer_openings()  # not sent yet
    [to_first], [to_second] = offers_of(first), offers_of(second)
    waitlist.accept_offer(token=token(to_second), ip=None)
    offer_message = Message.objects.get(key=f"waitlist-offer:{to_first.pk}")
    assert offer_message.status == MessageStatus.CANCELLED
    assert not Message.objects.filter(kind=waitlist.GONE_KIND).exists()


def test_offers_go_out_in_waking_hours_only(now, hours, front_desk, doctor, settings):
    settings.WAITLIST_OFFER_FROM_HOUR, settings.WAITLIST_OFFER_UNTIL_HOUR = 8, 20
    entry = wait(front_desk)
    cancel(book(front_desk, doctor, at(WEDNESDAY, 10)), front_desk)
    assert waitlist.offer_openings() == 0  # 7 a.m. in Oregon
    now.move_to(at(MONDAY, 8))
    assert waitlist.offer_openings() == 1
    assert len(offers_of(entry)) == 1
    now.move_to(at(MONDAY, 20, 30))
    assert waitlist.offer_openings() == 0


def test_a_time_too_soon_to_answer_for_is_not_offered(now, hours, front_desk, doctor):
    """At 7:00 with three hours' notice, the 10:00 to 10:30 visit freed leaves no start with
    30 minutes to answer (10:15 leaves 15)."""
    entry = wait(front_desk)
    cancel(book(front_desk, doctor, at(MONDAY, 10)), front_desk)
    assert waitlist.offer_openings() == 0
    assert offers_of(entry) == []


def test_undoing_a_cancellation_keeps_the_time_an_earlier_move_freed(
    now, hours, front_desk, doctor, patient
):
    record = PatientFactory(portal_user=patient)
    taken = book(front_desk, doctor, at(WEDNESDAY, 10), record)
    services.move_appointment(
        appointment=taken, starts_at=at(WEDNESDAY, 15), by=desk_actor(front_desk)
    )
    by = Actor(user=patient, role=Role.PATIENT, ip=None)
    services.patient_cancel(appointment=Appointment.objects.get(pk=taken.pk), by=by)
    services.patient_undo_cancel(
        appointment=Appointment.objects.get(pk=taken.pk), by=by, version=None
    )
    statuses = dict(Opening.objects.values_list("reason", "status"))
    assert statuses == {
        OpeningReason.MOVED: OpeningStatus.OPEN,
        OpeningReason.CANCELLED: OpeningStatus.CLOSED,
    }


def test_one_opening_that_fails_leaves_the_others_offered(
    now, hours, front_desk, doctor, monkeypatch
):
    entry = wait(front_desk)
    cancel(book(front_desk, doctor, at(WEDNESDAY, 10)), front_desk)
    cancel(book(front_desk, doctor, at(WEDNESDAY + timedelta(days=1), 10)), front_desk)
    real, calls = waitlist._offer_opening, []

    def first_fails(pk):
        calls.append(pk)
        if len(calls) == 1:
            raise RuntimeError("a broken opening")
        return real(pk)

    monkeypatch.setattr(waitlist, "_offer_opening", first_fails)
    assert waitlist.offer_openings() == 1
    assert len(offers_of(entry)) == 1


def test_merging_two_records_that_both_wait_keeps_one_wish_and_withdraws_the_others_offer(
    now, hours, front_desk, doctor
):
    from django.db import transaction

    from patients import services as patient_services

    keep, duplicate = PatientFactory(), PatientFactory()
    wait(front_desk, duplicate)
    kept_wish = wait(front_desk, keep)
    cancel(book(front_desk, doctor, at(WEDNESDAY, 10)), front_desk)
    waitlist.offer_openings()
    [duplicates_offer] = WaitlistOffer.objects.filter(entry__patient=duplicate)
    with transaction.atomic():
        patient_services.merge_records(
            keep_id=keep.pk,
            duplicate_id=duplicate.pk,
            reason="same person",
            by=Actor(user=doctor, role=Role.DOCTOR),
        )
    waiting = WaitlistEntry.objects.filter(patient=keep, status=WaitlistStatus.WAITING)
    assert list(waiting) == [kept_wish]
    duplicates_offer.refresh_from_db()
    assert duplicates_offer.status == OfferStatus.WITHDRAWN
    assert waitlist.offer_openings() == 1  # the withdrawn offer holds no place
