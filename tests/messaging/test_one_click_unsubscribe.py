"""RFC 8058 one-click unsubscribe: a mail program's POST stops the messages with no CSRF token
and no confirm step; a person who opens the link sees a question first, and a GET never
changes anything; a link that is forged or signed with a retired key gets a clear page."""

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from messaging.outbox import UNSUBSCRIBE_SALT, unsubscribe_url
from patients.models import AuditEntry
from tests.factories import PatientFactory

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def record(db):
    return PatientFactory(consent_email=True, consent_reminders=True, consent_aftercare=True)


@pytest.fixture
def mail_client():
    # What a mail program, or a browser without the site's cookie sends: no CSRF token.
    return Client(enforce_csrf_checks=True)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def choices(patient) -> tuple[bool, bool, bool]:
    patient.refresh_from_db()
    return patient.consent_reminders, patient.consent_aftercare, patient.consent_email


def test_a_one_click_post_stops_reminders_without_a_confirm_step(mail_client, record):
    path = path_of(unsubscribe_url(record.pk, "email", "reminders"))
    response = mail_client.post(path, ONE_CLICK)
    assert response.status_code == 200
    assert "Appointment reminders are turned off" in response.content.decode()
    assert choices(record) == (False, True, True)
    assert AuditEntry.objects.filter(patient=record, details__via="unsubscribe link").exists()


def test_a_one_click_post_of_an_aftercare_link_stops_only_the_advice(mail_client, record):
    path = path_of(unsubscribe_url(record.pk, "email", "aftercare"))
    assert mail_client.post(path, ONE_CLICK).status_code == 200
    assert choices(record) == (True, False, True)


def test_a_person_who_opens_the_link_is_asked_first(mail_client, record):
    path = path_of(unsubscribe_url(record.pk, "email", "reminders"))
    page = mail_client.get(path)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Stop appointment reminders" in text and "Yes, stop appointment reminders" in text
    assert '<form method="post">' in text
    assert choices(record) == (True, True, True)


@pytest.mark.parametrize("query", [{}, ONE_CLICK])
def test_a_get_never_unsubscribes(mail_client, record, query):
    path = path_of(unsubscribe_url(record.pk, "sms", "aftercare"))
    assert mail_client.get(path, query).status_code == 200
    assert mail_client.head(path).status_code == 200
    assert choices(record) == (True, True, True)
    assert not AuditEntry.objects.filter(patient=record).exists()


def test_the_confirm_button_stops_the_messages_without_a_csrf_cookie(mail_client, record):
    path = path_of(unsubscribe_url(record.pk, "email", "reminders"))
    mail_client.get(path)
    # The page's button posts an empty form (its CSRF token is not needed: the link is the key).
    done = mail_client.post(path)
    assert done.status_code == 200
    assert "no more appointment reminders" in done.content.decode()
    assert choices(record) == (False, True, True)


def test_a_second_one_click_post_says_the_same_and_changes_nothing_more(mail_client, record):
    path = path_of(unsubscribe_url(record.pk, "email", "reminders"))
    mail_client.post(path, ONE_CLICK)
    again = mail_client.post(path, ONE_CLICK)
    assert again.status_code == 200
    assert "Appointment reminders are turned off" in again.content.decode()
    assert AuditEntry.objects.filter(patient=record).count() == 1


def forged(record) -> str:
    good = signing.dumps({"p": record.pk, "c": "email", "k": "reminders"}, salt=UNSUBSCRIBE_SALT)
    return good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")


def retired_key(record) -> str:
    # Signed with a key the clinic no longer uses (rotated out of SECRET_KEY_FALLBACKS).
    return signing.dumps(
        {"p": record.pk, "c": "email", "k": "reminders"},
        key="an-old-key-that-was-rotated-out-" * 2,
        salt=UNSUBSCRIBE_SALT,
    )


def other_salt(record) -> str:
    # A token the site signed for something else (a password reset, say) is no stop link.
    return signing.dumps({"p": record.pk, "c": "email", "k": "reminders"}, salt="elsewhere")


@pytest.mark.parametrize("make", [forged, retired_key, other_salt])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_link_answers_a_clear_page_and_changes_nothing(mail_client, record, make, method):
    path = reverse("messaging:unsubscribe", args=[make(record)])
    response = getattr(mail_client, method)(path, ONE_CLICK)
    assert response.status_code == 404
    text = response.content.decode()
    assert "This link no longer works" in text and "Please call the clinic" in text
    assert choices(record) == (True, True, True)
    assert not AuditEntry.objects.filter(patient=record).exists()


@pytest.mark.parametrize("token", ["x", "a:b:c", "ü" * 300, ".eJw:1:2"])
def test_garbage_in_the_link_is_never_a_500(mail_client, db, token):
    for method in ("get", "post"):
        response = getattr(mail_client, method)(f"/messages/stop/{token}/", ONE_CLICK)
        assert response.status_code == 404, (token, method)
        assert "This link no longer works" in response.content.decode()


def test_a_nul_in_the_link_is_a_bad_request_not_a_500(mail_client, db):
    # Refused before any view (goodskin.middleware.RefuseNulMiddleware).
    for method in ("get", "post"):
        response = getattr(mail_client, method)("/messages/stop/%00/", ONE_CLICK)
        assert response.status_code == 400, method


def test_a_link_of_a_record_that_no_longer_exists_answers_the_clear_page(mail_client, db):
    path = path_of(unsubscribe_url(987654, "email", "reminders"))
    response = mail_client.post(path, ONE_CLICK)
    assert response.status_code == 404
    assert "This link no longer works" in response.content.decode()


def test_other_methods_are_refused_and_change_nothing(mail_client, record):
    path = path_of(unsubscribe_url(record.pk, "email", "reminders"))
    for method in ("put", "delete", "patch"):
        assert getattr(mail_client, method)(path).status_code == 405, method
    assert choices(record) == (True, True, True)
