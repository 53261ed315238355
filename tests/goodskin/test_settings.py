import secrets
import zoneinfo

import time_machine
from django.conf import settings
from django.db import connection

from tests.helpers import manage, python

PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "clinic.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://clinic.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/goodskin",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}


def test_it_passes_the_deploy_check_in_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_it_refuses_to_start_in_production_without_a_secret_key():
    result = manage("check", env=PRODUCTION)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_refuses_the_development_key_in_production():
    result = manage("check", env={**PRODUCTION, "SECRET_KEY": "insecure-" + "x" * 60})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_runs_with_no_configuration_on_sqlite_and_a_folder_broker():
    result = python(
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], "
        "s.DATABASES['default']['OPTIONS']['transaction_mode'], s.CELERY_BROKER_URL)",
        env={"DEBUG": "true"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "IMMEDIATE", "filesystem://"]


def test_it_stores_utc_and_shows_the_clinic_zone(db):
    assert settings.USE_TZ is True
    assert zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE).key == "America/Los_Angeles"
    # The clinic's zone is the default everywhere; the database still stores and compares UTC.
    assert settings.TIME_ZONE == settings.CLINIC_TIME_ZONE
    with connection.cursor() as cursor:
        cursor.execute("SHOW TIME ZONE")
        assert cursor.fetchone()[0] == "UTC"


def test_it_uses_postgresql_and_redis_in_tests():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")


@time_machine.travel("2026-11-26 03:30:00+00:00", tick=False)
def test_it_shows_today_in_clinic_time(client, front_desk):
    # 03:30 UTC on the 26th is still the evening of the 25th in Oregon.
    client.force_login(front_desk)
    assert "Wednesday, November 25, 2026" in client.get("/desk/").content.decode()


def test_requirements_name_every_package_of_the_design_card():
    """DESIGN.md: requirements.txt names every package of the card, pytest-django included."""
    from pathlib import Path

    lines = (Path(__file__).resolve().parents[2] / "requirements.txt").read_text().splitlines()
    pinned = {
        line.split("==")[0].split("[")[0].strip().lower()
        for line in lines
        if "==" in line and not line.startswith("#")
    }
    card = {"django", "django-crispy-forms", "crispy-bootstrap5", "celery", "redis"}
    assert card | {"psycopg2-binary", "pytest-django"} <= pinned
