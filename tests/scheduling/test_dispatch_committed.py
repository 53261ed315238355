"""The reminder dispatcher as production runs it: outside any transaction, on data that commits,
on PostgreSQL and on the SQLite of `make run` alike (issue 11, points 1 and 7).

pytest's usual test wraps everything in one transaction, and SQLite ignores row locks: both hid
a dispatcher that crashed every minute once a plan was completed. These tests commit
(`transaction=True`) or run `manage.py` in a child process on a database of their own.
"""

import json
import uuid
from datetime import timedelta

import psycopg2
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from goodskin.db import locked
from scheduling import reminders
from scheduling.models import Reminder, ReminderStatus
from scheduling.tasks import dispatch_reminders
from tests.factories import PatientFactory, screen
from tests.helpers import python
from tests.treatments.conftest import chart_session, make_plan

pytestmark = pytest.mark.django_db(transaction=True)

# A Redis database of this file's own: the batches its dispatchers queue reach no other test.
DISPATCH_REDIS_DB = 10


@pytest.fixture
def own_broker(monkeypatch):
    """The batches the dispatcher queues go to a Redis database of this file's own, so that
    test_dispatch.py, counting its queue in another process, never sees them."""
    from goodskin import celery_app
    from tests.scheduling import realparts

    url = realparts.redis_url(settings.REDIS_URL, db=DISPATCH_REDIS_DB)
    monkeypatch.setattr(celery_app.conf, "broker_url", url)
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def completed_plan(doctor):
    """A plan completed the normal way: the doctor charts its last session."""
    record = PatientFactory()
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(record, doctor, sessions=2)
    today = timezone.localdate()
    chart_session(plan, doctor, treated_on=today - timedelta(days=60))
    chart_session(plan, doctor, treated_on=today - timedelta(days=20))
    plan.refresh_from_db()
    assert plan.status == "completed"
    return plan


def test_the_dispatcher_runs_once_a_plan_is_completed_by_its_last_chart(completed_plan, own_broker):
    assert connection.get_autocommit()  # as in a worker: no transaction around the task
    dispatch_reminders()
    invitation = Reminder.objects.get(plan=completed_plan, kind=reminders.TOUCH_UP)
    assert invitation.status == ReminderStatus.PENDING
    dispatch_reminders()  # and again a minute later: still one invitation
    assert Reminder.objects.filter(kind=reminders.TOUCH_UP).count() == 1


def test_locking_rows_outside_a_transaction_is_refused_on_every_database(db):
    assert connection.get_autocommit()
    with pytest.raises(TransactionManagementError):
        list(locked(Reminder.objects.all()))


# --- The clinic's demo data, on a database of its own: PostgreSQL and SQLite (`make run`) ---

RUN_THE_DISPATCHER = """
import json
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django.utils import timezone
from scheduling import outbox, reminders
from scheduling import reminders
from scheduling.models import Reminder, ReminderStatus
from scheduling.tasks import dispatch_reminders
from scheduling.tasks import dispatch_reminders

call_command("migrate", verbosity=0)
call_command("seed_demo", verbosity=0)
assert connection.get_autocommit()
added = dispatch_reminders()
# Time moves on: everything still worth sending falls due, and one batch sends it.
Reminder.objects.filter(status="pending", give_up_at__gt=timezone.now()).update(
    due_at=timezone.now()
)
sent = outbox.send_batch(500)
print("RESULT " + json.dumps({
    "touch_up": Reminder.objects.filter(kind=reminders.TOUCH_UP).count(),
    "sent": sent["sent"],
    "failed": sent["failed"],
    "statuses": sorted(set(Reminder.objects.values_list("status", flat=True))),
}))
"""


def run_on(database_url: str, tmp_path, extra: dict | None = None) -> dict:
    env = {
        "DEBUG": "true",
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "var"),
        "EMAIL_URL": "consolemail://",
        **(extra or {}),
    }
    done = python(RUN_THE_DISPATCHER, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


@pytest.fixture
def fresh_postgres_database():
    params = settings.DATABASES["default"]
    name = f"goodskin_dispatch_{uuid.uuid4().hex[:8]}"
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


def test_the_dispatcher_sends_the_demo_clinics_messages_on_postgresql_and_on_sqlite(
    fresh_postgres_database, tmp_path
):
    from tests.scheduling import realparts

    broker = realparts.redis_url(settings.REDIS_URL, db=DISPATCH_REDIS_DB)
    on_postgres = run_on(fresh_postgres_database, tmp_path / "pg", {"REDIS_URL": broker})
    on_sqlite = run_on(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "sqlite")
    assert on_postgres["touch_up"] >= 1  # the demo's completed plan
    assert on_postgres["sent"] > 0 and on_postgres["failed"] == 0
    assert "pending" not in on_postgres["statuses"]
    assert on_sqlite == on_postgres
    redis.Redis.from_url(broker).flushdb()
