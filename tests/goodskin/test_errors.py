from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error


def test_it_shows_a_styled_404_for_an_unknown_url(client, front_desk):
    client.force_login(front_desk)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "We could not find that page" in body
    assert "bootstrap.min.css" in body


def test_it_shows_the_404_page_to_anonymous_visitors_too(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_it_shows_a_styled_403_to_the_wrong_role(client, patient):
    client.force_login(patient)
    response = client.get(reverse("frontdesk_home"))
    assert response.status_code == 403
    assert "This page is not open to your account" in response.content.decode()


def test_it_renders_the_500_page_without_any_context():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_it_explains_an_expired_form_instead_of_a_bare_csrf_error(db):
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_it_never_shows_the_debug_page_in_production_mode(client, db, settings):
    assert settings.DEBUG is False
    assert "Traceback" not in client.get("/no-such-page/").content.decode()
