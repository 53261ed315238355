"""The outbox with real parts (issue 6, point 7 and "Bad input"): a Celery worker and beat in
child processes on the real Redis, email through Django's SMTP backend into an aiosmtpd server
on loopback. Time is moved forward in the database (due_at, lease_until), never waited for.

The children use the pytest test database, so these tests commit (transaction=True), and a
Redis database of their own (realparts.REDIS_DB, 11 unless OUTBOX_REDIS_DB says otherwise),
which they flush.
"""

import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from scheduling import outbox
from scheduling.models import Reminder, ReminderStatus
from tests.factories import PatientFactory
from tests.scheduling import realparts
from tests.scheduling.realparts import SMTPServer, wait_for
from treatments.selectors import get_clinic_settings

pytestmark = pytest.mark.django_db(transaction=True)

SENT, PENDING, SENDING, FAILED = (
    ReminderStatus.SENT,
    ReminderStatus.PENDING,
    ReminderStatus.SENDING,
    ReminderStatus.FAILED,
)


@pytest.fixture
def broker():
    url = realparts.redis_url(settings.REDIS_URL)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def celery(broker, tmp_path):
    """Start worker/beat children with celery(email=...): all of them are killed at the end."""
    started = []

    def start(email: str) -> realparts.Celery:
        parts = realparts.Celery(
            database=realparts.database_url(settings.DATABASES["default"]),
            redis=broker,
            email=email,
            logs=tmp_path / "celery",
        )
        started.append(parts)
        return parts

    yield start
    for parts in started:
        parts.__exit__(None, None, None)


def make_due(count: int, *, patients: int = 5, prefix: str = "t") -> list[Reminder]:
    """`count` touch-up invitations due a minute ago, spread over a few consenting patients."""
    get_clinic_settings()  # made here, not raced for by two worker processes
    people = [PatientFactory(consent_email=True) for _ in range(patients)]
    past = timezone.now() - timedelta(minutes=1)
    return Reminder.objects.bulk_create(
        [
            Reminder(
                key=f"{prefix}:{n}",
                patient=people[n % patients],
                kind="touch_up",
                channel="email",
                due_at=past,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )


def expected_ids() -> set[str]:
    return {outbox.message_id(r) for r in Reminder.objects.all()}


def statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Reminder.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def all_sent(mailbox, count: int):
    return lambda: mailbox.count() >= count and statuses() == {SENT: count}


def move_leases_past() -> int:
    """Time moves forward in the database: every lease now lies in the past."""
    return Reminder.objects.filter(status=SENDING).update(lease_until=timezone.now() - outbox.LEASE)


# --- Point 7 -------------------------------------------------------------------------------


def test_a_thousand_due_reminders_arrive_once_each(celery):
    make_due(1000)
    with SMTPServer() as server:
        mailbox = server.mailbox
        parts = celery(email=server.url)
        parts.worker(concurrency=2)
        parts.beat()
        started = time.monotonic()
        assert wait_for(all_sent(mailbox, 1000), timeout=90), (mailbox.count(), statuses())
        print(f"\n1,000 reminders sent in {time.monotonic() - started:.1f} s (start-up included)")
    assert mailbox.duplicates() == 0
    assert set(mailbox.ids()) == expected_ids()
    assert mailbox.count() == 1000
