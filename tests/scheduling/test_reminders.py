"""The outbox: which reminders bookings, moves, cancellations and sessions write, and how the
dispatcher sends them (Django's locmem email backend here; real SMTP in test_smtp.py)."""

import json
from datetime import date, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from messaging import sending as outbox
from messaging.models import Message, MessageStatus
from messaging.outbox import unsubscribe_url
from scheduling import reminders, services
from scheduling.clock import instant
from scheduling.models import (
    Appointment,
    Kind,
    SchedulingSettings,
    Status,
)
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, TZ, at, desk_actor
from tests.treatments.conftest import chart_session, make_plan

# These tests count the reminders a dispatcher sends (see reminders_alone).
pytestmark = pytest.mark.usefixtures("reminders_alone")


@pytest.fixture
def record(db):
    patient = PatientFactory(email="rosa@example.org", consent_email=True, consent_sms=True)
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return patient


def book(user, patient, doctor, starts_at, **extra):
    return services.book_appointment(
        patient=patient,
        doctor=doctor,
        starts_at=starts_at,
        by=desk_actor(user),
        kind=extra.pop("kind", Kind.CONSULTATION),
        **extra,
    )


def dues(appointment) -> dict:
    """{kind: due time} of the appointment's reminders that are still to go out or went out."""
    rows = reminders.of(appointment).exclude(status=MessageStatus.CANCELLED)
    return dict(rows.values_list("kind", "due_at"))


def test_it_writes_reminders_48_and_2_hours_before_with_the_booking(
    now, hours, front_desk, doctor, record
):
    appointment = book(front_desk, record, doctor, at(MONDAY + timedelta(days=3), 10))
    assert dues(appointment) == {
        "reminder_first": appointment.starts_at - timedelta(hours=48),
        "reminder_second": appointment.starts_at - timedelta(hours=2),
    }


def test_it_skips_a_reminder_whose_time_has_passed(now, hours, front_desk, doctor, record):
    appointment = book(front_desk, record, doctor, at(MONDAY, 10))  # 3 hours from now
    assert set(dues(appointment)) == {"reminder_second"}


def test_it_leaves_no_reminder_when_the_booking_rolls_back(now, hours, front_desk, doctor, record):
    plan = make_plan(record, doctor, sessions=2)
    starts = {1: at(MONDAY + timedelta(days=3), 9), 2: at(MONDAY + timedelta(days=10), 9)}
    with pytest.raises(services.BookingError):
        services.book_series(plan=plan, starts=starts, by=desk_actor(front_desk))
    assert not Message.objects.exists()


def test_it_cancels_pending_reminders_with_the_appointment(now, hours, front_desk, doctor, record):
    appointment = book(front_desk, record, doctor, at(MONDAY + timedelta(days=3), 10))
    services.cancel_appointment(
        appointment=appointment,
        by=desk_actor(front_desk),
        cancelled_by="patient",
        reason="Travelling",
    )
    assert set(reminders.of(appointment).values_list("status", flat=True)) == {"cancelled"}


def test_it_re_times_reminders_when_the_appointment_moves(now, hours, front_desk, doctor, record):
    appointment = book(front_desk, record, doctor, at(MONDAY + timedelta(days=3), 10))
    move(appointment, front_desk, at(MONDAY + timedelta(days=4), 14))
    assert dues(appointment) == {
        "reminder_first": at(MONDAY + timedelta(days=2), 14),
        "reminder_second": at(MONDAY + timedelta(days=4), 12),
    }
    withdrawn = reminders.of(appointment).filter(status=MessageStatus.CANCELLED)
    assert set(withdrawn.values_list("kind", "last_error")) == {
        ("reminder_first", "appointment moved"),
        ("reminder_second", "appointment moved"),
    }


def move(appointment, user, starts_at):
    services.move_appointment(
        appointment=Appointment.objects.get(pk=appointment.pk),
        by=desk_actor(user),
        starts_at=starts_at,
    )


def send_due_at(instant) -> list:
    """Run the dispatcher's batch at `instant`; returns the subjects and bodies sent."""
    before = len(mail.outbox)
    with time_machine.travel(instant, tick=False):
        outbox.send_batch(50)
    return [m.body for m in mail.outbox[before:]]


