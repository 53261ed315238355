from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from goodskin.roles import Role, role_of


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--allow-production", *args, stdout=out)
    return out.getvalue()


def test_it_creates_demo_users_for_every_role(db):
    seed()
    roles = [role_of(u) for u in get_user_model().objects.all()]
    assert roles.count(Role.FRONT_DESK) == 1
    assert roles.count(Role.DOCTOR) == 2
    assert roles.count(Role.PATIENT) == 5
    assert roles.count(Role.ADMIN) == 1


def test_it_prints_logins_that_work(client, db):
    output = seed()
    line = next(line for line in output.splitlines() if "frontdesk" in line)
    username, password = line.split()[-2:]
    assert client.login(username=username, password=password)


def test_it_is_idempotent_and_prints_passwords_once(db):
    seed()
    output = seed()
    assert get_user_model().objects.count() == 9
    assert "already exist" in output
    assert "frontdesk" not in output


def test_it_prints_new_passwords_on_request(db):
    seed()
    assert "frontdesk" in seed("--reset-passwords")


def test_it_refuses_to_seed_a_production_database(db):
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", stdout=StringIO())
