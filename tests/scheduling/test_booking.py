from datetime import timedelta

import pytest

from patients.models import AuditEntry
from scheduling import services
from scheduling.models import (
    Appointment,
    AppointmentChange,
    ChangeAction,
    Kind,
    Room,
    Status,
    TimeOff,
)
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import chart_session, make_plan


@pytest.fixture
def record(db):
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return patient


def book(user, patient, doctor, starts_at, kind=Kind.CONSULTATION, **extra):
    return services.book_appointment(
        patient=patient, doctor=doctor, kind=kind, starts_at=starts_at, by=desk_actor(user), **extra
    )


def test_it_books_a_consultation_of_thirty_minutes(now, hours, front_desk, doctor, record):
    appointment = book(front_desk, record, doctor, at(MONDAY, 9))
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
    assert appointment.room is not None
    assert AppointmentChange.objects.get().action == ChangeAction.BOOKED
    assert AuditEntry.objects.filter(patient=record, subject__startswith="appointment").exists()


def test_it_allows_back_to_back_appointments_when_the_buffer_is_zero(
    now, hours, front_desk, doctor, record
):
    services.scheduling_settings().__class__.objects.update(buffer_minutes=0)
    book(front_desk, record, doctor, at(MONDAY, 9))
    second = book(front_desk, PatientFactory(), doctor, at(MONDAY, 9, 30))
    assert second.starts_at == at(MONDAY, 9, 30)


def test_it_keeps_the_buffer_between_appointments(now, hours, front_desk, doctor, record):
    book(front_desk, record, doctor, at(MONDAY, 9))
    with pytest.raises(services.Refused, match="The doctor is busy or off at that time."):
        book(front_desk, PatientFactory(), doctor, at(MONDAY, 9, 30))
    assert book(front_desk, PatientFactory(), doctor, at(MONDAY, 9, 35))


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        (at(MONDAY + timedelta(days=1), 6), "does not work at that time"),
        (at(MONDAY, 16, 45), "does not work at that time"),
        (at(MONDAY + timedelta(days=5), 10), "does not work at that time"),
        (at(MONDAY - timedelta(days=1), 10), "in the past"),
    ],
)
def test_it_refuses_a_time_the_doctor_cannot_take(
    now, hours, front_desk, doctor, record, starts_at, message
):
    with pytest.raises(services.BookingError, match=message):
        book(front_desk, record, doctor, starts_at)
    assert not Appointment.objects.exists()


def test_it_respects_time_off(now, hours, front_desk, doctor, record):
    TimeOff.objects.create(doctor=doctor, starts_at=at(MONDAY, 13), ends_at=at(MONDAY, 17))
    with pytest.raises(services.Refused, match="The doctor is busy or off at that time."):
        book(front_desk, record, doctor, at(MONDAY, 14))


def test_it_needs_a_free_room(now, hours, front_desk, doctor, other_doctor, record):
    from tests.scheduling.conftest import work_weekdays

    work_weekdays(other_doctor, hours)
    Room.objects.filter(name="Room 2").update(active=False)
    book(front_desk, record, doctor, at(MONDAY, 9))
    with pytest.raises(services.BookingError, match="No room is free"):
        book(front_desk, PatientFactory(), other_doctor, at(MONDAY, 9))


def test_it_books_a_cancelled_slot_again(now, hours, front_desk, doctor, record):
    first = book(front_desk, record, doctor, at(MONDAY, 9))
    services.cancel_appointment(
        appointment=first, by=desk_actor(front_desk), cancelled_by="patient", reason="Flu"
    )
    assert book(front_desk, PatientFactory(), doctor, at(MONDAY, 9)).status == Status.BOOKED


def test_it_flags_a_late_cancellation_and_keeps_the_row(now, hours, front_desk, doctor, record):
    soon = book(front_desk, record, doctor, at(MONDAY, 9))
    later = book(front_desk, PatientFactory(), doctor, at(MONDAY + timedelta(days=3), 9))
    for appointment in (soon, later):
        services.cancel_appointment(
            appointment=appointment,
            by=desk_actor(front_desk),
            cancelled_by="clinic",
            reason="Doctor ill",
        )
    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.status, soon.late_cancel) == (Status.CANCELLED, True)
    assert later.late_cancel is False
    assert soon.changes.last().before["status"] == "booked"


def test_it_refuses_a_cancellation_without_reason(now, hours, front_desk, doctor, record):
    appointment = book(front_desk, record, doctor, at(MONDAY, 9))
    with pytest.raises(services.BookingError, match="reason"):
        services.cancel_appointment(
            appointment=appointment, by=desk_actor(front_desk), cancelled_by="patient", reason="  "
        )
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_it_refuses_a_session_for_a_plan_that_is_not_active(now, hours, front_desk, doctor, record):
    plan = make_plan(record, doctor, start=False)
    with pytest.raises(services.BookingError, match="not active"):
        book(
            front_desk,
            record,
            doctor,
            at(MONDAY, 9),
            kind=Kind.SESSION,
            plan=plan,
            session_number=1,
        )


