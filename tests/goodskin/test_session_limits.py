"""Issue 14, point 2: a staff session ends after 15 idle minutes and 12 hours in all (a
patient's after 30 idle minutes), with a warning a minute before on every page; the session
key changes at login."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD

MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def home(client):
    return client.get(reverse("frontdesk_home"))


def test_a_staff_session_ends_after_fifteen_idle_minutes_and_says_why(client, clock, front_desk):
    client.force_login(front_desk)
    assert home(client).status_code == 200
    clock.shift(14 * MINUTE)
    assert home(client).status_code == 200  # a request restarts the count
    clock.shift(14 * MINUTE)
    assert home(client).status_code == 200
    clock.shift(16 * MINUTE)
    ended = home(client)
    assert ended.status_code == 302
    assert ended.url.startswith(reverse("login") + "?next=")
    page = client.get(ended.url).content.decode()
    assert "You were logged out after 15 minutes without activity." in page
    assert "_auth_user_id" not in client.session


def test_a_patients_session_waits_thirty_idle_minutes(client, clock, patient):
    client.force_login(patient)
    assert client.get(reverse("portal:schedule")).status_code == 200
    clock.shift(29 * MINUTE)
    assert client.get(reverse("portal:schedule")).status_code == 200
    clock.shift(31 * MINUTE)
    assert client.get(reverse("portal:schedule")).status_code == 302


def test_every_session_ends_twelve_hours_after_login_however_busy(client, clock, doctor):
    client.force_login(doctor)
    for _ in range(12 * 60 // 14):
        clock.shift(14 * MINUTE)
        assert client.get(reverse("doctor_home")).status_code == 200
    clock.shift(14 * MINUTE)  # 12 h 6 min after login, 14 min after the last request
    ended = client.get(reverse("doctor_home"))
    assert ended.status_code == 302
    assert "a session lasts at most 12 hours" in client.get(ended.url).content.decode()


@pytest.mark.parametrize("method", ["post", "get"])
def test_a_form_posted_after_the_limit_changes_nothing_and_asks_to_log_in(
    client, clock, front_desk, method
):
    client.force_login(front_desk)
    clock.shift(16 * MINUTE)
    response = getattr(client, method)(reverse("patients:create"), {"legal_first_name": "A"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_background_request_after_the_limit_gets_401_for_the_page_to_act_on(
    client, clock, front_desk
):
    client.force_login(front_desk)
    clock.shift(16 * MINUTE)
    assert client.get(reverse("patients:list"), headers={"HX-Request": "true"}).status_code == 401


def test_stay_logged_in_restarts_the_idle_count_and_says_how_long_is_left(
    client, clock, front_desk
):
    client.force_login(front_desk)
    clock.shift(14 * MINUTE)
    answer = client.post(reverse("keep_alive"))
    assert answer.status_code == 200
    assert answer.json() == {"idle": 15 * 60, "left": 12 * 3600 - 14 * 60}
    clock.shift(14 * MINUTE)
    assert home(client).status_code == 200
    assert client.get(reverse("keep_alive")).status_code == 405
    client.logout()
    assert client.post(reverse("keep_alive")).status_code == 302  # to the login page


def test_every_page_carries_the_limits_and_the_warning_for_its_script(client, front_desk, patient):
    client.force_login(front_desk)
    page = home(client).content.decode()
    assert 'data-session-idle="900"' in page and 'data-session-warning="60"' in page
    assert 'id="session-warning"' in page and "js/session.js" in page
    client.force_login(patient)
    page = client.get(reverse("portal:schedule")).content.decode()
    assert 'data-session-idle="1800"' in page
    client.logout()
    assert "data-session-idle" not in client.get(reverse("login")).content.decode()


def test_the_session_key_changes_at_login(client, front_desk):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    client.post(reverse("login"), {"username": front_desk.username, "password": PASSWORD})
    assert client.session.get("_auth_user_id") == str(front_desk.pk)
    assert client.session.session_key != before


def test_the_limits_are_settings(client, clock, front_desk, settings):
    settings.STAFF_IDLE_MINUTES = 5
    settings.SESSION_MAX_HOURS = 1
    client.force_login(front_desk)
    clock.shift(6 * MINUTE)
    assert home(client).status_code == 302
