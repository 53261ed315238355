"""The message a patient gets when an appointment of theirs is booked (one, or a whole series
in one message), moved or cancelled by the front desk: once per change, in their channel,
with the time in clinic time and, by email, a calendar invitation (.ics) that adds, updates
or removes it in their calendar. A change overtaken before its message went out sends only
what is still true. (The patient's own changes: tests/portal/test_confirm_and_undo.py.)"""

from datetime import timedelta

import icalendar
import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from messaging import sending
from messaging.models import Message, MessageStatus
from scheduling import change_notices, reminders, services
from scheduling.models import Appointment, Kind
from tests.concurrency import contend
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import make_plan

THURSDAY_10 = at(MONDAY + timedelta(days=3), 10)
FRIDAY_14 = at(MONDAY + timedelta(days=4), 14)


@pytest.fixture
def record(db):
    patient = PatientFactory(
        legal_first_name="Rosa", email="rosa@example.org", consent_email=True, consent_sms=True
    )
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return patient


def book(desk, patient, doctor, starts_at, kind=Kind.REVIEW) -> Appointment:
    return services.book_appointment(
        patient=patient, doctor=doctor, starts_at=starts_at, by=desk_actor(desk), kind=kind
    )


def move(desk, appointment, starts_at) -> Appointment:
    return services.move_appointment(
        appointment=Appointment.objects.get(pk=appointment.pk),
        starts_at=starts_at,
        by=desk_actor(desk),
    )[0]


def cancel(desk, appointment) -> Appointment:
    return services.cancel_appointment(
        appointment=Appointment.objects.get(pk=appointment.pk),
        by=desk_actor(desk),
        cancelled_by="clinic",
        reason="Doctor ill",
    )


def notices():
    return Message.objects.filter(kind__startswith="change:")


def send() -> list:
    """Run one batch now; the emails it sent."""
    before = len(mail.outbox)
    sending.send_batch(50)
    return mail.outbox[before:]


def invitations(email) -> list[icalendar.Calendar]:
    """The calendar files attached to an email, parsed, with their MIME part."""
    found = []
    for part in email.message().walk():
        if part.get_content_type() == "text/calendar":
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
            found.append((part, calendar))
    return found


def test_a_booking_sends_one_message_in_clinic_time_with_a_calendar_invitation(
    now, hours, front_desk, doctor, record
):
    appointment = book(front_desk, record, doctor, THURSDAY_10)
    assert list(notices().values_list("kind", "key")) == [
        ("change:booked", f"a{appointment.pk}:change:booked:1")
    ]
    [email] = send()
    assert send() == []  # once
    assert email.to == ["rosa@example.org"]
    assert email.subject == "Booked: your appointment on Thursday, December 3"
    assert "Follow-up review is booked for Thursday, December 3, 2026 at 10:00 AM" in email.body
    assert "Dr " in email.body
    [(part, calendar)] = invitations(email)
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == f"goodskin-{appointment.pk}.ics"
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{appointment.pk}@goodskin.clinic"
    assert int(event["SEQUENCE"]) == 0 and str(event["STATUS"]) == "CONFIRMED"
    assert event["DTSTART"].dt == THURSDAY_10
    assert event["DTSTART"].params["TZID"] == "America/Los_Angeles"
    assert "rosa@example.org" in str(event["ATTENDEE"]) and "ORGANIZER" in event
    [alarm] = event.walk("VALARM")
    assert (str(alarm["ACTION"]), alarm["TRIGGER"].dt) == ("DISPLAY", -timedelta(days=1))


