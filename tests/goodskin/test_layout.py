import re

from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from goodskin.roles import Role


def test_it_serves_bootstrap_and_htmx_from_the_app_not_a_cdn(client, db):
    body = client.get(reverse("login")).content.decode()
    assert "/static/bootstrap/css/bootstrap.min.css" in body
    assert "/static/django_htmx/htmx-2.min.js" in body
    assert not re.search(r"(src|href)=\"https?://", body)
    for asset in (
        "bootstrap/css/bootstrap.min.css",
        "bootstrap/js/bootstrap.bundle.min.js",
        "django_htmx/htmx-2.min.js",
        "css/goodskin.css",
    ):
        assert finders.find(asset), asset
        assert client.get(f"/static/{asset}").status_code == 200, asset


def test_it_uses_crispy_forms_with_bootstrap_5(client, db):
    assert settings.CRISPY_TEMPLATE_PACK == "bootstrap5"
    body = client.get(reverse("login")).content.decode()
    assert 'class="textinput form-control"' in body


def test_it_shows_each_role_only_its_own_navigation(client, users_by_role):
    expected = {
        Role.FRONT_DESK: "Front desk",
        Role.DOCTOR: "My day",
        Role.PATIENT: "My schedule",
    }
    for role, label in expected.items():
        client.force_login(users_by_role[role])
        nav = client.get(reverse("home"), follow=True).content.decode().split("</nav>")[0]
        assert f">{label}</a>" in nav, role
        for other_label in set(expected.values()) - {label}:
            assert f">{other_label}</a>" not in nav, (role, other_label)


def test_the_doctor_s_home_is_called_home_not_alerts(client, users_by_role):
    """It shows today's patients and charts to sign beside the alerts; "My day" is the
    doctor's schedule, a page of its own."""
    client.force_login(users_by_role[Role.DOCTOR])
    page = client.get(reverse("doctor_home")).content.decode()
    nav = page.split("</nav>")[0]
    assert f'href="{reverse("doctor_home")}"' in nav and ">Home</a>" in nav
    assert ">Alerts</a>" not in nav
    assert "<title>Home" in page


def test_it_fits_a_phone_screen(client, db):
    body = client.get(reverse("login")).content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
