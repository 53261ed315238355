"""The waitlist's transactions and row locks, each proven by a race that commits (two
connections, two threads) and fails without the guard it names (tests/concurrency.py)."""

from datetime import timedelta

import pytest

from patients import audit
from scheduling import services
from scheduling.models import Appointment, Kind, OfferStatus, WaitlistEntry, WaitlistOffer
from scheduling.services import waitlist
from tests.concurrency import contend
from tests.factories import PatientFactory
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.scheduling.test_waitlist import wait

pytestmark = pytest.mark.usefixtures("waking_all_day")

committing = pytest.mark.django_db(transaction=True)

WEDNESDAY = MONDAY + timedelta(days=2)


def free_wednesday_at_ten(front_desk, doctor) -> None:
    taken = services.book_appointment(
        patient=PatientFactory(),
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(WEDNESDAY, 10),
        by=desk_actor(front_desk),
    )
    services.cancel_appointment(
        appointment=taken, by=desk_actor(front_desk), cancelled_by="clinic", reason="ill"
    )


@committing
def test_two_task_runs_at_once_offer_an_opening_once(now, hours, front_desk, doctor):
    # _offer_opening's lock on the opening, skipping a locked one: without it the second run
    # counts no live offer (the first's is not committed), picks the same patient and fails on
    # the unique offer, or with another patient waiting offers the time twice at once.
    wait(front_desk)
    free_wednesday_at_ten(front_desk, doctor)
    holder, contender, waited = contend(
        waitlist.offer_openings, waitlist.offer_openings, pause=(waitlist, "_offer")
    )
    assert (holder, contender) == (1, 0), (holder, contender)
    assert WaitlistOffer.objects.count() == 1


@committing
def test_a_task_run_during_an_acceptance_offers_nothing_of_the_time_being_booked(
    now, hours, front_desk, doctor, settings
):
    # accept_offer's lock on the opening: without it a task run sees the time still free (the
    # booking is not committed) and offers it to the next patient, who would find it gone.
    first = wait(front_desk)
    second = wait(front_desk)
    free_wednesday_at_ten(front_desk, doctor)
    waitlist.offer_openings()
    [offer] = WaitlistOffer.objects.filter(entry=first)
    settings.WAITLIST_OFFERS_AT_ONCE = 2  # room for a second offer, were the time still free
    holder, contender, waited = contend(
        lambda: waitlist.accept_offer(token=waitlist.token_for(offer.nonce), ip=None),
        waitlist.offer_openings,
        pause=(waitlist, "_book_offer"),  # booked, the opening not yet marked
    )
    assert holder.appointment is not None and contender == 0, (holder, contender)
    assert not WaitlistOffer.objects.filter(entry=second).exists()


@committing
def test_two_acceptances_of_one_time_book_it_once(now, hours, front_desk, doctor, settings):
    # The opening's lock and the booking rules: the second acceptance waits, then finds the
    # time filled and is told it went.
    settings.WAITLIST_OFFERS_AT_ONCE = 2
    first, second = wait(front_desk), wait(front_desk)
    free_wednesday_at_ten(front_desk, doctor)
    waitlist.offer_openings()
    offers = {o.entry_id: o for o in WaitlistOffer.objects.all()}
    holder, contender, waited = contend(
        lambda: waitlist.accept_offer(token=waitlist.token_for(offers[first.pk].nonce), ip=None),
        lambda: waitlist.accept_offer(token=waitlist.token_for(offers[second.pk].nonce), ip=None),
        pause=(waitlist, "_book_offer"),
    )
    assert waited
    assert holder.appointment is not None and contender.appointment is None
    assert Appointment.objects.filter(starts_at=at(WEDNESDAY, 10), status="booked").count() == 1
    assert WaitlistOffer.objects.get(entry=second).status == OfferStatus.WENT


@committing
def test_a_double_click_on_add_to_waitlist_saves_one_wish(now, hours, front_desk):
    # The unique wish per patient and kind (and its savepoint): the second insert waits for the
    # first and is refused with a message, not saved twice.
    record = PatientFactory()
    holder, contender, waited = contend(
        lambda: wait(front_desk, record),
        lambda: wait(front_desk, record),
        pause=(audit, "record"),
    )
    assert waited
    assert isinstance(holder, WaitlistEntry)
    assert isinstance(contender, waitlist.AlreadyWaiting), contender
    assert WaitlistEntry.objects.filter(patient=record).count() == 1


@committing
def test_the_waitlist_and_the_portal_never_book_one_session_twice(
    now, hours, front_desk, doctor, patient
):
    # _book_offer's lock on the plan: the patient books session 2 in the portal while their
    # waitlist offer for "the next session" is accepted; without the lock both count session
    # 2 as the next one and book it twice (no constraint stops two "session 2").
    from scheduling.services import patient_booking
    from tests.factories import screen
    from tests.treatments.conftest import make_plan

    record = PatientFactory(portal_user=patient)
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(record, doctor, sessions=4)
    services.book_appointment(
        patient=record,
        doctor=doctor,
        kind=Kind.SESSION,
        plan=plan,
        session_number=1,
        starts_at=at(MONDAY, 9),
        by=desk_actor(front_desk),
    )
    wish = waitlist.Wish(kind=Kind.SESSION, not_before=MONDAY)
    waitlist.add_to_waitlist(patient=record, wish=wish, by=desk_actor(front_desk))
    free_day = MONDAY + timedelta(weeks=5)
    taken = services.book_appointment(
        patient=PatientFactory(),
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(free_day, 10),
        by=desk_actor(front_desk),
    )
    services.cancel_appointment(
        appointment=taken, by=desk_actor(front_desk), cancelled_by="clinic", reason="ill"
    )
    waitlist.offer_openings()
    [offer] = WaitlistOffer.objects.all()
    from goodskin.actors import Actor
    from goodskin.roles import Role

    holder, contender, waited = contend(
        lambda: services.patient_book_session(
            plan_id=plan.pk,
            number=2,
            starts_at=at(free_day + timedelta(days=1), 10),
            by=Actor(user=patient, role=Role.PATIENT, ip=None),
        ),
        lambda: waitlist.accept_offer(token=waitlist.token_for(offer.nonce), ip=None),
        pause=(patient_booking, "_book"),
    )
    assert isinstance(holder, Appointment), holder
    numbers = list(
        Appointment.objects.filter(plan=plan, status="booked").values_list(
            "session_number", flat=True
        )
    )
    assert len(numbers) == len(set(numbers)), numbers
