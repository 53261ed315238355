"""The invitation link: the patient chooses a password once, within the days it works, and is
signed in to the portal; an old, used, expired or tampered link says so."""

import re
from datetime import timedelta

import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from goodskin.roles import Role, role_of
from patients.models import PortalInvitation
from tests.factories import PatientFactory

PASSWORD = "Leg-veins-2026!"


def invite(client, front_desk, patient) -> str:
    client.force_login(front_desk)
    client.post(reverse("patients:invite", args=[patient.pk]))
    client.logout()
    assert len(mail.outbox) == 1
    return re.search(r"http://testserver(/portal/welcome/\S+/)", mail.outbox[-1].body)[1]


def open_account(client, link):
    return client.post(link, {"password1": PASSWORD, "password2": PASSWORD}, follow=True)


def test_it_emails_a_link_that_opens_the_portal_account(client, front_desk):
    patient = PatientFactory(email="ann@example.org")
    link = invite(client, front_desk, patient)
    assert mail.outbox[0].to == ["ann@example.org"]
    assert mail.outbox[0].alternatives  # an HTML part too
    response = open_account(client, link)
    assert response.redirect_chain[-1][0] == reverse("portal:schedule")
    patient.refresh_from_db()
    assert role_of(patient.portal_user) == Role.PATIENT
    assert patient.portal_user.check_password(PASSWORD)
    client.logout()
    # Through the login page: the lockout backend needs the request.
    response = client.post(reverse("login"), {"username": "ann@example.org", "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_it_lets_a_link_work_only_once(client, front_desk):
    link = invite(client, front_desk, PatientFactory())
    open_account(client, link)
    client.logout()
    again = client.get(link)
    assert again.status_code == 404
    assert "This link no longer works" in again.content.decode()


def test_it_refuses_an_expired_link(client, front_desk, settings):
    patient = PatientFactory()
    link = invite(client, front_desk, patient)
    later = timezone.now() + timedelta(days=settings.PORTAL_INVITATION_DAYS, minutes=1)
    with time_machine.travel(later):
        response = open_account(client, link)
    assert "This link no longer works" in response.content.decode()
    patient.refresh_from_db()
    assert patient.portal_user is None


def test_it_refuses_a_tampered_link(client, front_desk):
    link = invite(client, front_desk, PatientFactory())
    response = client.get(link[:-3] + "xx/")
    assert response.status_code == 404
    assert "This link no longer works" in response.content.decode()


def test_it_replaces_an_earlier_link_with_a_new_one(client, front_desk):
    patient = PatientFactory()
    first = invite(client, front_desk, patient)
    mail.outbox.clear()
    invite(client, front_desk, patient)
    assert client.get(first).status_code == 404
    assert PortalInvitation.objects.filter(patient=patient).count() == 2


def test_it_asks_for_a_stronger_password(client, front_desk):
    link = invite(client, front_desk, PatientFactory())
    response = client.post(link, {"password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert "This password is too short." in response.content.decode()


def test_the_invitation_and_the_welcome_page_say_the_username(client, front_desk):
    patient = PatientFactory(email="Ann.Lee@Example.org")
    link = invite(client, front_desk, patient)
    email = mail.outbox[0]
    assert "Your username is ann.lee@example.org" in email.body
    assert "<strong>ann.lee@example.org</strong>" in email.alternatives[0][0]
    page = client.get(link).content.decode()
    assert "Your username is <strong>ann.lee@example.org</strong>" in page
    response = open_account(client, link)
    assert "Your username is ann.lee@example.org." in response.content.decode()
    patient.refresh_from_db()
    assert patient.portal_user.get_username() == "ann.lee@example.org"
