import json
import secrets

from django.test import override_settings

from tests.helpers import python

HEALTHZ_IN_CHILD = """
from django.test import Client
r = Client().get('/healthz', headers={'host': '127.0.0.1'})
print(r.status_code, r.content.decode())
"""


def test_it_answers_200_when_database_and_broker_are_up(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_it_needs_no_login(client, db):
    assert client.get("/healthz").status_code == 200


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_it_answers_503_when_the_broker_is_down(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "ok", "broker": "down"}


def test_it_answers_503_when_the_database_is_down():
    # A real PostgreSQL client against a port where nothing listens, in its own process.
    result = python(
        HEALTHZ_IN_CHILD,
        env={
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "true",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:1/goodskin",
            "REDIS_URL": "redis://127.0.0.1:6379/15",
        },
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {"status": "down", "database": "down", "broker": "ok"}
