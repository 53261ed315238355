"""The reminder dispatcher as production runs it: outside any transaction, on data that commits,
on PostgreSQL and on the SQLite of `make run` alike (issue 11, points 1 and 7).

pytest's usual test wraps everything in one transaction, and SQLite ignores row locks: both hid
a dispatcher that crashed every minute once a plan was completed. These tests commit
(`transaction=True`) or run `manage.py` in a child process on a database of their own.
"""

import json
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from goodskin.db import locked
from messaging.models import Message, MessageStatus
from messaging.tasks import dispatch_messages
from scheduling import reminders
from scheduling.tasks import invite_to_touch_ups
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
    from tests.messaging import realparts

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
    assert connection.get_autocommit()  # as in a worker: no transaction around the tasks
    invite_to_touch_ups()
    dispatch_messages()
    invitation = reminders.about_plan(completed_plan).get(kind=reminders.TOUCH_UP)
    assert invitation.status == MessageStatus.PENDING
    invite_to_touch_ups()  # and again a minute later: still one invitation
    dispatch_messages()
    assert Message.objects.filter(kind=reminders.TOUCH_UP).count() == 1


def test_locking_rows_outside_a_transaction_is_refused_on_every_database(db):
    assert connection.get_autocommit()
    with pytest.raises(TransactionManagementError):
        list(locked(Message.objects.all()))


# --- The clinic's demo data, on a database of its own: PostgreSQL and SQLite (`make run`) ---

RUN_THE_DISPATCHER = """
import json
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from messaging import sending as outbox
from messaging.models import Message
from messaging.tasks import dispatch_messages
from scheduling import reminders
from scheduling.tasks import invite_to_touch_ups

call_command("migrate", verbosity=0)
call_command("seed_demo", verbosity=0)
assert connection.get_autocommit()
invite_to_touch_ups()
added = dispatch_messages()
# Time moves on: everything still worth sending falls due, and one batch sends it.
Message.objects.filter(status="pending", give_up_at__gt=timezone.now()).update(
    due_at=timezone.now()
)
sent = outbox.send_batch(500)
print("RESULT " + json.dumps({
    "touch_up": Message.objects.filter(kind=reminders.TOUCH_UP).count(),
    "sent": sent["sent"],
    "failed": sent["failed"],
    "statuses": sorted(set(Message.objects.values_list("status", flat=True))),
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


def test_the_dispatcher_sends_the_demo_clinics_messages_on_postgresql_and_on_sqlite(
    fresh_postgres_database, tmp_path
):
    from tests.messaging import realparts

    broker = realparts.redis_url(settings.REDIS_URL, db=DISPATCH_REDIS_DB)
    on_postgres = run_on(fresh_postgres_database, tmp_path / "pg", {"REDIS_URL": broker})
    on_sqlite = run_on(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "sqlite")
    assert on_postgres["touch_up"] >= 1  # the demo's completed plan
    assert on_postgres["sent"] > 0 and on_postgres["failed"] == 0
    assert "pending" not in on_postgres["statuses"]
    assert on_sqlite == on_postgres
    redis.Redis.from_url(broker).flushdb()