def test_a_move_after_the_first_reminder_went_out_reminds_twice_for_the_new_time(
    hours, front_desk, doctor, record
):
    starts = at(MONDAY + timedelta(days=3), 10)
    with time_machine.travel(at(MONDAY, 7), tick=False):
        appointment = book(front_desk, record, doctor, starts)
    assert len(send_due_at(starts - timedelta(hours=47))) == 1  # the 48-hour one
    later = starts + timedelta(weeks=1)
    with time_machine.travel(starts - timedelta(hours=46), tick=False):
        move(appointment, front_desk, later)
    # The one that went out stays on record; the new time gets both of its own.
    assert _pending_dues(appointment) == {
        "reminder_first": later - timedelta(hours=48),
        "reminder_second": later - timedelta(hours=2),
    }
    sent = send_due_at(later - timedelta(hours=1))
    assert len(sent) == 2 and all("December 10, 2026 at 10:00 AM" in body for body in sent)


def _pending_dues(appointment) -> dict:
    rows = reminders.of(appointment).filter(status=MessageStatus.PENDING)
    return dict(rows.values_list("kind", "due_at"))


def test_a_move_just_after_the_last_reminder_went_out_reminds_again_for_the_new_time(
    hours, front_desk, doctor, record
):
    starts = at(MONDAY + timedelta(days=3), 10)
    with time_machine.travel(at(MONDAY, 7), tick=False):
        appointment = book(front_desk, record, doctor, starts)
    send_due_at(starts - timedelta(hours=47))
    assert len(send_due_at(starts - timedelta(hours=2))) == 1  # the 2-hour one
    later = starts + timedelta(minutes=10)
    with time_machine.travel(starts - timedelta(hours=1, minutes=59), tick=False):
        move(appointment, front_desk, later)
    assert _pending_dues(appointment) == {"reminder_second": later - timedelta(hours=2)}
    sent = send_due_at(later - timedelta(hours=1, minutes=55))
    assert len(sent) == 1 and "10:10 AM" in sent[0]


def test_a_move_back_to_a_time_already_reminded_of_sends_no_second_copy(
    hours, front_desk, doctor, record
):
    starts = at(MONDAY + timedelta(days=3), 10)
    with time_machine.travel(at(MONDAY, 7), tick=False):
        appointment = book(front_desk, record, doctor, starts)
    send_due_at(starts - timedelta(hours=47))
    with time_machine.travel(starts - timedelta(hours=46), tick=False):
        move(appointment, front_desk, starts + timedelta(hours=4))
        move(appointment, front_desk, starts)
    assert _pending_dues(appointment) == {"reminder_second": starts - timedelta(hours=2)}


def test_a_reminder_claimed_before_a_move_is_not_sent_with_the_old_time(
    now, hours, front_desk, doctor, record
):
    appointment = book(front_desk, record, doctor, at(MONDAY + timedelta(days=3), 10))
    make_due(appointment)
    lease = timezone.now() + outbox.LEASE
    claimed = outbox.claim(10, lease=lease)  # a worker holds them...
    move(appointment, front_desk, at(MONDAY + timedelta(days=4), 14))  # ...when it moves
    work = outbox.Batch(claimed, lease, None, mail.get_connection())
    rows = Message.objects.in_bulk(claimed)  # as the worker read them when it claimed
    assert [outbox._send_one(rows[pk], work) for pk in claimed] == ["cancelled", "cancelled"]
    assert mail.outbox == []
    assert set(Message.objects.filter(pk__in=claimed).values_list("status", "last_error")) == {
        ("cancelled", "appointment moved")
    }
    assert set(_pending_dues(appointment)) == {"reminder_first", "reminder_second"}


def test_a_cancellation_withdraws_every_reminder_not_yet_sent(
    now, hours, front_desk, doctor, record
):
    appointment = book(front_desk, record, doctor, at(MONDAY + timedelta(days=3), 10))
    move(appointment, front_desk, at(MONDAY + timedelta(days=4), 14))
    services.cancel_appointment(
        appointment=Appointment.objects.get(pk=appointment.pk),
        by=desk_actor(front_desk),
        cancelled_by="patient",
        reason="Travelling",
    )
    assert not reminders.of(appointment).filter(status=MessageStatus.PENDING).exists()
    make_due(appointment)
    assert outbox.send_batch(10)["sent"] == 0


def test_it_reminds_48_real_hours_before_an_appointment_after_the_march_change(
    office, doctor, front_desk, record
):
    from scheduling.models import WorkingHours

    WorkingHours.objects.create(
        doctor=doctor, location=office, weekday=0, starts=time(8), ends=time(17)
    )
    with time_machine.travel(instant(date(2026, 3, 1), time(9), TZ)):
        appointment = book(front_desk, record, doctor, instant(date(2026, 3, 9), time(9), TZ))
    first = reminders.of(appointment).get(kind="reminder_first").due_at
    assert appointment.starts_at - first == timedelta(hours=48)
    assert first.astimezone(TZ).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-07 08:00 PST"


