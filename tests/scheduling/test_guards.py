"""Every transaction and row lock in scheduling is there for a reason: each test here commits
(two connections, two threads) and fails when the guard it names is removed.

The race is forced, not hoped for: `contend` runs a holder inside an open transaction in one
thread, then a contender in another, and lets the holder commit only once the contender waits
on a row lock in PostgreSQL (pg_stat_activity) or has finished without waiting."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from goodskin.actors import Actor
from goodskin.roles import Role
from patients.models import AuditEntry
from scheduling import outbox, reminder_services, reminders, services
from scheduling.models import Appointment, Kind, Reminder, ReminderStatus, Status, TimeOff
from tests.factories import PatientFactory, UserFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor, work_weekdays
from tests.treatments.conftest import chart_session, make_plan

DEADLINE = 30  # seconds; only reached when something is broken
WEDNESDAY = MONDAY + timedelta(days=2)
committing = pytest.mark.django_db(transaction=True)


def _waits_on_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        # A row lock (or a constraint check) waits for the other transaction to end.
        cursor.execute(
            "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s", [pid]
        )
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock" and row[1] in ("transactionid", "tuple")


def contend(holder, contender):
    """Run `holder` in a transaction of its own thread and keep that transaction open; then
    run `contender` in a second thread (its own connection, autocommit). The holder commits
    once the contender waits on a lock, or once the contender has finished without waiting.
    Returns (holder's result, contender's result, whether the contender waited)."""
    held, release, started, done = (threading.Event() for _ in range(4))
    out, pid = {}, []

    def hold():
        try:
            with transaction.atomic():
                out["holder"] = holder()
                held.set()
                if not release.wait(DEADLINE):
                    raise TimeoutError("never released")
        except Exception as error:  # noqa: BLE001 - the test inspects every outcome
            out["holder"] = error
        finally:
            held.set()
            connection.close()

    def contend_():
        try:
            if not held.wait(DEADLINE):
                raise TimeoutError("holder never held")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid.append(cursor.fetchone()[0])
            started.set()
            out["contender"] = contender()
        except Exception as error:  # noqa: BLE001 - the test inspects every outcome
            out["contender"] = error
        finally:
            started.set()
            done.set()
            connection.close()

    threads = [threading.Thread(target=hold), threading.Thread(target=contend_)]
    for thread in threads:
        thread.start()
    waited = False
    try:
        assert started.wait(DEADLINE)
        deadline = time.monotonic() + DEADLINE
        while not done.wait(0.005):
            if pid and _waits_on_lock(pid[0]):
                waited = True
                break
            assert time.monotonic() < deadline, "the contender neither waited nor finished"
    finally:
        release.set()
        for thread in threads:
            thread.join(DEADLINE)
    assert not any(thread.is_alive() for thread in threads)
    return out.get("holder"), out.get("contender"), waited


def book(desk, patient, doctor, starts_at, **extra) -> Appointment:
    return services.book_appointment(
        patient=patient,
        doctor=doctor,
        kind=extra.pop("kind", Kind.CONSULTATION),
        starts_at=starts_at,
        by=desk_actor(desk),
        **extra,
    )


def given_up(patient=None, key="t:1") -> Reminder:
    now = timezone.now()
    return Reminder.objects.create(
        key=key,
        patient=patient or PatientFactory(consent_email=True),
        kind=reminders.TOUCH_UP,
        channel="email",
        due_at=now,
        give_up_at=now + timedelta(days=30),
        status=ReminderStatus.FAILED,
        attempts=1,
        last_error="550 no such user",
    )


def due(key: str) -> Reminder:
    now = timezone.now()
    return Reminder.objects.create(
        key=key,
        patient=PatientFactory(consent_email=True),
        kind=reminders.TOUCH_UP,
        channel="email",
        due_at=now - timedelta(minutes=1),
        give_up_at=now + timedelta(days=30),
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


@committing
def test_an_unsubscribe_link_clicked_twice_at_once_withdraws_consent_once(db):
    # withdraw_consent's patient lock and transaction: one change, one audit entry.
    patient = PatientFactory(consent_email=True)
    anyone = Actor(user=None, role=None, ip="127.0.0.1")

    def unsubscribe():
        return services.withdraw_consent(patient=patient, channel="email", by=anyone)

    holder, contender, waited = contend(unsubscribe, unsubscribe)
    assert holder is None and contender is None, (holder, contender)
    assert waited
    patient.refresh_from_db()
    assert patient.consent_email is False
    assert AuditEntry.objects.filter(patient=patient, details__via="unsubscribe link").count() == 1


# --- outbox.py ------------------------------------------------------------------------------


@committing
def test_a_worker_claims_past_rows_another_worker_holds_without_waiting(db):
    # claim's skip_locked (and its own transaction: it runs here in autocommit). The holder
    # is another worker in the middle of its claim.
    taken, free = due("taken"), due("free")
    holder, contender, waited = contend(
        lambda: list(
            Reminder.objects.select_for_update().filter(pk=taken.pk).values_list("pk", flat=True)
        ),
        lambda: outbox.claim(10),
    )
    assert holder == [taken.pk]
    assert contender == [free.pk], contender
    assert not waited


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
    assert Reminder.objects.filter(plan=completed_plan, kind=reminders.TOUCH_UP).count() == 1


@committing
def test_a_reminder_being_sent_is_not_put_back_in_the_queue_by_a_re_timing(completed_plan):
    # _write's row lock: re-timing a reminder reads and rewrites it under the lock, so one that
    # a worker claims meanwhile stays claimed (otherwise it would go out twice).
    assert reminders.sweep_completed_plans() == 1
    invitation = Reminder.objects.get(plan=completed_plan, kind=reminders.TOUCH_UP)
    lease = timezone.now() + timedelta(minutes=5)

    def claim_it():  # the statements of outbox.claim, in a transaction held open
        ids = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(pk=invitation.pk)
            .values_list("pk", flat=True)
        )
        Reminder.objects.filter(pk__in=ids).update(status=ReminderStatus.SENDING, lease_until=lease)
        return ids

    def re_time():
        with transaction.atomic():
            reminders.plan_changed(completed_plan)

    holder, contender, waited = contend(claim_it, re_time)
    assert holder == [invitation.pk]
    assert contender is None, contender
    assert waited
    invitation.refresh_from_db()
    assert (invitation.status, invitation.lease_until) == (ReminderStatus.SENDING, lease)


# --- reminder_services.py -------------------------------------------------------------------


@committing
def test_send_again_pressed_by_two_people_at_once_re_queues_the_message_once(front_desk):
    # _given_up's row lock and send_again's transaction: the second press waits for the
    # first and is told it has been dealt with.
    failed = given_up()
    desk = desk_actor(front_desk)
    holder, contender, waited = contend(
        lambda: Reminder.objects.filter(pk=failed.pk).update(  # the first press, not committed
            status=ReminderStatus.PENDING, handled_at=timezone.now(), handled_by=front_desk
        ),
        lambda: reminder_services.send_again(reminder_id=failed.pk, by=desk),
    )
    assert holder == 1
    assert isinstance(contender, reminder_services.MessageError), contender
    assert waited


@committing
def test_marking_a_given_up_message_as_handled_commits_on_its_own(front_desk):
    failed = given_up()
    reminder_services.mark_handled(reminder_id=failed.pk, by=desk_actor(front_desk))
    failed.refresh_from_db()
    assert failed.handled_by_id == front_desk.pk
