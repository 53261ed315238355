import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings

from goodskin.roles import Role
from tests.factories import UserFactory


def pytest_configure(config):
    """The Spanish pages need the compiled translations: compile each .po newer than its .mo,
    as make test does, so a plain `pytest` on a fresh clone has them too. Each process writes
    its own file and renames it into place (pytest-xdist starts two at once)."""
    for po in Path(__file__).resolve().parents[1].glob("locale/*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        written = mo.with_name(f"django.{os.getpid()}.mo")
        with written.open("wb") as target:
            write_mo(target, catalog)
        os.replace(written, mo)


@pytest.fixture(autouse=True)
def _clinic_language_after_each_test():
    """A page that answers in its patient's language activates it for the rest of its thread
    (as LocaleMiddleware does); each request sets its own again, but a test's own calls after
    such a page would run in it. Every test starts in the clinic's language."""
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _healthz_connections_closed_after_each_test():
    """/healthz keeps a database and a Redis connection per process between checks: each test
    closes them, so none outlives its test database."""
    from goodskin import health

    yield
    health.close()


@pytest.fixture(autouse=True)
def _card_cache_answering_after_each_test():
    """A test that finds the cache down pauses the day and week views' card cache for the
    rest of its process (goodskin.kept): each test starts with it answering."""
    from goodskin import kept

    yield
    kept._paused_until = 0.0


@pytest.fixture
def card_cache_paused(monkeypatch):
    """The day and week views write their cards every time, as with no cache."""
    from goodskin import kept

    monkeypatch.setattr(kept, "_paused_until", float("inf"))


# A cache that does not answer: nothing listens on that port.
CACHE_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@contextmanager
def written_afresh():
    """Within: every kept page part (goodskin.kept) is written afresh, as with no
    cache, to compare a kept page with."""
    from goodskin import kept

    paused = kept._paused_until
    kept._paused_until = float("inf")
    try:
        yield
    finally:
        kept._paused_until = paused


@pytest.fixture
def kept_keys(monkeypatch) -> list[str]:
    """The keys kept page parts are asked for under (goodskin.kept), none kept."""
    from goodskin import kept

    keys = []

    class Spy:
        def get(self, key):
            keys.append(key)

        def set(self, key, value, timeout):
            pass

    monkeypatch.setattr(kept, "cache", Spy())
    return keys


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Let the test runner's flush (a TRUNCATE of every table, after each transactional test)
    empty the audit log, which the database otherwise refuses (patients migration 0005). A
    database-wide default, so every connection has it, the test threads' included."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            name = connection.settings_dict["NAME"]
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER DATABASE "{name}" SET goodskin.audit_maintenance = on')
                cursor.execute("SET goodskin.audit_maintenance = on")


@pytest.fixture(scope="session", autouse=True)
def _flush_by_deleting_rows():
    """After each transactional test the runner empties every table with one TRUNCATE of all
    of them, which makes new files for every table and index, then writes the content types
    and permissions again: 0.6 to 1 s here, 200 times a run. Deleting the rows of the few
    tables that hold any costs a tenth of that, and the content types and permissions, which
    no test changes, can stay. The triggers (foreign keys, the audit log's guard) are off for
    that one transaction, as a restore does, so the order does not matter. Every 25th flush
    is the runner's own, so deleted rows don't pile up (autovacuum may be off)."""
    from django.core.management.commands import flush
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush
    write_content_types = flush.emit_post_migrate_signal
    kept = {"django_content_type", "auth_permission"}
    flushes = 0
    deleted = False

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        nonlocal flushes, deleted
        flushes += 1
        deleted = bool(tables) and not reset_sequences and flushes % 25 and superuser(self)
        if not deleted:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        quote = self.quote_name
        tables = [table for table in tables if table not in kept]
        with self.connection.cursor() as cursor:
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT %s WHERE EXISTS (SELECT FROM {quote(table)})" for table in tables
                ),
                tables,
            )
            filled = [table for (table,) in cursor.fetchall()]
        return ["SET LOCAL session_replication_role = replica"] + [
            f"DELETE FROM {quote(table)}" for table in filled
        ]

    def emit_post_migrate_signal(*args, **kwargs):
        if not deleted:
            write_content_types(*args, **kwargs)

    DatabaseOperations.sql_flush = sql_flush
    flush.emit_post_migrate_signal = emit_post_migrate_signal
    yield
    DatabaseOperations.sql_flush = truncate
    flush.emit_post_migrate_signal = write_content_types


def superuser(operations) -> bool:
    """Only a superuser may turn triggers off (session_replication_role)."""
    with operations.connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return cursor.fetchone()[0]


@pytest.fixture
def front_desk(db):
    return UserFactory(username="fiona", role=Role.FRONT_DESK)


@pytest.fixture
def doctor(db):
    return UserFactory(username="dr.lee", role=Role.DOCTOR)


@pytest.fixture
def patient(db):
    return UserFactory(username="pat", role=Role.PATIENT)


@pytest.fixture
def clinic_admin(db):
    return UserFactory(username="boss", role=Role.ADMIN)


@pytest.fixture
def users_by_role(front_desk, doctor, patient, clinic_admin):
    return {
        Role.FRONT_DESK: front_desk,
        Role.DOCTOR: doctor,
        Role.PATIENT: patient,
        Role.ADMIN: clinic_admin,
    }


@pytest.fixture(autouse=True)
def migration_data(request):
    """A transactional test empties every table when it ends, the rows the data migrations
    wrote included (the aftercare programme, the role groups, the agents); a test that runs
    after one in the same process, whatever order pytest-xdist hands out the files in, finds
    them here."""
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        (marker is not None and marker.kwargs.get("transaction"))
        or "transactional_db" in names
        or "live_server" in names
    )
    if transactional or ("db" not in names and marker is None):
        return
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    from treatments.models import AftercareStep, AgentSetting
    from treatments.selectors import agent_settings

    request.getfixturevalue("db")
    if not AgentSetting.objects.exists():
        agent_settings()  # the label defaults, as migrations 0009 and 0011 wrote them
    if Group.objects.count() >= 3 and AftercareStep.objects.exists():
        return
    for module, function in (
        ("goodskin.migrations.0001_role_groups", "create_groups"),
        ("treatments.migrations.0002_aftercare_programme", "seed"),
        ("treatments.migrations.0012_aftercare_placeholders", "rewrite"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def fresh_postgres_database():
    """An empty PostgreSQL database of the test's own, for a child process to migrate."""
    params = settings.DATABASES["default"]
    name = f"goodskin_fresh_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(
        dbname="postgres",
        user=params["USER"] or "postgres",
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        password=params["PASSWORD"] or None,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    auth = params["USER"] or "postgres"
    yield f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}"
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()
