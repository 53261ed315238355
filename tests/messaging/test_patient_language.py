"""Issue 16, point 2: every message to a patient is written in the language on their record,
wherever it was queued from (a Spanish page, an English one, a Celery task), because the
outbox renders it in that language at the one place it renders (messaging.sending). Messages
to staff stay in the clinic's language."""

from datetime import timedelta

import icalendar
import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from messaging import outbox, sending
from messaging.models import Channel, Message
from scheduling import reminders, services
from scheduling.models import Status
from tests.english import english_left
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import make_plan

# Every kind of message a patient gets (online_booking_link and the portal invitation go to
# people without a record yet: tests/portal/test_spanish.py reads them).
PATIENT_KINDS = {
    "change:booked",
    "change:moved",
    "change:cancelled",
    "change:series",
    "reminder_first",
    "reminder_second",
    "screening_request",
    "touch_up",
    "aftercare:checkout",
    "aftercare:rest-end",
    "aftercare:hose-end",
    "aftercare:book-next",
    "password_reset",
}


@pytest.fixture
def rosa(patient, hours):
    record = PatientFactory(
        portal_user=patient,
        email="rosa@example.org",
        consent_email=True,
        consent_sms=True,
        language="es",
    )
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    return record


def shown_in_calendar(ics: str) -> str:
    """What a calendar app shows of an invitation's events."""
    events = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    return " ".join(f"{event['SUMMARY']} {event['DESCRIPTION']}" for event in events)


def read_all(patient, found: dict) -> None:
    """Render each of the patient's messages as the sender would now; keep what they say."""
    for message in Message.objects.filter(patient=patient) | Message.objects.filter(
        staff=patient.portal_user
    ):
        rendered = sending.render(message)
        files = " ".join(shown_in_calendar(a.content) for a in rendered.attachments)
        found[message.kind] = " ".join(
            [rendered.subject, rendered.text, rendered.html, rendered.sms, files]
        )


def test_every_kind_of_message_to_a_spanish_patient_is_all_spanish(now, rosa, doctor, front_desk):
    found: dict[str, str] = {}
    desk = desk_actor(front_desk)
    visit = services.book_appointment(
        patient=rosa,
        doctor=doctor,
        kind="consultation",
        starts_at=at(MONDAY + timedelta(3), 10),
        by=desk,
    )
    read_all(rosa, found)
    sending.send_batch(10)  # told of the booking: a move is news to tell now
    services.move_appointment(appointment=visit, starts_at=at(MONDAY + timedelta(4), 10), by=desk)
    read_all(rosa, found)
    sending.send_batch(10)
    services.cancel_appointment(appointment=visit, by=desk, cancelled_by="clinic", reason="x")
    read_all(rosa, found)
    plan = make_plan(rosa, doctor, sessions=2)
    first, _second = services.book_series(
        plan=plan,
        starts={1: at(MONDAY + timedelta(2), 9), 2: at(MONDAY + timedelta(37), 9)},
        by=desk,
    )
    read_all(rosa, found)
    with time_machine.travel(at(MONDAY + timedelta(2), 9, 30), tick=False):
        for status in (Status.CHECKED_IN, Status.COMPLETED):
            services.set_status(appointment=first, status=status, by=desk)
    reminders._write(
        key=f"touch-up:{plan.pk}",
        patient=rosa,
        due_at=at(MONDAY + timedelta(200), 9),
        kind=reminders.TOUCH_UP,
        plan=plan,
    )
    Client().post(reverse("password_reset"), {"email": rosa.portal_user.email})
    read_all(rosa, found)
    assert set(found) >= PATIENT_KINDS, PATIENT_KINDS - set(found)
    left = {kind: english_left(text) for kind, text in found.items()}
    assert not any(left.values()), {kind: words for kind, words in left.items() if words}


def test_the_sender_writes_in_the_language_the_patient_has_when_it_sends(
    now, rosa, doctor, front_desk
):
    rosa.language = "en"
    rosa.save()
    services.book_appointment(
        patient=rosa,
        doctor=doctor,
        kind="review",
        starts_at=at(MONDAY + timedelta(3), 10),
        by=desk_actor(front_desk),
    )
    rosa.language = "es"  # changed on the preferences page before the worker got to it
    rosa.save()
    sending.send_batch(10)
    (email,) = mail.outbox
    assert email.subject == "Programada: su cita del jueves, 3 de diciembre"
    assert (
        "Su Revisión de seguimiento está programada para el jueves, 3 de diciembre de 2026, 10:00"
        in email.body
    )


def test_a_message_to_staff_stays_in_english_when_it_was_queued_from_a_spanish_page(
    now, front_desk
):
    with translation.override("es"):
        outbox.put(
            outbox.Draft(
                key="pw-staff",
                kind="password_reset",
                staff=front_desk,
                channel=Channel.EMAIL,
                due_at=at(MONDAY, 6),
                give_up_at=at(MONDAY, 8),
            )
        )
    sending.send_batch(10)
    (email,) = mail.outbox
    assert "Someone asked to reset the password" in email.body


def test_a_spanish_page_queues_its_address_message_in_spanish(db, now):
    with translation.override("es"):
        outbox.put(
            outbox.Draft(
                key="addr",
                kind="online_booking_link",
                address="new@example.org",
                due_at=at(MONDAY, 6),
                give_up_at=at(MONDAY, 8),
            )
        )
    assert Message.objects.get(key="addr").language == "es"
    assert sending.language_of(Message.objects.get(key="addr")) == "es"


def test_the_warning_signs_in_place_of_declined_aftercare_are_in_spanish(
    now, rosa, doctor, front_desk
):
    rosa.consent_aftercare = False
    rosa.save()
    desk = desk_actor(front_desk)
    plan = make_plan(rosa, doctor, sessions=2)
    (first,) = services.book_series(plan=plan, starts={1: at(MONDAY + timedelta(2), 9)}, by=desk)
    sending.send_batch(10)
    mail.outbox.clear()
    with time_machine.travel(at(MONDAY + timedelta(2), 9, 30), tick=False):
        for status in (Status.CHECKED_IN, Status.COMPLETED):
            services.set_status(appointment=first, status=status, by=desk)
    with time_machine.travel(at(MONDAY + timedelta(2), 9, 31), tick=False):
        sending.send_batch(10)
    (safety,) = [email for email in mail.outbox if email.to == [rosa.email]]
    assert safety.subject == "Señales de alarma que debe vigilar después de su sesión"
    assert "dolor o hinchazón en la pantorrilla" in safety.body
    assert not english_left(f"{safety.subject} {safety.body}")
