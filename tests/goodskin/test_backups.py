"""`manage.py backup` and `manage.py restore` (what `make backup` and `make restore` run): a
dump of a database with patients, a plan, appointments and audit entries, restored into a new
database, holds every row of every table, and a restore never lands on a database in use."""

import os
import stat
from datetime import timedelta

import psycopg2
import pytest
import time_machine
from django.db import connection

from goodskin.actors import Actor
from goodskin.roles import Role
from patients import audit
from patients.models import AuditAction, AuditEntry
from scheduling import services
from scheduling.models import Appointment, Kind
from tests.factories import PatientFactory, screen
from tests.helpers import manage
from tests.scheduling.conftest import MONDAY, at, desk_actor, office, work_weekdays  # noqa: F401
from tests.treatments.conftest import make_plan

committing = pytest.mark.django_db(transaction=True)


def url_of(name: str) -> str:
    db = connection.settings_dict
    server = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER'] or 'postgres'}@{server}/{name}"


def env_for(url: str, **more: str) -> dict[str, str]:
    return {"DEBUG": "true", "DATABASE_URL": url, **more}


def snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of its rows in order, and each sequence's
    position (so a restored database hands out no id twice)."""
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(table_name) FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        found = {}
        for (table,) in cursor.fetchall():
            cursor.execute(
                f"SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '')"
                f" FROM {table} t"
            )
            found[table] = cursor.fetchone()
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences")
        found.update({f"sequence {name}": (value, "") for name, value in cursor.fetchall()})
    conn.close()
    return found


@pytest.fixture
def clinic_data(request, doctor, front_desk):
    """Patients, a plan with its appointments, and their audit trail, committed."""
    work_weekdays(doctor, request.getfixturevalue("office"))
    patients = [PatientFactory() for _ in range(3)]
    for patient in patients:
        screen(patient, by=doctor, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(patients[0], doctor, sessions=2)
    with time_machine.travel(at(MONDAY, 7), tick=False):
        for number, days in ((1, 1), (2, 29)):
            services.book_appointment(
                patient=patients[0],
                doctor=doctor,
                starts_at=at(MONDAY + timedelta(days=days), 10),
                by=desk_actor(front_desk),
                kind=Kind.SESSION,
                plan=plan,
                session_number=number,
            )
    audit.record(
        actor=Actor(user=doctor, role=Role.DOCTOR, ip="127.0.0.1"),
        patient=patients[1],
        action=AuditAction.VIEW,
        subject="patient",
    )
    assert Appointment.objects.count() == 2
    assert AuditEntry.objects.count() >= 5
    return patients


@committing
def test_a_backup_restored_into_a_new_database_holds_every_row(
    clinic_data, fresh_postgres_database, tmp_path
):
    source = url_of(connection.settings_dict["NAME"])
    made = manage("backup", env=env_for(source, BACKUP_DIR=str(tmp_path)), timeout=120)
    assert made.returncode == 0, made.stderr
    (dump,) = tmp_path.glob("*.dump")
    assert dump.name.startswith(connection.settings_dict["NAME"] + "-")
    assert dump.name.endswith("Z.dump") and str(dump) in made.stdout
    assert stat.S_IMODE(os.stat(dump).st_mode) == 0o600
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    restored = manage("restore", str(dump), env=env_for(fresh_postgres_database), timeout=120)
    assert restored.returncode == 0, restored.stderr
    assert "verify_audit" in restored.stdout
    before, after = snapshot(source), snapshot(fresh_postgres_database)
    assert after == before
    for table in ("patients_patient", "treatments_treatmentplan", "scheduling_appointment"):
        assert before[table][0] > 0, table
    assert before["patients_auditentry"][0] >= 5
    # The audit chain and its triggers came through whole.
    checked = manage("verify_audit", env=env_for(fresh_postgres_database), timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@committing
def test_it_refuses_to_restore_over_a_database_with_tables_unless_forced(
    clinic_data, fresh_postgres_database, tmp_path
):
    source = url_of(connection.settings_dict["NAME"])
    manage("backup", env=env_for(source, BACKUP_DIR=str(tmp_path)), timeout=120)
    (dump,) = tmp_path.glob("*.dump")
    target = env_for(fresh_postgres_database)
    assert manage("restore", str(dump), env=target, timeout=120).returncode == 0
    with psycopg2.connect(fresh_postgres_database) as conn, conn.cursor() as cursor:
        cursor.execute("UPDATE scheduling_location SET name = 'Changed since the backup'")
    conn.close()

    again = manage("restore", str(dump), env=target, timeout=120)
    assert again.returncode != 0
    assert "already has" in again.stderr and "nothing was restored" in again.stderr
    assert "Traceback" not in again.stderr
    assert snapshot(fresh_postgres_database) != snapshot(source)  # left as it was

    forced = manage("restore", str(dump), "--force", env=target, timeout=120)
    assert forced.returncode == 0, forced.stderr
    assert snapshot(fresh_postgres_database) == snapshot(source)


@pytest.mark.parametrize("content", [None, b"", b"not a dump at all"])
def test_a_missing_or_broken_file_is_refused_with_a_clear_message(
    fresh_postgres_database, tmp_path, content
):
    path = tmp_path / "clinic.dump"
    if content is not None:
        path.write_bytes(content)
    result = manage("restore", str(path), env=env_for(fresh_postgres_database))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    expected = "no backup file" if content is None else "not a backup that pg_restore can read"
    assert expected in result.stderr
    assert snapshot(fresh_postgres_database) == {}


def test_a_backup_of_the_sqlite_default_is_refused_with_a_clear_message(tmp_path):
    result = manage(
        "backup",
        env={"DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
    )
    assert result.returncode != 0
    assert "Backups need PostgreSQL" in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.dump*"))


def test_a_failed_backup_leaves_no_file_that_looks_complete(tmp_path):
    gone = url_of("goodskin_no_such_database")
    result = manage("backup", env=env_for(gone, BACKUP_DIR=str(tmp_path)))
    assert result.returncode != 0 and "pg_dump failed" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_restore_into_a_database_that_does_not_exist_says_so(db, tmp_path):
    source = url_of(connection.settings_dict["NAME"])
    assert manage("backup", env=env_for(source, BACKUP_DIR=str(tmp_path))).returncode == 0
    (dump,) = tmp_path.glob("*.dump")
    result = manage("restore", str(dump), env=env_for(url_of("goodskin_no_such_database")))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "Cannot reach the database goodskin_no_such_database" in result.stderr


def test_a_backup_folder_that_cannot_be_written_is_refused_with_a_clear_message(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    source = url_of(connection.settings_dict["NAME"])
    result = manage("backup", env=env_for(source, BACKUP_DIR=str(blocked / "backups")))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "Cannot write to the backup folder" in result.stderr
