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


def test_a_worker_killed_mid_batch_loses_nothing(celery):
    """SIGKILL (worker and pool) twice while batches are being sent, a new worker each time.
    A second copy can only be a message whose SMTP transaction ended in the instant before
    the kill, before its row was marked sent: at most one per worker process that was
    sending, so up to `concurrency` per kill, not one (each pool process has a batch of
    its own in flight)."""
    make_due(1000)
    concurrency, kills, stuck = 2, 0, []
    with SMTPServer() as server:
        mailbox = server.mailbox
        parts = celery(email=server.url)
        parts.beat()
        worker = parts.worker(concurrency=concurrency)
        for received in (200, 600):
            assert wait_for(lambda n=received: mailbox.count() >= n, timeout=60), statuses()
            parts.kill(worker)
            kills += 1
            stuck.append(Reminder.objects.filter(status=SENDING).count())
            move_leases_past()  # no worker is alive: every "sending" row is a dead one's
            worker = parts.worker(concurrency=concurrency)
        assert wait_for(all_sent(mailbox, 1000), timeout=90), (mailbox.count(), statuses())
    duplicates = mailbox.duplicates()
    print(
        f"\n{kills} kills; rows left in 'sending' by each: {stuck}; "
        f"{mailbox.count()} messages received for 1,000 reminders; "
        f"duplicates (same Message-ID twice): {duplicates}"
    )
    assert all(stuck), "each kill should land in the middle of a batch"
    assert set(mailbox.ids()) == expected_ids()  # none lost
    assert duplicates <= kills * concurrency


def test_reminders_pending_when_redis_is_flushed_are_still_sent(celery, broker):
    """FLUSHDB in the middle of sending (queued batch tasks and Celery's own keys vanish),
    with more reminders still to come due afterwards."""
    make_due(300)
    later = list(Reminder.objects.order_by("id").values_list("pk", flat=True)[100:])
    Reminder.objects.filter(pk__in=later).update(due_at=timezone.now() + timedelta(hours=1))
    with SMTPServer() as server:
        mailbox = server.mailbox
        parts = celery(email=server.url)
        worker = parts.worker(concurrency=2)
        parts.beat()
        assert wait_for(lambda: mailbox.count() >= 50, timeout=60), statuses()
        redis.Redis.from_url(broker).flushdb()
        Reminder.objects.filter(pk__in=later).update(due_at=timezone.now())  # time moves on
        sent = wait_for(all_sent(mailbox, 300), timeout=45)
        assert sent, (mailbox.count(), statuses(), parts.log(worker)[-3000:])
    assert mailbox.duplicates() == 0
    assert set(mailbox.ids()) == expected_ids()


def test_two_beat_processes_at_once_send_each_reminder_once(celery):
    make_due(1000)
    with SMTPServer() as server:
        mailbox = server.mailbox
        parts = celery(email=server.url)
        parts.beat()
        parts.beat()
        parts.worker(concurrency=2)
        assert wait_for(all_sent(mailbox, 1000), timeout=90), (mailbox.count(), statuses())
    assert mailbox.duplicates() == 0
    assert mailbox.count() == 1000
    assert set(mailbox.ids()) == expected_ids()


@pytest.fixture
def redis_down(settings, monkeypatch):
    """Redis is down: every address points at a closed port, and any connection redis-py
    tries to open fails (so a stray cache or broker call cannot go unnoticed)."""
    from redis.connection import AbstractConnection

    from goodskin import celery_app

    closed = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": closed}
    }
    settings.CELERY_BROKER_URL = closed
    monkeypatch.setattr(celery_app.conf, "broker_url", closed)

    def refuse(self, *args, **kwargs):
        raise redis.ConnectionError("Redis is down (test)")

    monkeypatch.setattr(AbstractConnection, "connect", refuse)


def test_booking_works_while_redis_is_down(redis_down, now, hours, front_desk, doctor):
    from django.core.cache import cache

    from scheduling import services
    from scheduling.models import Kind
    from tests.scheduling.conftest import MONDAY, at, desk_actor

    with pytest.raises(redis.ConnectionError):
        cache.get("anything")  # Redis really is unreachable here
    record = PatientFactory(consent_email=True)
    appointment = services.book_appointment(
        patient=record,
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=3), 10),
        kind=Kind.CONSULTATION,
        by=desk_actor(front_desk),
    )
    assert set(appointment.reminders.values_list("kind", "status")) == {
        ("reminder_first", PENDING),
        ("reminder_second", PENDING),
    }
