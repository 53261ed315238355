"""Entries written before the chain existed are chained by migration 0005, in id order, and
then guarded like any other. A child process migrates a PostgreSQL database of its own to just
before the change, writes entries, migrates forward and runs verify_audit."""

import json

import pytest

from tests.helpers import python

pytestmark = pytest.mark.django_db(transaction=True)

MIGRATE_THROUGH_THE_CHANGE = """
import json
from io import StringIO
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

MigrationExecutor(connection).migrate([("patients", "0004_message_kinds_consent")])
with connection.cursor() as cursor:
    cursor.execute(
        "INSERT INTO patients_auditentry (at, role, action, subject, ip, details)"
        " SELECT now() - g * interval '1 hour', 'doctor', 'view', 'old ' || g, '10.0.0.1',"
        " jsonb_build_object('n', g) FROM generate_series(1, 3) g"
    )
MigrationExecutor(connection).migrate([("patients", "0005_audit_chain")])
with connection.cursor() as cursor:
    cursor.execute("SELECT id, seq, prev_hash, hash FROM patients_auditentry ORDER BY id")
    rows = cursor.fetchall()
out = StringIO()
call_command("verify_audit", stdout=out)
refused = ""
try:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM patients_auditentry")
except Exception as error:
    refused = type(error).__name__
print("RESULT " + json.dumps({"rows": rows, "verify": out.getvalue(), "refused": refused}))
"""


def test_the_migration_chains_the_entries_already_there(fresh_postgres_database, tmp_path):
    env = {"DEBUG": "true", "DATABASE_URL": fresh_postgres_database, "VAR_DIR": str(tmp_path)}
    done = python(MIGRATE_THROUGH_THE_CHANGE, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    rows = result["rows"]
    assert [seq for _id, seq, _prev, _hash in rows] == [1, 2, 3]
    assert rows[0][2] == "0" * 64
    assert [prev for _i, _s, prev, _h in rows[1:]] == [h for _i, _s, _p, h in rows[:-1]]
    assert "3 entries checked" in result["verify"] and "whole" in result["verify"]
    assert result["refused"] == "IntegrityError"
