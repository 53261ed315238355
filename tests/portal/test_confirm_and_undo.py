"""Cancelling or moving online asks first (a page that works without JavaScript, saying what
will happen); a patient who cancelled can undo it for CANCEL_UNDO_MINUTES while the time is
still free, and the message about the cancellation waits that long and is withdrawn by the
undo. Every change made online sends the patient one message."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from messaging import sending
from messaging.models import MessageStatus
from scheduling import change_notices, reminders, services
from scheduling.models import Appointment, AppointmentChange, ChangeAction, Kind, Status
from tests.concurrency import contend
from tests.factories import PatientFactory, UserFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor

THURSDAY_10 = at(MONDAY + timedelta(days=3), 10)


@pytest.fixture
def me(patient):
    record = PatientFactory(
        portal_user=patient, legal_first_name="Rosa", email="rosa@example.org", consent_email=True
    )
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    return record


@pytest.fixture
def visit(now, hours, front_desk, doctor, me):
    booked = services.book_appointment(
        patient=me,
        doctor=doctor,
        starts_at=THURSDAY_10,
        by=desk_actor(front_desk),
        kind=Kind.REVIEW,
    )
    sending.send_batch(10)  # the booking's message went out
    mail.outbox.clear()
    return booked


def cancel(client, visit, **data):
    return client.post(
        reverse("portal:cancel", args=[visit.pk]),
        {"version": visit.version, "confirm": "yes", **data},
        follow=True,
    )


def undo(client, visit, version=None):
    version = Appointment.objects.get(pk=visit.pk).version if version is None else version
    return client.post(
        reverse("portal:undo_cancel", args=[visit.pk]), {"version": version}, follow=True
    )


def status_of(visit) -> str:
    return Appointment.objects.get(pk=visit.pk).status


def test_cancel_asks_first_and_says_what_will_happen(client, visit, patient):
    client.force_login(patient)
    detail = client.get(reverse("portal:appointment", args=[visit.pk])).content.decode()
    assert f'href="{reverse("portal:cancel", args=[visit.pk])}"' in detail  # a link, not a post
    page = client.get(reverse("portal:cancel", args=[visit.pk])).content.decode()
    assert "Cancel this appointment?" in page
    assert "Thursday, December 3, 2026 at 10:00 AM" in page
    assert "For 5 minutes you can undo it" in page
    assert 'name="confirm" value="yes"' in page
    assert status_of(visit) == Status.BOOKED


def test_a_cancel_post_without_the_confirmation_changes_nothing(client, visit, patient):
    client.force_login(patient)
    response = client.post(reverse("portal:cancel", args=[visit.pk]), {"version": visit.version})
    assert response.status_code == 200
    assert "Nothing is cancelled yet: please confirm below." in response.content.decode()
    assert status_of(visit) == Status.BOOKED
    forged = client.post(
        reverse("portal:cancel", args=[visit.pk]), {"version": visit.version, "confirm": "no"}
    )
    assert forged.status_code == 200 and status_of(visit) == Status.BOOKED


def test_a_move_asks_first_and_a_post_without_the_confirmation_changes_nothing(
    client, visit, patient
):
    client.force_login(patient)
    move = reverse("portal:move", args=[visit.pk])
    choice = client.get(move).context["form"].fields["starts_at"].choices[0][0]
    asked = client.post(move, {"starts_at": choice, "version": visit.version})
    page = asked.content.decode()
    assert asked.status_code == 200 and "Move your appointment to this time?" in page
    assert "Thursday, December 3, 2026 at 10:00 AM" in page  # now, struck through
    assert f'value="{choice}"' in page and 'name="confirm" value="yes"' in page
    assert Appointment.objects.get(pk=visit.pk).starts_at == THURSDAY_10
    assert change_notices.of(visit).count() == 1  # the booking's only
    done = client.post(move, {"starts_at": choice, "version": visit.version, "confirm": "yes"})
    assert done.status_code == 302
    moved = Appointment.objects.get(pk=visit.pk)
    assert moved.starts_at.isoformat() == choice
    # One message for the move, sent once, with the new time.
    assert sending.send_batch(10)["sent"] == 1
    assert sending.send_batch(10)["sent"] == 0
    [email] = mail.outbox
    assert email.subject.startswith("Moved: your appointment is now on")


def test_a_stale_confirmation_is_refused_with_a_clear_message(client, visit, patient, front_desk):
    client.force_login(patient)
    old = visit.version
    services.move_appointment(
        appointment=visit, starts_at=THURSDAY_10 + timedelta(hours=1), by=desk_actor(front_desk)
    )
    response = cancel(client, visit, version=old)
    assert "Someone else changed this appointment meanwhile" in response.content.decode()
    assert status_of(visit) == Status.BOOKED
    for bad in ("", "abc", "0", "99999999999"):
        response = cancel(client, visit, version=bad)
        assert response.status_code == 200
        assert "This page is out of date" in response.content.decode()
        assert status_of(visit) == Status.BOOKED


def test_a_cancellation_can_be_undone_within_the_window_and_its_message_never_goes_out(
    client, visit, patient
):
    client.force_login(patient)
    page = cancel(client, visit).content.decode()
    assert "Your appointment is cancelled" in page
    assert "You can undo the cancellation until 7:05 AM" in page
    assert status_of(visit) == Status.CANCELLED
    notice = change_notices.of(visit).get(kind="change:cancelled")
    assert notice.due_at == at(MONDAY, 7, 5)  # waits out the undo window
    assert sending.send_batch(10)["sent"] == 0
    with time_machine.travel(at(MONDAY, 7, 4), tick=False):
        client.force_login(patient)
        restored = undo(client, visit).content.decode()
    assert "Your appointment is booked again" in restored
    visit.refresh_from_db()
    assert (visit.status, visit.cancelled_by, visit.late_cancel) == (Status.BOOKED, "", False)
    assert AppointmentChange.objects.filter(
        appointment=visit, action=ChangeAction.RESTORED, by=patient
    ).exists()
    notice.refresh_from_db()
    assert (notice.status, notice.last_error) == (MessageStatus.CANCELLED, "cancellation undone")
    # Its reminders are back, and nothing at all is sent about the cancellation.
    assert reminders.of(visit).filter(status=MessageStatus.PENDING).count() == 2
    with time_machine.travel(at(MONDAY, 8), tick=False):
        assert sending.send_batch(10)["sent"] == 0
    assert mail.outbox == []


def test_undo_is_refused_after_the_window_and_the_cancellation_is_then_told(client, visit, patient):
    client.force_login(patient)
    cancel(client, visit)
    with time_machine.travel(at(MONDAY, 7, 6), tick=False):
        client.force_login(patient)
        detail = client.get(reverse("portal:appointment", args=[visit.pk])).content.decode()
        assert "Undo the cancellation" not in detail
        response = undo(client, visit)
        assert "It is too late to undo the cancellation" in response.content.decode()
        assert status_of(visit) == Status.CANCELLED
        assert sending.send_batch(10)["sent"] == 1
    [email] = mail.outbox
    assert email.subject == "Cancelled: your appointment on Thursday, December 3"
    assert "As you asked, your Follow-up review on Thursday, December 3" in email.body
    assert "METHOD:CANCEL" in email.message().as_string()


def test_undo_is_refused_cleanly_when_the_time_was_taken_meanwhile(
    client, visit, patient, front_desk, doctor
):
    client.force_login(patient)
    cancel(client, visit)
    other = services.book_appointment(
        patient=PatientFactory(),
        doctor=doctor,
        starts_at=THURSDAY_10,
        by=desk_actor(front_desk),
        kind=Kind.REVIEW,
    )
    response = undo(client, visit)
    assert response.status_code == 200
    assert "The cancellation can&#x27;t be undone: The doctor is busy" in response.content.decode()
    assert status_of(visit) == Status.CANCELLED
    assert status_of(other) == Status.BOOKED


def test_undo_that_loses_the_race_to_the_exclusion_constraint_says_the_time_was_taken(
    client, visit, patient, front_desk, doctor, monkeypatch
):
    """A booking committed between the rules' check and the save: the constraint catches it."""
    client.force_login(patient)
    cancel(client, visit)
    from scheduling.services import patient_changes

    real = patient_changes._checked_room

    def then_someone_books(**kwargs):
        found = real(**kwargs)
        Appointment.objects.create(
            patient=PatientFactory(),
            doctor=doctor,
            location=visit.location,
            room=visit.room,
            kind=Kind.REVIEW,
            starts_at=THURSDAY_10,
            ends_at=THURSDAY_10 + timedelta(minutes=15),
        )
        return found

    monkeypatch.setattr(patient_changes, "_checked_room", then_someone_books)
    response = undo(client, visit)
    assert "That time was just taken" in response.content.decode()
    assert status_of(visit) == Status.CANCELLED


