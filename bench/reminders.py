#!/usr/bin/env python
"""Message dispatch: 10,000 due reminders through a real Celery worker into a local SMTP server.

The worker (`celery -A goodskin worker`, prefork, 1 then 2 processes) sends through Django's
SMTP backend into an aiosmtpd server in this process; Redis is the broker (its own database,
12, flushed). The clock starts when the rows become due and the dispatcher task is sent (what
beat does once a minute), and stops when the last row is marked sent and the server has
received every message. A database of its own (goodskin_bench_rem), created and migrated here.
Usage: .venv/bin/python bench/reminders.py [--reminders 10000] [--concurrency 1 2]
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goodskin.settings_test")
# Its own database and Redis database (which it flushes), whatever DATABASE_URL/REDIS_URL say.
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_REMINDERS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/goodskin_bench_rem"
)
os.environ["REDIS_URL"] = os.environ.get("BENCH_REMINDERS_REDIS_URL", "redis://127.0.0.1:6379/12")

import django  # noqa: E402
from benchdb import ensure_database  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from goodskin import celery_app  # noqa: E402
from messaging.models import Message, MessageStatus  # noqa: E402
from messaging.tasks import dispatch_messages  # noqa: E402
from patients.models import Patient  # noqa: E402
from tests.messaging.realparts import Celery, SMTPServer, database_url, wait_for  # noqa: E402
from treatments.selectors import get_clinic_settings  # noqa: E402

PATIENTS = 200


def seed(count: int) -> None:
    """`count` touch-up invitations by email, not yet due, over PATIENTS consenting patients."""
    Message.objects.filter(key__startswith="bench:").delete()
    have = Patient.objects.filter(email__endswith="@bench.example.org").count()
    Patient.objects.bulk_create(
        Patient(
            legal_first_name="Bench",
            legal_last_name=f"Patient{n}",
            date_of_birth="1970-01-01",
            email=f"p{n}@bench.example.org",
            state="OR",
            consent_email=True,
        )
        for n in range(have, PATIENTS)
    )
    people = list(Patient.objects.filter(email__endswith="@bench.example.org")[:PATIENTS])
    later = timezone.now() + timedelta(days=1)
    Message.objects.bulk_create(
        (
            Message(
                key=f"bench:{n}",
                patient=people[n % len(people)],
                kind="touch_up",
                channel="email",
                due_at=later,
                give_up_at=later + timedelta(days=30),
            )
            for n in range(count)
        ),
        batch_size=2000,
    )
    get_clinic_settings()


def run(count: int, concurrency: int, logs: Path) -> tuple[float, int, int]:
    """Seconds to send `count` reminders, messages received, duplicates."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    seed(count)
    with (
        SMTPServer() as server,
        Celery(
            database=database_url(settings.DATABASES["default"]),
            redis=settings.REDIS_URL,
            email=server.url,
            logs=logs,
            REMINDER_DISPATCH_SECONDS="60",
        ) as parts,
    ):
        worker = parts.worker(concurrency=concurrency)
        ready = wait_for(
            lambda: celery_app.control.ping(destination=[worker.hostname], timeout=0.5),
            timeout=60,
        )
        assert ready, parts.log(worker)[-2000:]
        start = time.perf_counter()
        Message.objects.filter(key__startswith="bench:").update(due_at=timezone.now())
        dispatch_messages.delay()  # the bell beat rings
        done = wait_for(
            lambda: (
                server.mailbox.count() >= count
                and not Message.objects.filter(key__startswith="bench:")
                .exclude(status=MessageStatus.SENT)
                .exists()
            ),
            timeout=600,
            interval=0.05,
        )
        elapsed = time.perf_counter() - start
        assert done, parts.log(worker)[-2000:]
        return elapsed, server.mailbox.count(), server.mailbox.duplicates()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    ensure_database()
    call_command("migrate", verbosity=0)
    logs = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    print(
        f"Message dispatch, {args.reminders:,} due emails, Celery worker (prefork) -> Django "
        f"SMTP backend -> aiosmtpd on loopback; {time.strftime('%Y-%m-%d')}, "
        f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{'processes':>9}{'total s':>10}{'per second':>12}{'received':>10}{'dups':>6}")
    for concurrency in args.concurrency:
        elapsed, received, dups = run(args.reminders, concurrency, logs)
        rate = args.reminders / elapsed
        print(f"{concurrency:>9}{elapsed:>10.1f}{rate:>12.0f}{received:>10,}{dups:>6}")
    print("Target: 10,000 in under 20 s. Worker logs:", logs)


if __name__ == "__main__":
    main()
