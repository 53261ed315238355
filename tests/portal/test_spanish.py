"""Issue 16, point 2: a patient who reads Spanish sees every page of theirs in Spanish. The
test walks every portal address (a new one fails until it is added here), the public pages,
the login, password and two-step pages and the error pages, in Spanish, and finds no English
sentence left on any of them (tests/english.py says how English is recognised)."""

import re
from datetime import timedelta

import icalendar
import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.urls import resolve, reverse
from django.utils import timezone, translation

from messaging import outbox, sending
from patients import services as patient_services
from patients.models import Patient, Purpose
from patients.screening import QUESTIONS
from scheduling import feed_services, services
from scheduling.models import Kind
from tests.english import english_left, visible
from tests.factories import PatientFactory, screen
from tests.portal.test_layout import portal_routes
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import chart_session, make_plan

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}
# Portal addresses that are not pages to read: a file for another program, or a form's
# target that only takes a POST (its answer is a page tested here, or a redirect to one).
NOT_PAGES = {
    "portal:my_record_json",
    "portal:my_record_pdf",
    "portal:aftercare_sheet_pdf",  # tests/scheduling/test_printouts.py reads its text
    "portal:plan_summary_pdf",
    "portal:undo_cancel",
    "portal:leave_waitlist",
}
ICS = {"portal:appointment_ics", "portal:feed"}


@pytest.fixture
def me(patient, hours):
    """A patient who reads Spanish, with a plan under way and visits past and to come."""
    hours.address = "1200 SW Main St, Portland OR"
    hours.phone = "(503) 555-0100"
    hours.save()
    record = PatientFactory(
        portal_user=patient,
        legal_first_name="Rosa",
        legal_last_name="Quintana",
        language="es",
        consent_email=True,
    )
    screen(record, **{q.key: "no" for q in QUESTIONS})
    return record


@pytest.fixture
def visits(now, me, doctor, front_desk):
    plan = make_plan(me, doctor, sessions=4)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=40))
    booked = services.book_appointment(
        patient=me,
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=3), 10),
        by=desk_actor(front_desk),
        kind=Kind.SESSION,
        plan=plan,
        session_number=2,
    )
    review = services.book_appointment(
        patient=me,
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=4), 11),
        by=desk_actor(front_desk),
        kind=Kind.REVIEW,
    )
    services.cancel_appointment(
        appointment=review, by=desk_actor(front_desk), cancelled_by="patient", reason="ill"
    )
    return {"plan": plan, "booked": booked, "cancelled": review}


def portal_pages(visits, me) -> dict[str, str]:
    """An address of every portal page, with this patient's own rows in it."""
    feed = feed_services.new_calendar_feed(patient=me)
    booked, plan = visits["booked"].pk, visits["plan"].pk
    return {
        "portal:schedule": reverse("portal:schedule"),
        "portal:appointment": reverse("portal:appointment", args=[booked]),
        "portal:cancel": reverse("portal:cancel", args=[booked]),
        "portal:move": reverse("portal:move", args=[booked]),
        "portal:appointment_ics": reverse("portal:appointment_ics", args=[booked]),
        "portal:book": reverse("portal:book"),
        "portal:book_sent": reverse("portal:book_sent"),
        "portal:book_confirm": reverse("portal:book_confirm", args=["no-such-link"]),
        "portal:book_next": reverse("portal:book_next"),
        "portal:screening": reverse("portal:screening"),
        "portal:calendar": reverse("portal:calendar"),
        "portal:feed": reverse("portal:feed", args=[feed.token]),
        "portal:preferences": reverse("portal:preferences"),
        "portal:my_record": reverse("portal:my_record"),
        "portal:open_account": reverse("portal:open_account", args=["no-such-token"]),
        "portal:treatment": reverse("portal:treatment"),
        "portal:plan": reverse("portal:plan", args=[plan]),
        "portal:plan_summary": reverse("portal:plan_summary", args=[plan]),
        "portal:aftercare_sheet": reverse("portal:aftercare_sheet", args=[booked]),
        "portal:check_in": check_in_link(visits["plan"]),
        "portal:waitlist": reverse("portal:waitlist"),
        "portal:waitlist_offer": waitlist_offer_link(me),
    }