def test_forged_undo_posts_get_a_clear_message(client, visit, patient, front_desk):
    client.force_login(patient)
    nothing = undo(client, visit).content.decode()  # not cancelled
    assert "There is no cancellation of yours to undo here." in nothing
    for bad in ("", "x", "-1"):
        assert "This page is out of date" in undo(client, visit, version=bad).content.decode()
    services.cancel_appointment(
        appointment=visit, by=desk_actor(front_desk), cancelled_by="clinic", reason="Doctor ill"
    )
    by_clinic = undo(client, visit).content.decode()
    assert "There is no cancellation of yours to undo here." in by_clinic
    assert status_of(visit) == Status.CANCELLED
    assert client.get(reverse("portal:undo_cancel", args=[visit.pk])).status_code == 405


def test_cancelling_online_sends_one_message_after_the_window(client, visit, patient):
    client.force_login(patient)
    cancel(client, visit)
    again = cancel(client, visit).content.decode()  # a second tap finds it cancelled already
    assert "Only a booked appointment can be changed online; this one is “Cancelled”." in again
    with time_machine.travel(at(MONDAY, 7, 10), tick=False):
        assert sending.send_batch(10)["sent"] == 1
        assert sending.send_batch(10)["sent"] == 0
    assert change_notices.of(visit).filter(kind="change:cancelled").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_undos_at_once_restore_once(now, hours, front_desk, doctor):
    # patient_undo_cancel's transaction and its lock of the appointment (_locked): the second
    # undo waits for the first, then finds the version changed. Without the lock both restore
    # (two "restored" changes); without the transaction the contender's lock is refused.
    account = UserFactory(username="rosa", role="patient")
    record = PatientFactory(portal_user=account)
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    visit = services.book_appointment(
        patient=record,
        doctor=doctor,
        starts_at=THURSDAY_10,
        by=desk_actor(front_desk),
        kind=Kind.REVIEW,
    )
    from goodskin.actors import Actor

    me = Actor(user=account, role="patient", ip="127.0.0.1")
    cancelled = services.patient_cancel(appointment=visit, by=me, version=visit.version)

    def restore():
        return services.patient_undo_cancel(appointment=visit, by=me, version=cancelled.version)

    holder, contender, waited = contend(restore, restore)
    assert isinstance(holder, Appointment), holder
    assert isinstance(contender, services.BookingError), contender
    assert waited
    assert AppointmentChange.objects.filter(action=ChangeAction.RESTORED).count() == 1


