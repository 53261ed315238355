"""Every transaction and row lock in scheduling is there for a reason: each test here commits
(two connections, two threads) and fails when the guard it names is removed.

The race is forced, not hoped for: `contend` runs a holder inside an open transaction in one
thread, then a contender in another, and lets the holder commit only once the contender waits
on a row lock in PostgreSQL (pg_stat_activity) or has finished without waiting."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from goodskin.actors import Actor
from goodskin.roles import Role
from messaging.models import Message, MessageStatus
from scheduling import reminders, services
from scheduling.models import Appointment, Kind, Status, TimeOff
from tests.concurrency import contend
from tests.factories import PatientFactory, UserFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor, work_weekdays
from tests.treatments.conftest import chart_session, make_plan

committing = pytest.mark.django_db(transaction=True)

WEDNESDAY = MONDAY + timedelta(days=2)


def book(desk, patient, doctor, starts_at, **extra) -> Appointment:
    return services.book_appointment(
        patient=patient,
        doctor=doctor,
        kind=extra.pop("kind", Kind.CONSULTATION),
        starts_at=starts_at,
        by=desk_actor(desk),
        **extra,
    )


# --- services.py: booking -----------------------------------------------------------------


@committing
def test_two_bookings_for_one_doctor_wait_for_each_other_so_the_buffer_holds(
    now, hours, front_desk, doctor
):
    # _lock_doctor: the exclusion constraint allows back-to-back appointments; only the doctor
    # lock makes the second booking see the first and keep the buffer between them.
    # The contender runs in autocommit: book_appointment's own transaction is needed too.
    first, second = PatientFactory(), PatientFactory()
    length = timedelta(
        minutes=services.minutes_for(
            Kind.CONSULTATION, None, settings=services.scheduling_settings()
        )
    )
    holder, contender, waited = contend(
        lambda: book(front_desk, first, doctor, at(MONDAY, 10)),
        lambda: book(front_desk, second, doctor, at(MONDAY, 10) + length),
    )
    assert isinstance(holder, Appointment), holder
    assert isinstance(contender, services.BookingError), contender
    assert waited
    assert Appointment.objects.count() == 1


@committing
def test_a_lost_room_race_is_retried_in_another_room(now, office, front_desk, doctor):
    # The savepoint in book_appointment: the insert that loses the room to another doctor's
    # booking fails; without a savepoint the retry runs in an aborted transaction.
    other = UserFactory(username="dr.room", role=Role.DOCTOR)
    work_weekdays(doctor, office)
    work_weekdays(other, office)
    holder, contender, waited = contend(
        lambda: book(front_desk, PatientFactory(), doctor, at(MONDAY, 10)),
        lambda: book(front_desk, PatientFactory(), other, at(MONDAY, 10)),
    )
    assert isinstance(holder, Appointment), holder
    assert isinstance(contender, Appointment), contender
    assert waited  # on the room constraint: it had chosen the room the holder took
    assert holder.room_id != contender.room_id


@pytest.fixture
def series_plan(db, doctor):
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return make_plan(patient, doctor, sessions=2)


@committing
def test_a_series_that_loses_a_room_race_is_booked_in_another_room(
    now, office, front_desk, doctor, series_plan
):
    # The savepoint around bulk_create in _book_all, and book_series' own transaction (the
    # contender runs in autocommit).
    other = UserFactory(username="dr.room", role=Role.DOCTOR)
    work_weekdays(doctor, office)
    work_weekdays(other, office)
    holder, contender, waited = contend(
        lambda: book(front_desk, PatientFactory(), other, at(MONDAY, 10)),
        lambda: services.book_series(
            plan=series_plan, starts={1: at(MONDAY, 10)}, by=desk_actor(front_desk)
        ),
    )
    assert isinstance(holder, Appointment), holder
    assert isinstance(contender, list), contender
    assert waited
    assert contender[0].room_id != holder.room_id


@committing
def test_a_series_is_not_booked_on_a_plan_being_stopped(
    now, office, front_desk, doctor, series_plan
):
    # The plan lock in book_series: stopping the plan and booking its sessions at once must
    # not leave sessions booked on a stopped plan.
    from treatments.models import PlanStatus
    from treatments.services import set_plan_status

    work_weekdays(doctor, office)
    holder, contender, waited = contend(
        lambda: set_plan_status(
            plan=series_plan,
            status=PlanStatus.STOPPED,
            reason="Patient moved away",
            by=Actor(user=doctor, role=Role.DOCTOR),
        ),
        lambda: services.book_series(
            plan=series_plan, starts={1: at(MONDAY, 10)}, by=desk_actor(front_desk)
        ),
    )
    assert holder is None, holder
    assert isinstance(contender, services.BookingError), contender
    assert waited
    assert not Appointment.objects.exists()


# --- services.py: changing an appointment ---------------------------------------------------


@committing
def test_moving_an_appointment_while_it_is_cancelled_waits_and_is_refused(
    now, hours, front_desk, doctor
):
    # _locked (the appointment's row lock) and move_appointment's transaction: the second
    # person reads the appointment after the first one's change, not before.
    appointment = book(front_desk, PatientFactory(), doctor, at(WEDNESDAY, 10))
    holder, contender, waited = contend(
        lambda: services.cancel_appointment(
            appointment=appointment,
            by=desk_actor(front_desk),
            cancelled_by="clinic",
            reason="Doctor ill",
            version=appointment.version,
        ),
        lambda: services.move_appointment(
            appointment=appointment,
            starts_at=at(WEDNESDAY, 14),
            by=desk_actor(front_desk),
            version=appointment.version,
        ),
    )
    assert isinstance(holder, Appointment), holder
    assert isinstance(contender, services.BookingError), contender
    assert waited
    appointment.refresh_from_db()
    assert (appointment.status, appointment.starts_at) == (Status.CANCELLED, at(WEDNESDAY, 10))


@committing
def test_desk_changes_commit_in_a_transaction_of_their_own(now, hours, front_desk, doctor):
    # cancel_appointment, set_status and add_time_off called from a view (autocommit): each
    # locks rows, which only holds inside its own transaction.
    desk = desk_actor(front_desk)
    today = book(front_desk, PatientFactory(), doctor, at(MONDAY, 10))
    later = book(front_desk, PatientFactory(), doctor, at(WEDNESDAY, 10))
    services.set_status(appointment=today, status=Status.CHECKED_IN, by=desk)
    services.cancel_appointment(
        appointment=later, by=desk, cancelled_by="patient", reason="Flu", version=later.version
    )
    block, clashes = services.add_time_off(
        doctor=doctor,
        starts_at=at(MONDAY, 9),
        ends_at=at(MONDAY, 12),
        reason="Training",
        by=desk,
    )
    assert clashes == 0  # the one in it is checked in
    assert Appointment.objects.get(pk=today.pk).status == Status.CHECKED_IN
    assert Appointment.objects.get(pk=later.pk).status == Status.CANCELLED
    assert TimeOff.objects.filter(pk=block.pk).exists()


@committing
def test_a_patient_cancels_and_moves_online_in_a_transaction_of_their_own(
    now, hours, front_desk, doctor
):
    user = UserFactory(username="portal.pat", role=Role.PATIENT)
    patient = PatientFactory(portal_user=user)
    me = Actor(user=user, role=Role.PATIENT)
    first = book(front_desk, patient, doctor, at(WEDNESDAY, 10))
    second = book(front_desk, patient, doctor, at(WEDNESDAY, 14))
    services.patient_move(appointment=first, starts_at=at(WEDNESDAY, 11), by=me)
    services.patient_cancel(appointment=second, by=me)
    assert Appointment.objects.get(pk=first.pk).starts_at == at(WEDNESDAY, 11)
    assert Appointment.objects.get(pk=second.pk).status == Status.CANCELLED


# --- reminders.py ---------------------------------------------------------------------------


@pytest.fixture
def completed_plan(now, hours, doctor):
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(patient, doctor, sessions=2)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=60))
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=20))
    plan.refresh_from_db()
    return plan


@committing
def test_the_sweep_writes_each_plan_s_invitation_in_a_transaction_of_its_own(completed_plan):
    # sweep_completed_plans' per-plan transaction: _write locks the reminder's key.
    assert reminders.sweep_completed_plans() == 1
    assert reminders.about_plan(completed_plan).filter(kind=reminders.TOUCH_UP).count() == 1


@committing
def test_a_reminder_being_sent_is_not_put_back_in_the_queue_by_a_re_timing(completed_plan):
    # _write's row lock: re-timing a reminder reads and rewrites it under the lock, so one that
    # a worker claims meanwhile stays claimed (otherwise it would go out twice).
    assert reminders.sweep_completed_plans() == 1
    invitation = reminders.about_plan(completed_plan).get(kind=reminders.TOUCH_UP)
    lease = timezone.now() + timedelta(minutes=5)

    def claim_it():  # the statements of outbox.claim, in a transaction held open
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk=invitation.pk)
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=ids).update(status=MessageStatus.SENDING, lease_until=lease)
        return ids

    def re_time():
        with transaction.atomic():
            reminders.plan_changed(completed_plan)

    holder, contender, waited = contend(claim_it, re_time)
    assert holder == [invitation.pk]
    assert contender is None, contender
    assert waited
    invitation.refresh_from_db()
    assert (invitation.status, invitation.lease_until) == (MessageStatus.SENDING, lease)


@committing
def test_a_new_calendar_link_that_fails_leaves_the_old_one_working(monkeypatch):
    # new_calendar_feed's transaction: the old link is revoked only with the new one made.
    from django.db import DatabaseError

    from scheduling.feed_services import new_calendar_feed
    from scheduling.models import CalendarFeed

    patient = PatientFactory()
    old = new_calendar_feed(patient=patient)

    def fail(**kwargs):
        raise DatabaseError("insert failed")

    monkeypatch.setattr(CalendarFeed.objects, "create", fail)
    with pytest.raises(DatabaseError, match="insert failed"):
        new_calendar_feed(patient=patient)
    old.refresh_from_db()
    assert old.revoked_at is None


@committing
def test_time_off_posted_twice_at_once_blocks_the_time_once(now, hours, front_desk, doctor):
    # add_time_off's lock on the doctor, then the form token: the second post waits for the
    # first and finds its block (the unique token backs this up).
    token = uuid.uuid4()

    def block():
        return services.add_time_off(
            doctor=doctor,
            starts_at=at(MONDAY + timedelta(days=1), 9),
            ends_at=at(MONDAY + timedelta(days=1), 10),
            reason="",
            by=desk_actor(front_desk),
            form_token=token,
        )

    holder, contender, waited = contend(block, block)
    assert isinstance(holder, tuple)
    assert isinstance(contender, services.TimeOffAlreadySaved)
    assert waited
    assert TimeOff.objects.count() == 1