def waitlist_offer_link(me) -> str:
    """A real offer to this patient: another patient's visit cancelled, offered to her."""
    from django.test import override_settings

    from scheduling.models import Appointment, WaitlistOffer
    from scheduling.services import waitlist

    waitlist.add_to_waitlist(
        patient=me,
        wish=waitlist.Wish(kind=Kind.CONSULTATION, not_before=timezone.localdate()),
        by=desk_actor(front_desk_user()),
    )
    doctor = Appointment.objects.filter(patient=me).first().doctor
    other = services.book_appointment(
        patient=PatientFactory(),
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=2), 14),
        by=desk_actor(front_desk_user()),
        kind=Kind.CONSULTATION,
    )
    services.cancel_appointment(
        appointment=other, by=desk_actor(front_desk_user()), cancelled_by="clinic", reason="ill"
    )
    with override_settings(WAITLIST_OFFER_FROM_HOUR=0, WAITLIST_OFFER_UNTIL_HOUR=24):
        waitlist.offer_openings()
    offer = WaitlistOffer.objects.get(entry__patient=me)
    return reverse("portal:waitlist_offer", args=[waitlist.token_for(offer.nonce)])


def front_desk_user():
    from goodskin.roles import Role
    from tests.factories import UserFactory

    return UserFactory(username="fiona", role=Role.FRONT_DESK)


def check_in_link(plan) -> str:
    from treatments import check_ins

    check_in = check_ins.create(
        plan=plan,
        appointment_id=visits_first_id(plan),
        session_on=timezone.localdate() - timedelta(days=1),
        days_after=1,
        due_at=timezone.now() - timedelta(hours=1),
    )
    return reverse("portal:check_in", args=[check_ins.token_for(check_in.nonce)])


def visits_first_id(plan) -> int:
    return plan.appointments.order_by("pk").values_list("pk", flat=True).first() or 1


def assert_spanish(where: str, text: str) -> None:
    left = english_left(text)
    assert not left, f"English left on {where}: {left}"


def test_every_portal_page_is_in_spanish_for_a_patient_who_reads_it(client, patient, me, visits):
    client.force_login(patient)
    pages = portal_pages(visits, me)
    names = {resolve(path).view_name for path in portal_routes()}
    assert names == set(pages) | NOT_PAGES, "a portal page is missing from this test"
    for name, path in pages.items():
        response = client.get(path, follow=True)
        assert response.status_code in (200, 404), (name, response.status_code)
        if name in ICS:
            calendar = icalendar.Calendar.from_ical(response.content)
            for event in calendar.walk("VEVENT"):
                assert_spanish(name, f"{event['SUMMARY']} {event['DESCRIPTION']}")
        else:
            assert response.headers["Content-Language"] == "es", name
            assert_spanish(name, visible(response.content.decode()))


def test_the_public_and_login_pages_are_in_spanish_for_a_spanish_browser(client, now, hours):
    someone = PatientFactory()
    paths = [
        reverse("login"),
        reverse("password_reset"),
        reverse("password_reset_done"),
        reverse("password_reset_confirm", args=["MQ", "set-password"]),
        reverse("password_reset_complete"),
        reverse("portal:book"),
        reverse("portal:book_sent"),
        reverse("portal:book_confirm", args=["no-such-link"]),
        reverse("portal:open_account", args=["no-such-token"]),
        "/" + outbox.unsubscribe_url(someone.pk, "email", Purpose.REMINDERS).split("/", 3)[3],
        reverse("messaging:unsubscribe", args=["no-such-link"]),
        "/no-such-page/",
    ]
    for path in paths:
        response = client.get(path, **SPANISH)
        assert response.headers["Content-Language"] == "es", path
        assert_spanish(path, visible(response.content.decode()))


def test_the_account_pages_of_a_logged_in_patient_are_in_spanish(client, patient, me):
    client.force_login(patient)
    for name in ("password_change", "two_factor_manage", "two_factor_setup"):
        response = client.get(reverse(name), follow=True)
        assert response.status_code == 200, name
        assert_spanish(name, visible(response.content.decode()))


def test_the_error_pages_are_in_spanish():
    with translation.override("es"):
        for name in ("400.html", "403.html", "403_csrf.html", "404.html", "500.html"):
            assert_spanish(name, visible(render_to_string(name)))


