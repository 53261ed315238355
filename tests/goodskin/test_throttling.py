"""Issue 14, point 3: password spraying is slowed. Besides one name from one address
(test_lockout.py), too many wrong passwords from one address for any names, or for one name
from any addresses, pause that address or that name, with the same answer whether the name
exists or not."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from goodskin.roles import Role
from tests.factories import PASSWORD, UserFactory
from tests.goodskin.test_lockout import log_in, logged_in

SPRAYER = "198.51.100.7"


@pytest.fixture
def staff(db):
    return [UserFactory(username=f"staff{n}", role=Role.FRONT_DESK) for n in range(5)]


def spray(client, names, *, per_name: int, ip: str = SPRAYER) -> None:
    for name in names:
        for _ in range(per_name):
            assert log_in(client, name, "Winter2026!", ip).status_code in (200, 429)


def test_four_guesses_at_each_of_five_names_from_one_address_pause_the_address(client, staff):
    spray(client, [u.username for u in staff[:4]], per_name=4)  # 16 wrong passwords
    # Each name is below its own limit, yet the address is paused, for every name.
    for user in staff:
        answer = log_in(client, user.username, PASSWORD, SPRAYER)
        assert answer.status_code == 429 and "Too many attempts" in answer.content.decode()
        assert not logged_in(client)
    # Someone else, elsewhere, logs in as usual.
    assert log_in(client, staff[4].username, PASSWORD, "192.0.2.44").status_code == 302


def test_guesses_at_one_name_from_many_addresses_pause_that_name(client, staff):
    for n in range(10):
        assert log_in(client, "staff0", "wrong", f"203.0.113.{n + 10}").status_code == 200
    assert log_in(client, "staff0", PASSWORD, "192.0.2.44").status_code == 429
    assert log_in(client, "staff1", PASSWORD, "192.0.2.44").status_code == 302


def test_an_unknown_name_gets_the_same_answers_as_a_known_one(client, staff):
    answers = {}
    for name in ("staff0", "nobody-here"):
        for n in range(10):
            log_in(client, name, "wrong", f"203.0.113.{n + 10}")
        response = log_in(client, name, "wrong", "192.0.2.44")
        answers[name] = (response.status_code, response.content.decode().count("Too many"))
    assert answers["staff0"] == answers["nobody-here"]
    assert answers["staff0"][0] == 429


def test_the_pause_ends_after_the_lockout_minutes(client, staff):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        spray(client, [u.username for u in staff[:4]], per_name=4)
        assert log_in(client, "staff4", PASSWORD, SPRAYER).status_code == 429
        clock.shift(timedelta(minutes=16))
        assert log_in(client, "staff4", PASSWORD, SPRAYER).status_code == 302


def test_the_limits_are_settings(client, staff, settings):
    settings.LOGIN_ADDRESS_LIMIT = 3
    spray(client, ["staff0", "staff1", "staff2"], per_name=1)
    assert log_in(client, "staff3", PASSWORD, SPRAYER).status_code == 429


def test_a_name_with_a_nul_gets_the_normal_answer(client, staff):
    assert log_in(client, "staff\x000", "wrong").status_code == 200


def test_a_megabyte_password_is_refused_before_it_is_hashed(client, staff):
    response = log_in(client, "staff0", "x" * 1_000_000)
    assert response.status_code == 200
    assert "at most 256 characters" in response.content.decode()
    assert not logged_in(client)


def test_a_new_password_is_at_most_256_characters(staff):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="at most 256"):
        validate_password("Aa1!" * 100, staff[0])
    validate_password("a long but fine passphrase for 2026", staff[0])