def test_it_keeps_sessions_of_a_plan_the_interval_apart(now, hours, front_desk, doctor, record):
    plan = make_plan(record, doctor)
    book(front_desk, record, doctor, at(MONDAY, 9), kind=Kind.SESSION, plan=plan, session_number=1)
    with pytest.raises(services.BookingError, match="at least 4 weeks"):
        book(
            front_desk,
            record,
            doctor,
            at(MONDAY + timedelta(days=21), 9),
            kind=Kind.SESSION,
            plan=plan,
            session_number=2,
        )
    second = book(
        front_desk,
        record,
        doctor,
        at(MONDAY + timedelta(days=28), 9),
        kind=Kind.SESSION,
        plan=plan,
        session_number=2,
    )
    assert second.ends_at - second.starts_at == timedelta(minutes=plan.session_minutes)


def test_it_proposes_and_books_the_remaining_series_in_one_go(
    now, hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=4)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=30))
    proposals = services.propose_series(plan=plan)
    assert [p.number for p in proposals] == [2, 3, 4]
    days = [p.starts_at.date() for p in proposals]
    assert all(b - a >= timedelta(weeks=4) for a, b in zip(days, days[1:], strict=False))
    assert days[0] >= MONDAY - timedelta(days=30) + timedelta(weeks=4)
    booked = services.book_series(
        plan=plan, starts={p.number: p.starts_at for p in proposals}, by=desk_actor(front_desk)
    )
    assert [a.session_number for a in booked] == [2, 3, 4]
    assert services.remaining_sessions(plan) == []


def test_it_books_no_session_of_a_series_when_one_fails(now, hours, front_desk, doctor, record):
    plan = make_plan(record, doctor, sessions=3)
    starts = {
        1: at(MONDAY, 9),
        2: at(MONDAY + timedelta(days=28), 9),
        3: at(MONDAY + timedelta(days=35), 9),
    }  # too soon after session 2
    with pytest.raises(services.BookingError, match="Session 3.*Nothing was booked"):
        services.book_series(plan=plan, starts=starts, by=desk_actor(front_desk))
    assert not Appointment.objects.exists()


def series(front_desk, plan, *weeks_apart):
    return services.book_series(
        plan=plan,
        by=desk_actor(front_desk),
        starts={n + 1: at(MONDAY + timedelta(weeks=w), 9) for n, w in enumerate(weeks_apart)},
    )


def test_it_refuses_a_move_that_brings_later_sessions_too_close_unless_asked(
    now, hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=3)
    first, second, third = series(front_desk, plan, 0, 4, 8)
    with pytest.raises(services.LaterSessionsTooClose) as refused:
        services.move_appointment(
            appointment=first,
            by=desk_actor(front_desk),
            starts_at=at(MONDAY + timedelta(days=2), 10),
        )
    assert [a.session_number for a in refused.value.sessions] == [2, 3]
    first.refresh_from_db()
    assert first.starts_at == at(MONDAY, 9)  # nothing changed


def test_it_moves_a_session_and_shifts_the_later_ones_in_one_go(
    now, hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=3)
    first, second, third = series(front_desk, plan, 0, 4, 8)
    moved = services.move_appointment(
        appointment=first,
        by=desk_actor(front_desk),
        starts_at=at(MONDAY + timedelta(days=2), 10),
        shift_later=True,
    )
    assert [a.session_number for a in moved] == [1, 2, 3]
    days = [
        a.starts_at.astimezone(first.starts_at.tzinfo).date()
        for a in Appointment.objects.filter(plan=plan).order_by("session_number")
    ]
    assert days[0] == MONDAY + timedelta(days=2)
    assert all(b - a >= timedelta(weeks=4) for a, b in zip(days, days[1:], strict=False))
    assert AppointmentChange.objects.filter(action=ChangeAction.MOVED).count() == 3


def test_it_moves_a_session_later_without_touching_the_ones_far_enough(
    now, hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=3)
    first, second, third = series(front_desk, plan, 0, 4, 10)
    moved = services.move_appointment(
        appointment=second, by=desk_actor(front_desk), starts_at=at(MONDAY + timedelta(weeks=5), 9)
    )
    assert [a.pk for a in moved] == [second.pk]


def test_it_refuses_to_move_a_session_too_close_to_the_one_before(
    now, hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=2)
    first, second = series(front_desk, plan, 0, 4)
    with pytest.raises(services.BookingError, match="at least 4 weeks"):
        services.move_appointment(
            appointment=second,
            by=desk_actor(front_desk),
            starts_at=at(MONDAY + timedelta(weeks=3), 9),
        )


def test_it_refuses_a_stale_change(now, hours, front_desk, doctor, record):
    appointment = book(front_desk, record, doctor, at(MONDAY, 9))
    services.move_appointment(
        appointment=appointment, by=desk_actor(front_desk), starts_at=at(MONDAY, 11), version=1
    )
    with pytest.raises(services.BookingError, match="Someone else changed"):
        services.cancel_appointment(
            appointment=appointment,
            by=desk_actor(front_desk),
            cancelled_by="patient",
            reason="x",
            version=1,
        )
