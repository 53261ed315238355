"""Each aftercare step arrives on the day it speaks of (issue 13, point 8): the advice for the
first days at checkout, "you may exercise again" the day after those days, "you may stop the
hose" on the day the hose period ends, "book your next session" at the plan's interval; later
steps at the clinic's aftercare hour in clinic time, whatever the clocks did in between. The
texts sent carry the plan's numbers."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail

from messaging import sending
from messaging.models import MessageStatus
from scheduling import reminders, services
from scheduling.models import Kind, Status
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, TZ, at, desk_actor
from tests.treatments.conftest import chart_session, make_plan
from treatments.models import AftercareStep
from treatments.selectors import get_clinic_settings


@pytest.fixture
def record(db):
    patient = PatientFactory(email="rosa@example.org", consent_email=True)
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return patient


def treated(front_desk, doctor, record, day: date, *, kind=Kind.SESSION, plan=None, end=(9, 30)):
    """A visit at 9:00 on `day`, checked in and completed at `end` that day."""
    plan = plan or make_plan(record, doctor, sessions=2)
    extra = {"plan": plan, "session_number": 1} if kind == Kind.SESSION else {"plan": plan}
    with time_machine.travel(at(day, 7), tick=False):
        appointment = services.book_appointment(
            patient=record,
            doctor=doctor,
            starts_at=at(day, 9),
            by=desk_actor(front_desk),
            kind=kind,
            **extra,
        )
    with time_machine.travel(at(day, *end), tick=False):
        for status in (Status.CHECKED_IN, Status.COMPLETED):
            services.set_status(appointment=appointment, status=status, by=desk_actor(front_desk))
    return appointment


def dues(appointment) -> dict:
    rows = reminders.of(appointment).filter(kind__startswith="aftercare:")
    return dict(rows.values_list("kind", "due_at"))


def local(instant) -> str:
    return instant.astimezone(TZ).strftime("%Y-%m-%d %H:%M %Z")


def test_each_step_falls_on_the_day_it_speaks_of(hours, front_desk, doctor, record):
    appointment = treated(front_desk, doctor, record, MONDAY)  # Monday, November 30
    assert {kind: local(due) for kind, due in dues(appointment).items()} == {
        "aftercare:checkout": "2026-11-30 09:30 PST",  # at checkout: today and days 1-3
        "aftercare:rest-end": "2026-12-04 09:00 PST",  # day 4: exercise again
        "aftercare:hose-end": "2026-12-14 09:00 PST",  # day 14: no more hose
        "aftercare:book-next": "2026-12-28 09:00 PST",  # 4 weeks: book the next session
    }


def test_the_days_follow_the_plan_and_the_clinic_settings(hours, front_desk, doctor, record):
    clinic = get_clinic_settings()
    clinic.rest_days, clinic.aftercare_hour = 5, 10
    clinic.save()
    plan = make_plan(record, doctor, sessions=2)
    plan.hose_days, plan.interval_weeks = 21, 6
    plan.save()
    appointment = treated(front_desk, doctor, record, MONDAY, plan=plan)
    due = dues(appointment)
    assert local(due["aftercare:rest-end"]) == "2026-12-06 10:00 PST"
    assert local(due["aftercare:hose-end"]) == "2026-12-21 10:00 PST"
    assert local(due["aftercare:book-next"]) == "2027-01-11 10:00 PST"


def test_the_days_count_on_the_calendar_across_the_autumn_change_of_the_clocks(
    hours, front_desk, doctor, record
):
    # Monday, October 26 2026 (PDT); the clocks go back on Sunday, November 1.
    appointment = treated(front_desk, doctor, record, date(2026, 10, 26))
    due = dues(appointment)
    assert local(due["aftercare:checkout"]) == "2026-10-26 09:30 PDT"
    assert local(due["aftercare:rest-end"]) == "2026-10-30 09:00 PDT"
    assert local(due["aftercare:hose-end"]) == "2026-11-09 09:00 PST"
    assert due["aftercare:hose-end"].hour == 17  # 9:00 PST is 17:00 UTC (9:00 PDT: 16:00)
    assert local(due["aftercare:book-next"]) == "2026-11-23 09:00 PST"


def test_the_days_count_on_the_calendar_across_the_spring_change_of_the_clocks(
    hours, front_desk, doctor, record
):
    # Monday, March 1 2027 (PST); the clocks go forward on Sunday, March 14.
    appointment = treated(front_desk, doctor, record, date(2027, 3, 1))
    due = dues(appointment)
    assert local(due["aftercare:rest-end"]) == "2027-03-05 09:00 PST"
    assert local(due["aftercare:hose-end"]) == "2027-03-15 09:00 PDT"
    assert due["aftercare:hose-end"].hour == 16


def test_a_touch_up_gets_every_step_but_book_next(hours, front_desk, doctor, record):
    plan = make_plan(record, doctor, sessions=2)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=60))
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=20))
    touch_up = treated(front_desk, doctor, record, MONDAY, kind=Kind.TOUCH_UP, plan=plan)
    assert set(dues(touch_up)) == {"aftercare:checkout", "aftercare:rest-end", "aftercare:hose-end"}


def test_a_visit_completed_late_sends_nothing_before_checkout(hours, front_desk, doctor, record):
    # Checked out at 23:00 on the day: later days are still counted from the session day.
    appointment = treated(front_desk, doctor, record, MONDAY, end=(23, 0))
    due = dues(appointment)
    assert local(due["aftercare:checkout"]) == "2026-11-30 23:00 PST"
    assert local(due["aftercare:rest-end"]) == "2026-12-04 09:00 PST"


def test_an_administrators_step_of_the_first_days_arrives_at_checkout(
    hours, front_desk, doctor, record
):
    # The step an administrator kept (their own words) now speaks of today: it comes at
    # checkout, never the next day as if it covered the days after.
    AftercareStep.objects.filter(key="days-0-3").update(active=True)
    appointment = treated(front_desk, doctor, record, MONDAY)
    assert local(dues(appointment)["aftercare:days-0-3"]) == "2026-11-30 09:30 PST"


def send_at(instant) -> dict:
    with time_machine.travel(instant, tick=False):
        return sending.send_batch(50)


def send_all(appointment) -> list:
    """Send every aftercare message of the visit, each when it falls due."""
    for due in sorted(dues(appointment).values()):
        send_at(due + timedelta(minutes=1))
    return [m for m in mail.outbox if "Reminder" not in m.subject]


def test_the_messages_sent_carry_the_plans_numbers(hours, front_desk, doctor, record):
    plan = make_plan(record, doctor, sessions=2)
    plan.hose_days, plan.interval_weeks = 10, 5
    plan.save()
    appointment = treated(front_desk, doctor, record, MONDAY, plan=plan)
    sent = {m.subject: m.body for m in send_all(appointment)}
    assert set(reminders.of(appointment).values_list("status", flat=True)) == {MessageStatus.SENT}
    checkout = sent["After your sclerotherapy session today"]
    assert "for the next 10 days" in checkout and "two weeks" not in checkout
    assert "Walk for 15 to 20 minutes now" in checkout
    assert "Your 10 days of support hose are over" in sent["You can stop wearing your support hose"]
    assert "It has been 5 weeks" in sent["Time to book your next session"]
    for body in sent.values():
        assert "{" not in body and "pain or swelling in the calf" in body


def test_a_broken_text_in_the_database_sends_the_seeded_text(
    hours, front_desk, doctor, record, caplog
):
    AftercareStep.objects.filter(key="checkout").update(email_body="Hose for {hose_weeks}.")
    appointment = treated(front_desk, doctor, record, MONDAY)
    send_at(at(MONDAY, 9, 31))
    checkout = reminders.of(appointment).get(kind="aftercare:checkout")
    assert checkout.status == MessageStatus.SENT
    assert "for the next 14 days" in checkout.body and "hose_weeks" not in checkout.body
    assert "hose_weeks" in caplog.text


def test_a_broken_added_step_fails_with_its_reason_and_the_others_go_out(
    hours, front_desk, doctor, record
):
    AftercareStep.objects.create(
        key="added",
        order=5,
        title="Added",
        anchor="session",
        email_subject="A word",
        email_body="{oops}",
        sms_text="x",
    )
    appointment = treated(front_desk, doctor, record, MONDAY)
    outcome = send_at(at(MONDAY, 9, 31))
    assert (outcome["sent"], outcome["failed"]) == (1, 1)
    added = reminders.of(appointment).get(kind="aftercare:added")
    assert added.status == MessageStatus.FAILED and "oops" in added.last_error


def test_the_reminder_before_a_session_speaks_of_the_plans_hose_period(
    now, hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=2)
    plan.hose_days = 21
    plan.save()
    appointment = services.book_appointment(
        patient=record,
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=3), 10),
        by=desk_actor(front_desk),
        kind=Kind.SESSION,
        plan=plan,
        session_number=1,
    )
    reminders.of(appointment).update(due_at=at(MONDAY, 6))
    sending.send_batch(10)
    sent = [m for m in mail.outbox if m.subject.startswith("Reminder")]  # not the booking's
    assert sent and all("wear them for 21 days" in m.body for m in sent)
    assert not any("two weeks" in m.body for m in mail.outbox)
