"""The outbox when a part fails mid-batch: PostgreSQL restarted or crashed, Redis stopped or
flushed, the mail server down for longer than the old give-up time. Real Celery worker and beat
children, an aiosmtpd server; PostgreSQL and Redis are servers of the test's own
(faultparts), never the machine's shared ones.

What each test holds the outbox to (DESIGN.md, "Guarantees"): nothing is lost once every part
is back, and nothing is doubled by a PostgreSQL restart or crash (a send whose "sent" mark the
database failed to take is recorded once it is back). Elsewhere a fault may double at most one
message per worker process that was sending: a worker killed right after a send cannot record
it. Worker SIGKILL and two beats are in test_outbox_real.py; bench/faults.py runs all of them
with more rows.
"""

import contextlib
import re

import pytest
from django.conf import settings

from tests.messaging import faultparts, realparts
from tests.messaging.faultparts import Drill, PostgresCluster, RedisServer
from tests.messaging.test_outbox_real import expected_ids, make_due

pytestmark = pytest.mark.django_db(transaction=True)

REMINDERS = 300  # three batches: both worker processes are mid-batch when the fault hits
CONCURRENCY = 2


@pytest.fixture(scope="module")
def cluster():
    """One cluster for the module (initdb costs seconds); each test copies its rows into a
    database of its own there."""
    with PostgresCluster() as pg:
        yield pg


@pytest.fixture
def own_redis():
    with RedisServer() as server:
        yield server


@pytest.fixture
def copy_to_cluster(cluster, request):
    """copy() -> (DATABASE_URL, alias): the test database as it is now, restored on the own
    cluster and readable here through a Django alias of its own."""
    with contextlib.ExitStack() as stack:

        def copy() -> tuple[str, str]:
            if not cluster.running():  # an earlier test stopped it and failed
                cluster.start()
            name = re.sub(r"\W+", "_", request.node.name).lower()[:60]
            url = cluster.copy_database(settings.DATABASES["default"], name)
            return url, stack.enter_context(faultparts.django_database("faults", url))

        yield copy


def drill(scenario: str, tmp_path, redis: RedisServer, database: str = "", using="default"):
    return Drill(
        scenario,
        database=database or realparts.database_url(settings.DATABASES["default"]),
        using=using,
        redis=redis,
        expected=expected_ids(),
        logs=tmp_path / "celery",
        concurrency=CONCURRENCY,
    )


def check(outcome: faultparts.Outcome) -> None:
    print(f"\n{outcome}")
    assert outcome.settled, (outcome.statuses, outcome.log)
    assert outcome.lost == 0, outcome
    assert outcome.doubled <= outcome.processes, outcome


def test_a_fast_postgresql_restart_mid_batch_loses_and_doubles_nothing(
    cluster, copy_to_cluster, own_redis, tmp_path
):
    make_due(REMINDERS)
    database, alias = copy_to_cluster()
    with drill("PostgreSQL restart, fast", tmp_path, own_redis, database, alias) as parts:
        outcome = faultparts.postgres_stopped(parts, cluster, "fast")
    check(outcome)
    assert outcome.doubled == 0, outcome


def test_a_postgresql_crash_mid_batch_loses_and_doubles_nothing(
    cluster, copy_to_cluster, own_redis, tmp_path
):
    """Immediate mode: no checkpoint, whatever PostgreSQL held only in memory is gone. A
    "sent" mark committed without waiting for the disk can be among it."""
    make_due(REMINDERS)
    database, alias = copy_to_cluster()
    with drill("PostgreSQL immediate stop", tmp_path, own_redis, database, alias) as parts:
        outcome = faultparts.postgres_stopped(parts, cluster, "immediate")
    check(outcome)
    assert outcome.doubled == 0, outcome


def test_redis_stopped_mid_batch_and_started_empty_loses_nothing(own_redis, tmp_path):
    make_due(REMINDERS)
    with drill("Redis stopped and started", tmp_path, own_redis) as parts:
        outcome = faultparts.redis_stopped(parts, own_redis)
    check(outcome)


def test_redis_flushed_mid_batch_loses_nothing(own_redis, tmp_path):
    make_due(REMINDERS)
    with drill("Redis FLUSHALL", tmp_path, own_redis) as parts:
        outcome = faultparts.redis_flushed(parts, own_redis)
    check(outcome)


def test_a_mail_server_down_longer_than_the_old_give_up_time_loses_nothing(own_redis, tmp_path):
    """Down for 6 rounds of failed attempts and over 21 minutes (the old give-up: 5 attempts,
    1, 2, 4, 8 minutes apart); a touch-up invitation is still worth sending for weeks. The row
    tried first in each batch has failed once a round, more often than the old give-up allowed."""
    make_due(200)  # each round fails every row: fewer rows, quicker rounds
    with drill("mail server down", tmp_path, own_redis) as parts:
        outcome = faultparts.mail_down(parts, rounds=6, minutes=21)
    assert outcome.received_while_down == 0, f"the mail server was not down: {outcome}"
    check(outcome)
    assert not outcome.statuses.get(faultparts.FAILED), outcome.statuses
    assert outcome.rounds >= 6 and outcome.minutes_down >= 21, outcome
    assert outcome.most_attempts >= 6, outcome
