"""The clinic's one maximum per session becomes each agent's own (migration 0011): a number an
administrator had changed is kept for every agent, and migrating back keeps the lowest of the
agents' maxima as the one maximum, so no chart warns less either way.

A child process migrates a PostgreSQL database of its own to just before the change, sets the
old maximum, migrates forward and back, and prints what it read.
"""

import json

import pytest

from tests.helpers import python

pytestmark = pytest.mark.django_db(transaction=True)

MIGRATE_THROUGH_THE_CHANGE = """
import json
from decimal import Decimal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("treatments", "0010_eligibility_clearances")]
AFTER = [("treatments", "0011_agent_session_max")]


def migrate(targets):
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


old = migrate(BEFORE)
Clinic = old.get_model("treatments", "ClinicSettings")
assert Clinic.objects.update(agent_max_ml=Decimal("8.5")) == 1  # the row migration 0002 made
new = migrate(AFTER)
Agent = new.get_model("treatments", "AgentSetting")
forward = {a: str(m) for a, m in Agent.objects.values_list("agent", "session_max_ml")}
Agent.objects.filter(agent="sts").update(session_max_ml=Decimal(6))
old = migrate(BEFORE)
Clinic = old.get_model("treatments", "ClinicSettings")
back = [str(m) for m in Clinic.objects.values_list("agent_max_ml", flat=True)]
print("RESULT " + json.dumps({"forward": forward, "back": back}))
"""


def test_a_changed_maximum_is_kept_for_every_agent_and_back(fresh_postgres_database, tmp_path):
    env = {"DEBUG": "true", "DATABASE_URL": fresh_postgres_database, "VAR_DIR": str(tmp_path)}
    done = python(MIGRATE_THROUGH_THE_CHANGE, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    assert result["forward"] == dict.fromkeys(["polidocanol", "sts", "saline", "glycerin"], "8.50")
    assert result["back"] == ["6.00"]
