"""Password guessing: five wrong passwords for one name from one address pause that pair for
15 minutes (settings LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES); a new password set through
the emailed link lifts the pause at once."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD
from tests.goodskin.test_passwords import NEW_PASSWORD, reset_link


def log_in(client, username: str, password: str, ip: str = "203.0.113.5"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def guess(client, username: str, times: int = 5, ip: str = "203.0.113.5") -> None:
    for _ in range(times):
        response = log_in(client, username, "wrong-guess", ip)
        assert response.status_code in (200, 429)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_it_lets_a_user_in_after_four_wrong_passwords(client, front_desk):
    guess(client, "fiona", times=4)
    assert log_in(client, "fiona", PASSWORD).status_code == 302
    assert logged_in(client)


def test_it_pauses_a_name_after_five_wrong_passwords_even_with_the_right_one(client, front_desk):
    guess(client, "fiona")
    response = log_in(client, "fiona", PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many attempts" in html
    assert "try again in 15 minutes" in html
    assert reverse("password_reset") in html
    assert not logged_in(client)


def test_it_counts_an_email_and_a_username_in_any_case_as_typed(client, patient):
    for name in ("PAT@example.org", " pat@example.org", "pat@Example.org", "Pat@example.org "):
        log_in(client, name, "wrong-guess")
    log_in(client, "pat@example.org", "wrong-guess")
    assert log_in(client, "pat@example.org", PASSWORD).status_code == 429


def test_it_pauses_the_name_and_address_together_not_the_whole_clinic(client, front_desk, doctor):
    guess(client, "fiona")
    # Another person behind the same router, and the same person from home, still get in.
    assert log_in(client, "dr.lee", PASSWORD).status_code == 302
    client.logout()
    assert log_in(client, "fiona", PASSWORD, ip="198.51.100.7").status_code == 302


def test_it_lets_the_user_in_again_after_the_pause(client, front_desk):
    guess(client, "fiona")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert log_in(client, "fiona", PASSWORD).status_code == 302


def test_a_new_password_from_the_emailed_link_lifts_the_pause(client, patient):
    guess(client, "pat@example.org")
    assert log_in(client, "pat@example.org", PASSWORD).status_code == 429
    link = reset_link(client, patient.email)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    client.logout()
    assert log_in(client, "pat@example.org", NEW_PASSWORD).status_code == 302


def test_a_right_password_clears_earlier_mistakes(client, front_desk):
    guess(client, "fiona", times=4)
    assert log_in(client, "fiona", PASSWORD).status_code == 302
    client.logout()
    guess(client, "fiona", times=4)
    assert log_in(client, "fiona", PASSWORD).status_code == 302


@pytest.mark.parametrize("path", ["/admin/login/"])
def test_the_admin_login_is_paused_the_same_way(client, clinic_admin, path):
    for _ in range(5):
        client.post(path, {"username": "boss", "password": "wrong"}, REMOTE_ADDR="203.0.113.5")
    response = client.post(
        path, {"username": "boss", "password": PASSWORD}, REMOTE_ADDR="203.0.113.5"
    )
    assert response.status_code == 429


def test_an_account_has_one_allowance_whether_named_by_username_or_email(client, front_desk):
    for name in ["fiona"] * 3 + [front_desk.email.upper()] * 2:
        log_in(client, name, "wrong-guess")
    assert log_in(client, "fiona", PASSWORD).status_code == 429


def test_behind_the_load_balancer_the_address_it_saw_is_counted(client, front_desk, settings):
    """The balancer appends the address it saw to X-Forwarded-For; the entries before it are
    whatever the client sent, so changing them on every try must not reset the count."""
    settings.BEHIND_TLS_PROXY = True
    for n in range(5):
        client.post(
            reverse("login"),
            {"username": "fiona", "password": "wrong-guess"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.5",
        )
    response = client.post(
        reverse("login"),
        {"username": "fiona", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5",
    )
    assert response.status_code == 429
