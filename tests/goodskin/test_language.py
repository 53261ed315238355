"""Issue 16, point 2: the language of the pages. English unless the browser asks for Spanish
(Accept-Language) or the visitor chose it with the chooser on every page; a logged-in
patient's pages follow the language on their record, and the chooser keeps their choice
there."""

import pytest
from django.conf import settings
from django.urls import reverse

from patients.models import AuditEntry
from tests.factories import PASSWORD, PatientFactory

LOGIN = reverse("login")
CHOOSER = reverse("set_language")


@pytest.fixture
def rosa(patient):
    return PatientFactory(portal_user=patient, language="en")


def test_it_speaks_english_when_the_browser_asks_for_nothing(client, db):
    page = client.get(LOGIN)
    assert page.headers["Content-Language"] == "en"
    assert "Log in" in page.content.decode()


def test_it_speaks_spanish_to_a_browser_that_asks_for_it(client, db):
    page = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    assert page.headers["Content-Language"] == "es"
    assert '<html lang="es">' in page.content.decode()
    assert "Iniciar sesión" in page.content.decode()


def test_every_page_has_the_chooser_with_both_languages(client, db):
    page = client.get(LOGIN).content.decode()
    assert f'action="{CHOOSER}"' in page
    assert 'value="es" lang="es"' in page and "Español" in page
    assert 'value="en" lang="en" selected' in page


def test_an_anonymous_visitor_chooses_spanish_and_keeps_it(client, db):
    response = client.post(
        CHOOSER, {"language": "es"}, HTTP_REFERER="http://testserver/portal/book/"
    )
    assert response.status_code == 302 and response.url == "http://testserver/portal/book/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    page = client.get(reverse("portal:book"))
    assert page.headers["Content-Language"] == "es"
    assert "Pedir una consulta" in page.content.decode()


def test_the_chooser_needs_no_login_and_no_csrf_token(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(CHOOSER, {"language": "es"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"


@pytest.mark.parametrize("language", ["xx", "fr", "", "es\x00", "../../etc"])
def test_a_language_the_site_does_not_offer_changes_nothing(client, db, language):
    response = client.post(CHOOSER, {"language": language, "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_chooser_only_takes_a_post(client, db):
    assert client.get(CHOOSER).status_code == 405


def test_a_logged_in_patient_choosing_spanish_keeps_it_on_their_record(client, patient, rosa):
    client.force_login(patient)
    client.post(CHOOSER, {"language": "es"})
    rosa.refresh_from_db()
    assert rosa.language == "es"
    assert AuditEntry.objects.filter(
        patient=rosa, subject="patient", details__fields__language__isnull=False
    ).exists()
    page = client.get(reverse("portal:schedule"))
    assert "Mis citas" in page.content.decode()


def test_a_patient_who_logs_in_sees_the_language_on_their_record(client, patient, rosa):
    rosa.language = "es"
    rosa.save()
    client.post(LOGIN, {"username": patient.username, "password": PASSWORD})
    page = client.get(reverse("portal:schedule"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.headers["Content-Language"] == "es"
    assert "Mis citas" in page.content.decode()


def test_a_staff_member_choosing_spanish_changes_only_the_pages(client, front_desk):
    client.force_login(front_desk)
    client.post(CHOOSER, {"language": "es"})
    page = client.get(reverse("frontdesk_home"))
    assert page.headers["Content-Language"] == "es"
    assert "Buscar un paciente" in page.content.decode()


def test_the_front_desk_sets_a_patients_language_on_the_patient_form(client, front_desk):
    record = PatientFactory()
    client.force_login(front_desk)
    page = client.get(reverse("patients:edit", args=[record.pk]))
    assert 'name="language"' in page.content.decode()