def complete(appointment, user):
    for status in (Status.CHECKED_IN, Status.COMPLETED):
        services.set_status(appointment=appointment, status=status, by=desk_actor(user))


def test_it_writes_the_aftercare_programme_when_a_session_is_completed(
    hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=2)
    with time_machine.travel(at(MONDAY, 7), tick=False):
        appointment = book(
            front_desk,
            record,
            doctor,
            at(MONDAY, 9),
            kind=Kind.SESSION,
            plan=plan,
            session_number=1,
        )
    with time_machine.travel(at(MONDAY, 9, 30), tick=False):
        complete(appointment, front_desk)
    # At checkout (after the planned end), then on the day each step speaks of, at 9:00
    # (tests/scheduling/test_aftercare_days.py has every case).
    assert dues(appointment) == {
        "aftercare:checkout": at(MONDAY, 9, 30),
        "aftercare:rest-end": at(MONDAY + timedelta(days=4), 9),
        "aftercare:hose-end": at(MONDAY + timedelta(days=14), 9),
        "aftercare:book-next": at(MONDAY + timedelta(weeks=4), 9),
    }


def test_a_touch_up_gets_the_after_session_advice_but_no_book_next(
    hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=2)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=60))
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=20))
    with time_machine.travel(at(MONDAY, 7), tick=False):
        touch_up = book(front_desk, record, doctor, at(MONDAY, 9), kind=Kind.TOUCH_UP, plan=plan)
    with time_machine.travel(at(MONDAY, 9, 30), tick=False):
        complete(touch_up, front_desk)
    assert dues(touch_up) == {
        "aftercare:checkout": at(MONDAY, 9, 30),
        "aftercare:rest-end": at(MONDAY + timedelta(days=4), 9),
        "aftercare:hose-end": at(MONDAY + timedelta(days=14), 9),
    }


def test_it_invites_to_a_touch_up_when_the_plan_is_complete(now, hours, front_desk, doctor, record):
    from scheduling.reminders import sweep_completed_plans

    plan = make_plan(record, doctor, sessions=2)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=60))
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=20))
    plan.refresh_from_db()
    assert sweep_completed_plans() == 1
    touch_up = Message.objects.get(kind="touch_up")
    assert touch_up.due_at.astimezone(TZ).date() == plan.touch_up_due
    assert sweep_completed_plans() == 0


def make_due(appointment):
    reminders.of(appointment).update(due_at=at(MONDAY, 6))


def test_it_sends_due_reminders_once_as_html_and_text(now, hours, front_desk, doctor, record):
    appointment = book(front_desk, record, doctor, at(MONDAY + timedelta(days=3), 10))
    make_due(appointment)
    assert outbox.send_batch(10)["sent"] == 2
    assert outbox.send_batch(10)["sent"] == 0
    message = mail.outbox[0]
    assert message.to == ["rosa@example.org"]
    assert "Thursday, December 3, 2026 at 10:00 AM" in message.body
    assert message.alternatives[0].mimetype == "text/html"
    assert message.extra_headers["Message-ID"].startswith("<reminder-")
    assert "/messages/stop/" in message.extra_headers["List-Unsubscribe"]
    sent = Message.objects.filter(status=MessageStatus.SENT).first()
    assert sent.body == message.body and sent.subject == message.subject


def test_it_sends_nothing_on_a_channel_the_patient_withdrew(now, hours, front_desk, doctor, record):
    appointment = book(front_desk, record, doctor, at(MONDAY + timedelta(days=3), 10))
    record.consent_email = False
    record.save()
    make_due(appointment)
    assert outbox.send_batch(10)["cancelled"] == 2
    assert mail.outbox == []


def test_it_marks_a_patient_without_email_failed_and_sends_the_rest(
    now, hours, front_desk, doctor, record
):
    nobody = PatientFactory(email="", consent_email=True)
    for patient, hour in ((nobody, 10), (record, 11)):
        make_due(book(front_desk, patient, doctor, at(MONDAY + timedelta(days=3), hour)))
    outcome = outbox.send_batch(10)
    assert (outcome["failed"], outcome["sent"]) == (2, 2)
    failed = Message.objects.filter(patient=nobody).first()
    assert (failed.status, failed.last_error) == ("failed", "no email address")


def test_it_texts_patients_who_prefer_sms(
    now, hours, front_desk, doctor, record, settings, tmp_path
):
    settings.SMS_BACKEND = "messaging.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    record.reminder_channel = "sms"
    record.save()
    make_due(book(front_desk, record, doctor, at(MONDAY + timedelta(days=3), 10)))
    assert outbox.send_batch(10)["sent"] == 2
    lines = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert lines[0]["to"] == str(record.phone)
    place = ", ".join(filter(None, [hours.name, hours.address]))
    assert f"reminder of your Consultation on Thu Dec 3 at 10:00 AM at {place}." in lines[0]["text"]