def test_a_series_sends_one_message_for_all_its_sessions(now, hours, front_desk, doctor, record):
    plan = make_plan(record, doctor, sessions=3)
    booked = services.book_series(
        plan=plan,
        by=desk_actor(front_desk),
        starts={
            1: at(MONDAY + timedelta(days=2), 9),
            2: at(MONDAY + timedelta(weeks=5), 9),
            3: at(MONDAY + timedelta(weeks=10), 9),
        },
    )
    assert list(notices().values_list("kind", flat=True)) == ["change:series"]
    [email] = send()
    assert email.subject == "Booked: your 3 treatment sessions"
    for line in (
        "Session 1: Wednesday, December 2, 2026 at 9:00 AM",
        "Session 2: Monday, January 4, 2027 at 9:00 AM",
        "Session 3: Monday, February 8, 2027 at 9:00 AM",
    ):
        assert line in email.body
    uids = [str(c.walk("VEVENT")[0]["UID"]) for _, c in invitations(email)]
    assert uids == [f"appointment-{a.pk}@goodskin.clinic" for a in booked]
    # The reminders of each session are still written beside it.
    assert all(reminders.of(a).count() == 2 for a in booked)


def test_a_move_sends_the_new_time_with_a_higher_sequence(now, hours, front_desk, doctor, record):
    appointment = book(front_desk, record, doctor, THURSDAY_10)
    send()
    move(front_desk, appointment, FRIDAY_14)
    [email] = send()
    assert email.subject == "Moved: your appointment is now on Friday, December 4"
    assert "It is now on Friday, December 4, 2026 at 2:00 PM" in email.body
    [(part, calendar)] = invitations(email)
    event = calendar.walk("VEVENT")[0]
    assert (part.get_param("method"), int(event["SEQUENCE"])) == ("REQUEST", 1)
    assert event["DTSTART"].dt == FRIDAY_14
    assert send() == []


def test_two_moves_before_sending_send_only_the_final_time(now, hours, front_desk, doctor, record):
    appointment = book(front_desk, record, doctor, THURSDAY_10)
    send()
    move(front_desk, appointment, FRIDAY_14)
    move(front_desk, appointment, FRIDAY_14 + timedelta(hours=1))
    [email] = send()
    assert "Friday, December 4, 2026 at 3:00 PM" in email.body
    assert "2:00 PM" not in email.body
    first = notices().get(key=f"a{appointment.pk}:change:moved:2")
    assert (first.status, first.last_error) == (
        MessageStatus.CANCELLED,
        "superseded by a later change",
    )


def test_a_move_notice_claimed_by_a_worker_before_a_second_move_is_not_sent(
    now, hours, front_desk, doctor, record
):
    appointment = book(front_desk, record, doctor, THURSDAY_10)
    send()
    move(front_desk, appointment, FRIDAY_14)
    lease = timezone.now() + sending.LEASE
    claimed = sending.claim(10, lease=lease)  # a worker holds the first move's message...
    move(front_desk, appointment, FRIDAY_14 + timedelta(hours=1))  # ...when it moves again
    work = sending.Batch(claimed, lease, mail.get_connection())
    rows = Message.objects.select_related("patient").in_bulk(claimed)
    assert [sending._send_one(rows[pk], work) for pk in claimed] == ["cancelled"]
    [email] = send()
    assert "3:00 PM" in email.body


def test_a_booking_moved_before_its_message_went_out_is_told_as_a_booking_at_the_new_time(
    now, hours, front_desk, doctor, record
):
    appointment = book(front_desk, record, doctor, THURSDAY_10)
    move(front_desk, appointment, FRIDAY_14)
    [email] = send()
    assert email.subject == "Booked: your appointment on Friday, December 4"
    assert "booked for Friday, December 4, 2026 at 2:00 PM" in email.body


def test_a_cancellation_sends_a_calendar_cancel(now, hours, front_desk, doctor, record):
    appointment = book(front_desk, record, doctor, THURSDAY_10)
    send()
    cancel(front_desk, appointment)
    [email] = send()
    assert email.subject == "Cancelled: your appointment on Thursday, December 3"
    assert "The clinic has cancelled your Follow-up review on Thursday, December 3" in email.body
    [(part, calendar)] = invitations(email)
    event = calendar.walk("VEVENT")[0]
    assert part.get_param("method") == "CANCEL" and str(calendar["METHOD"]) == "CANCEL"
    assert (str(event["STATUS"]), int(event["SEQUENCE"])) == ("CANCELLED", 1)
    assert not event.walk("VALARM")


