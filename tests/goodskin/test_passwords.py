import re
from datetime import timedelta

import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from messaging import sending
from tests.factories import PASSWORD

NEW_PASSWORD = "a-new-Password-for-2026"


def reset_link(client, email: str) -> str:
    """Ask for the link, let the outbox send it (as the worker would), read it."""
    client.post(reverse("password_reset"), {"email": email})
    sending.send_batch(10)
    assert len(mail.outbox) == 1
    return re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", mail.outbox[0].body)[1]


def test_it_changes_a_password(client, front_desk):
    client.force_login(front_desk)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your password has been changed" in response.content.decode()
    front_desk.refresh_from_db()
    assert front_desk.check_password(NEW_PASSWORD)


def test_it_refuses_a_password_change_with_the_wrong_old_password(client, front_desk):
    client.force_login(front_desk)
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    front_desk.refresh_from_db()
    assert front_desk.check_password(PASSWORD)


def test_it_emails_a_reset_link_that_sets_a_new_password(client, patient):
    link = reset_link(client, patient.email)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your new password is saved" in done.content.decode()
    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)


def test_it_says_the_same_for_an_unknown_address_and_sends_nothing(client, db):
    response = client.post(reverse("password_reset"), {"email": "who@example.org"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_it_refuses_a_reset_link_used_twice(client, patient):
    link = reset_link(client, patient.email)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    again = client.get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_it_refuses_an_expired_reset_link(client, patient, settings):
    link = reset_link(client, patient.email)
    later = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with time_machine.travel(later):
        response = client.get(link, follow=True)
    assert "This link no longer works" in response.content.decode()
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)