def test_it_ends_every_after_session_message_with_the_warning_signs(
    hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=2)
    with time_machine.travel(at(MONDAY, 7), tick=False):
        appointment = book(
            front_desk,
            record,
            doctor,
            at(MONDAY, 9),
            kind=Kind.SESSION,
            plan=plan,
            session_number=1,
        )
    with time_machine.travel(at(MONDAY, 9, 30), tick=False):
        complete(appointment, front_desk)
    for due in sorted(_pending_dues(appointment).values()):
        send_due_at(due + timedelta(minutes=1))
    # The safety check-ins (their own tests) end with the warning signs too.
    aftercare = [m for m in mail.outbox if "Reminder" not in m.subject]
    assert len([m for m in aftercare if "How are your legs" not in m.subject]) == 4
    for message in aftercare:
        assert "pain or swelling in the calf" in message.body
    assert any("support hose" in m.body for m in aftercare)


def test_it_does_not_ask_to_book_a_next_session_already_booked(hours, front_desk, doctor, record):
    plan = make_plan(record, doctor, sessions=2)
    with time_machine.travel(at(MONDAY, 7), tick=False):
        first = book(
            front_desk,
            record,
            doctor,
            at(MONDAY, 9),
            kind=Kind.SESSION,
            plan=plan,
            session_number=1,
        )
        book(
            front_desk,
            record,
            doctor,
            at(MONDAY + timedelta(weeks=5), 9),
            kind=Kind.SESSION,
            plan=plan,
            session_number=2,
        )
    with time_machine.travel(at(MONDAY, 9, 30), tick=False):
        complete(first, front_desk)
    with time_machine.travel(at(MONDAY, 9, 30) + timedelta(weeks=4, hours=1), tick=False):
        outbox.send_batch(50)
    book_next = Message.objects.get(kind="aftercare:book-next")
    assert (book_next.status, book_next.last_error) == ("cancelled", "next session already booked")


def test_it_releases_a_row_left_in_sending_after_the_lease(now, hours, front_desk, doctor, record):
    make_due(book(front_desk, record, doctor, at(MONDAY + timedelta(days=3), 10)))
    claimed = outbox.claim(10)
    assert len(claimed) == 2 and outbox.claim(10) == []
    assert outbox.release_expired_leases(at(MONDAY, 7) + outbox.LEASE / 2) == 0
    assert outbox.release_expired_leases(at(MONDAY, 7) + outbox.LEASE * 2) == 2
    assert outbox.send_batch(10)["sent"] == 2


def test_it_unsubscribes_with_one_button_and_no_login(
    client, now, hours, front_desk, doctor, record
):
    appointment = book(front_desk, record, doctor, at(MONDAY + timedelta(days=3), 10))
    url = unsubscribe_url(record.pk, "email", "reminders").split("testserver")[-1]
    path = "/" + url.split("/", 3)[-1]
    page = client.get(path)
    assert page.status_code == 200 and "Yes, stop appointment reminders" in page.content.decode()
    record.refresh_from_db()
    assert record.consent_reminders  # a GET changes nothing
    done = client.post(path)
    assert "no more appointment reminders" in done.content.decode()
    record.refresh_from_db()
    assert (record.consent_reminders, record.consent_email, record.consent_aftercare) == (
        False,
        True,
        True,
    )
    make_due(appointment)
    assert outbox.send_batch(10)["cancelled"] == 2
    assert set(reminders.of(appointment).values_list("last_error", flat=True)) == {
        "patient wants no appointment reminders"
    }


def test_it_refuses_a_tampered_unsubscribe_link(client, db):
    response = client.get(reverse("messaging:unsubscribe", args=["not-a-token"]))
    assert response.status_code == 404


def test_it_shows_staff_the_messages_of_a_patient(
    client, now, hours, front_desk, doctor, record, patient
):
    make_due(book(front_desk, record, doctor, at(MONDAY + timedelta(days=3), 10)))
    outbox.send_batch(10)
    client.force_login(front_desk)
    body = client.get(reverse("messaging:patient", args=[record.pk])).content.decode()
    assert "First appointment reminder" in body and "Sent" in body
    client.force_login(patient)
    assert client.get(reverse("messaging:patient", args=[record.pk])).status_code in (403, 404)


def test_settings_hold_the_reminder_offsets(db):
    settings = SchedulingSettings.objects.get_or_create(pk=1)[0]
    assert (settings.first_reminder_hours, settings.second_reminder_hours) == (48, 2)