def test_a_booking_cancelled_before_its_message_went_out_sends_nothing(
    now, hours, front_desk, doctor, record
):
    appointment = book(front_desk, record, doctor, THURSDAY_10)
    cancel(front_desk, appointment)
    assert send() == []
    assert set(change_notices.of(appointment).values_list("status", flat=True)) == {"cancelled"}


def test_a_session_moved_while_its_series_message_waits_is_in_that_message_at_its_new_time(
    now, hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=2)
    first, _second = services.book_series(
        plan=plan,
        by=desk_actor(front_desk),
        starts={1: at(MONDAY + timedelta(days=2), 9), 2: at(MONDAY + timedelta(weeks=5), 9)},
    )
    move(front_desk, first, at(MONDAY + timedelta(days=2), 11))
    [email] = send()
    assert "Session 1: Wednesday, December 2, 2026 at 11:00 AM" in email.body
    assert list(notices().values_list("kind", flat=True)) == ["change:series"]


def test_a_patient_who_prefers_text_messages_gets_the_change_by_text_without_a_file(
    now, hours, front_desk, doctor, record
):
    record.reminder_channel = "sms"
    record.save()
    appointment = book(front_desk, record, doctor, THURSDAY_10)
    assert send() == []
    sent = change_notices.of(appointment).get()
    assert sent.status == MessageStatus.SENT
    assert (
        sent.body == "Goodskin Clinic: your Follow-up review is booked for Thu Dec 3 at 10:00 AM "
        "at Goodskin Dermatology, Oregon office."
    )


def test_the_reminders_still_go_out_beside_the_change_messages(
    now, hours, front_desk, doctor, record
):
    appointment = book(front_desk, record, doctor, THURSDAY_10)
    move(front_desk, appointment, FRIDAY_14)
    assert [e.subject for e in send()] == ["Booked: your appointment on Friday, December 4"]
    with time_machine.travel(FRIDAY_14 - timedelta(hours=47), tick=False):
        [reminder] = send()
    assert reminder.subject == "Reminder: your appointment on Friday, December 4"
    assert "Friday, December 4, 2026 at 2:00 PM" in reminder.body


def test_a_patient_who_wants_no_appointment_messages_gets_none(
    now, hours, front_desk, doctor, record
):
    record.consent_reminders = False
    record.save()
    appointment = book(front_desk, record, doctor, THURSDAY_10)
    assert send() == []
    assert change_notices.of(appointment).get().status == MessageStatus.CANCELLED


@pytest.mark.django_db(transaction=True)
def test_a_series_message_waiting_is_not_claimed_while_a_move_of_one_of_its_sessions_commits(
    now, hours, front_desk, doctor
):
    # outbox.hold_waiting's row lock: the move keeps the series message from the workers
    # until it commits, so the message is rendered with the new time. Without the lock a
    # worker claims it meanwhile, and would render the session's old time with no message
    # about the move to follow.
    patient = PatientFactory(email="rosa@example.org", consent_email=True)
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(patient, doctor, sessions=2)
    first, _second = services.book_series(
        plan=plan,
        by=desk_actor(front_desk),
        starts={1: at(MONDAY + timedelta(days=2), 9), 2: at(MONDAY + timedelta(weeks=5), 9)},
    )
    _moved, claimed, _waited = contend(
        lambda: move(front_desk, first, at(MONDAY + timedelta(days=2), 11)),
        lambda: sending.claim(10),
    )
    assert claimed == []
    assert list(notices().values_list("kind", "status")) == [("change:series", "pending")]
