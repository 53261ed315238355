#!/usr/bin/env python
"""Fault drills for the reminder outbox: break one part mid-batch and count what arrives.

Run from the repository root (it needs no server of the machine's and touches none):

    .venv/bin/python bench/faults.py                       # 1,000 reminders, every scenario
    .venv/bin/python bench/faults.py --reminders 300 --only pg-immediate mail-down

It makes everything it breaks itself: a PostgreSQL cluster initdb'd in a temporary folder (as
the `postgres` user, on 127.0.0.1 and a free port, fsync and synchronous commit on), migrated
into a database `goodskin_faults`; a redis-server on a free port that keeps nothing on disk;
an aiosmtpd mail server in this process, a little slow per message (--mail-delay) so that a
batch can be caught in the middle. DATABASE_URL and REDIS_URL from the environment (the
Makefile's bench target sets them) are ignored: the shared servers are never stopped or
flushed. Everything is removed at the end.

Each scenario starts from N due touch-up invitations by email, a Celery worker (prefork,
--concurrency processes) and beat (every second) in child processes, and injects its fault
once rows are really in "sending" (seen in the database) and messages are arriving:

    worker-kill   SIGKILL to the worker and its pool; a new worker is started
    pg-fast       PostgreSQL restarted in fast mode; the workers keep running through it
    pg-immediate  PostgreSQL stopped in immediate mode (a crash: what was only in memory is
                  gone), then started again (crash recovery)
    redis-down    Redis stopped (its queued tasks are gone) and started again, empty
    redis-flush   FLUSHALL on Redis
    two-beats     no fault: two beat processes ring the bell at once
    mail-down     the mail server down (connection refused) for at least 6 rounds of failed
                  attempts and 21 minutes, longer than the old give-up time (5 attempts 1, 2,
                  4, 8 minutes apart), then back on the same port

Time moves forward in the database, never waited for: after a fault that leaves rows in
"sending", the leases of the rows claimed before the fault are set in the past; after each
round of failed mail attempts, the waiting rows are made due now.

The columns:
    reminders  due reminders at the start
    received   messages the mail server accepted, copies included
    lost       reminders whose message never arrived (the outbox promises 0)
    doubled    extra copies: a Message-ID received more than once (the outbox promises none
               after a PostgreSQL fault, at most one per worker process sending otherwise)
    processes  worker processes sending when the fault hit
    seconds    from starting the workers to the last row settled, start-up included
A note under the table gives each scenario's rows by status and when things happened. The
exit status is 1 if any scenario lost a message, doubled more than it may, or never settled.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.messaging.realparts import free_port  # noqa: E402 (no Django in it)

# Servers of its own, whatever the environment says; their ports are chosen before Django
# reads its settings.
PG_PORT, REDIS_PORT, DATABASE = free_port(), free_port(), "goodskin_faults"
os.environ["DJANGO_SETTINGS_MODULE"] = "goodskin.settings_test"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{PG_PORT}/{DATABASE}"
os.environ["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402

from messaging.models import Message  # noqa: E402
from tests.messaging import faultparts  # noqa: E402
from tests.messaging.faultparts import Drill, PostgresCluster, RedisServer  # noqa: E402
from tests.messaging.test_outbox_real import expected_ids, make_due  # noqa: E402

SCENARIOS = {  # key: (title, fault(drill, cluster, redis) -> Outcome)
    "worker-kill": ("worker SIGKILL mid-batch", lambda d, c, r: faultparts.worker_killed(d)),
    "pg-fast": (
        "PostgreSQL restart, fast",
        lambda d, c, r: faultparts.postgres_stopped(d, c, "fast"),
    ),
    "pg-immediate": (
        "PostgreSQL immediate stop",
        lambda d, c, r: faultparts.postgres_stopped(d, c, "immediate"),
    ),
    "redis-down": ("Redis stopped and started", lambda d, c, r: faultparts.redis_stopped(d, r)),
    "redis-flush": ("Redis FLUSHALL", lambda d, c, r: faultparts.redis_flushed(d, r)),
    "two-beats": ("two beats", lambda d, c, r: faultparts.two_beats(d)),
    "mail-down": ("mail server down > 21 min", lambda d, c, r: faultparts.mail_down(d)),
}


def run(key: str, args, cluster: PostgresCluster, redis: RedisServer, logs: Path):
    title, fault = SCENARIOS[key]
    connections.close_all()  # the last scenario may have restarted the database under it
    Message.objects.all().delete()
    redis.flushall()
    make_due(args.reminders, patients=50, prefix=key)
    drill = Drill(
        title,
        database=os.environ["DATABASE_URL"],
        redis=redis,
        expected=expected_ids(),
        logs=logs / key,
        concurrency=args.concurrency,
        beats=2 if key == "two-beats" else 1,
        mail_delay=args.mail_delay,
        settle=args.settle,
    )
    with drill:
        return fault(drill, cluster, redis)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--mail-delay", type=float, default=0.005, help="seconds per message")
    parser.add_argument("--settle", type=float, default=300, help="seconds to wait for the end")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    print(
        f"Outbox fault drills, {args.reminders:,} due emails, worker concurrency "
        f"{args.concurrency}, mail server {args.mail_delay * 1000:.0f} ms a message; "
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        flush=True,
    )
    header = f"{'scenario':<28}{'reminders':>10}{'received':>10}{'lost':>6}{'doubled':>9}"
    header += f"{'processes':>11}{'seconds':>9}"
    outcomes, broken = [], 0
    with PostgresCluster(port=PG_PORT) as cluster, RedisServer(port=REDIS_PORT) as redis:
        cluster.create_database(DATABASE)
        call_command("migrate", verbosity=0)
        print(header, flush=True)
        for key in args.only:
            outcome = run(key, args, cluster, redis, logs)
            outcomes.append(outcome)
            print(
                f"{outcome.scenario:<28}{outcome.reminders:>10}{outcome.received:>10}"
                f"{outcome.lost:>6}{outcome.doubled:>9}{outcome.processes:>11}"
                f"{outcome.seconds:>9.1f}",
                flush=True,
            )
            broken += not outcome.kept
    print()
    for outcome in outcomes:
        print(f"{outcome.scenario}: rows {outcome.statuses}; {outcome.note}")
    print(f"Worker and beat logs: {logs}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