def test_the_welcome_page_and_the_online_booking_pages_with_real_links_are_in_spanish(
    client, now, hours, front_desk
):
    newcomer = PatientFactory(language="es", email="lucia@example.org")
    links = []
    patient_services.invite_to_portal(
        patient=newcomer, by=desk_actor(front_desk), link_for=lambda token: links.append(token)
    )
    page = client.get(reverse("portal:open_account", args=links), **SPANISH)
    assert page.status_code == 200
    assert_spanish("the welcome page", visible(page.content.decode()))
    (invitation,) = mail.outbox
    assert_spanish("the invitation email", f"{invitation.subject} {invitation.body}")

    form = client.get(reverse("portal:book"), **SPANISH).context["form"]
    answer = {
        "starts_at": next(iter(form.options)),
        "legal_first_name": "Marisol",
        "legal_last_name": "Quintero",
        "date_of_birth": "1984-03-09",
        "email": "marisol.q@example.net",
        "phone": "+15035550142",
        "consent_email": "on",
        "form_token": form.initial["form_token"],
        **{q.key: "no" for q in QUESTIONS},
    }
    client.post(reverse("portal:book"), answer, **SPANISH)
    sending.send_batch(10)
    email = mail.outbox[-1]
    assert_spanish("the online booking link", f"{email.subject} {email.body}")
    link = "/" + email.body.split("/portal/book/confirm/")[1].split()[0]
    page = client.get(f"/portal/book/confirm/{link.strip('/')}/", **SPANISH)
    assert page.status_code == 200
    assert_spanish("the confirmation page", visible(page.content.decode()))
    page = client.post(f"/portal/book/confirm/{link.strip('/')}/", **SPANISH)
    assert_spanish("the confirmed page", visible(page.content.decode()))
    # The record made from it speaks Spanish: so does the message about the booking.
    assert Patient.objects.get(email="marisol.q@example.net").language == "es"
    sending.send_batch(10)
    booked = mail.outbox[-1]
    assert booked.subject.startswith("Programada: su cita del")
    assert_spanish("the booking's message", f"{booked.subject} {booked.body}")


def test_the_preferences_page_keeps_the_patients_language_on_the_record(client, patient, me):
    client.force_login(patient)
    page = client.get(reverse("portal:preferences"))
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(language="en", reminder_channel="email", consent_email="on")
    data.pop("consent_sms", None)
    response = client.post(reverse("portal:preferences"), data)
    assert response.status_code == 302
    me.refresh_from_db()
    assert me.language == "en"
    assert "My schedule" in client.get(reverse("portal:schedule")).content.decode()


def test_the_schedule_writes_the_days_and_times_the_spanish_way(client, patient, visits):
    client.force_login(patient)
    body = visible(client.get(reverse("portal:schedule")).content.decode())
    assert "jueves, 3 de diciembre · 10:00" in body
    assert "14 días" in body and "14 days" not in body


def test_the_leg_pictures_coordinates_are_not_written_with_a_decimal_comma(client, patient, visits):
    """In Spanish 142.5 is written "142,5", which SVG reads as two x positions: the labels
    over the legs broke apart on the Spanish schedule (seen on its screenshot)."""
    client.force_login(patient)
    page = client.get(reverse("portal:schedule")).content.decode()
    assert "Derecha" in page
    assert not re.search(r'<text x="[\d.]+,', page)


def test_the_printed_aftercare_sheet_is_in_the_patients_language(client, front_desk, visits):
    client.force_login(front_desk)
    path = reverse("scheduling:aftercare_sheet", args=[visits["booked"].pk])
    page = visible(client.get(path).content.decode())
    assert "Su sesión: jueves, 3 de diciembre de 2026" in page
    assert_spanish("the aftercare sheet", page.split("Saltar al contenido principal")[-1])


@pytest.mark.parametrize("answers", [["fine"], ["hard_leg"], ["chest"], ["sore", "vision"]])
def test_the_check_in_speaks_the_patients_language_with_no_login(client, me, visits, answers):
    """The link was sent to a Spanish-speaking patient: the question and every answer page are
    in Spanish for whoever opens it, with no login and no chooser used."""
    path = check_in_link(visits["plan"])
    page = client.get(path)
    assert page.headers["Content-Language"] == "es"
    assert_spanish("check-in", visible(page.content.decode()))
    token = page.context["form"].initial["form_token"]
    answered = client.post(path, {"answers": answers, "form_token": token})
    assert answered.headers["Content-Language"] == "es"
    assert_spanish(f"check-in answered {answers}", visible(answered.content.decode()))


def test_the_check_in_error_pages_are_in_spanish_for_a_spanish_browser(client, now, hours):
    for path in (reverse("portal:check_in", args=["no-such-link"]),):
        response = client.get(path, **SPANISH)
        assert response.headers["Content-Language"] == "es", path
        assert_spanish(path, visible(response.content.decode()))