def test_undo_is_refused_when_the_eligibility_gate_now_blocks_the_session(
    client, now, hours, front_desk, doctor, patient, me
):
    from tests.treatments.conftest import make_plan

    session = services.book_appointment(
        patient=me,
        doctor=doctor,
        starts_at=THURSDAY_10,
        by=desk_actor(front_desk),
        kind=Kind.SESSION,
        plan=make_plan(me, doctor, sessions=2),
        session_number=1,
    )
    client.force_login(patient)
    cancel(client, session)
    screen(me, untreated_varicose="yes")  # a blocker: varicose veins are treated first
    response = undo(client, session).content.decode()
    assert "The cancellation can&#x27;t be undone:" in response
    assert "varicose" in response.split("can&#x27;t be undone:")[1].split("</div>")[0].lower()
    assert status_of(session) == Status.CANCELLED


def test_the_schedule_offers_the_undo_while_the_window_is_open(client, visit, patient):
    client.force_login(patient)
    cancel(client, visit)
    undo_url = reverse("portal:undo_cancel", args=[visit.pk])
    home = client.get(reverse("portal:schedule")).content.decode()
    assert "You cancelled your Follow-up review on Thursday, December 3 at 10:00 AM." in home
    assert f'action="{undo_url}"' in home
    with time_machine.travel(at(MONDAY, 7, 6), tick=False):
        client.force_login(patient)
        later = client.get(reverse("portal:schedule")).content.decode()
    assert undo_url not in later
