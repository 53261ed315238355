"""The outbox with real parts (issue 6, point 7 and "Bad input"): a Celery worker and beat in
child processes on the real Redis, email through Django's SMTP backend into an aiosmtpd server
on loopback. Time is moved forward in the database (due_at, lease_until), never waited for.

The children use the pytest test database, so these tests commit (transaction=True), and a
Redis database of their own (realparts.REDIS_DB, 11 unless OUTBOX_REDIS_DB says otherwise),
which they flush.
"""

import contextlib
import time
from datetime import timedelta

import psycopg2
import pytest
import redis
from django.conf import settings
from django.db import Error as DBError
from django.db import connection
from django.utils import timezone

from messaging import sending as outbox
from messaging.models import Message, MessageStatus
from scheduling import reminders
from tests.factories import PatientFactory
from tests.messaging import realparts
from tests.messaging.realparts import SMTPServer, wait_for
from treatments.models import AftercareStep, Anchor
from treatments.selectors import get_clinic_settings

pytestmark = pytest.mark.django_db(transaction=True)

SENT, PENDING, SENDING, FAILED = (
    MessageStatus.SENT,
    MessageStatus.PENDING,
    MessageStatus.SENDING,
    MessageStatus.FAILED,
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


def make_due(count: int, *, patients: int = 5, prefix: str = "t") -> list[Message]:
    """`count` touch-up invitations due a minute ago, spread over a few consenting patients."""
    get_clinic_settings()  # made here, not raced for by two worker processes
    people = [PatientFactory(consent_email=True) for _ in range(patients)]
    past = timezone.now() - timedelta(minutes=1)
    return Message.objects.bulk_create(
        [
            Message(
                key=f"{prefix}:{n}",
                patient=people[n % patients],
                kind="touch_up",
                channel="email",
                due_at=past,
                give_up_at=past + timedelta(days=30),
            )
            for n in range(count)
        ],
        batch_size=1000,
    )


def expected_ids() -> set[str]:
    return {outbox.message_id(r) for r in Message.objects.all()}


def statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Message.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def all_sent(mailbox, count: int):
    return lambda: mailbox.count() >= count and statuses() == {SENT: count}


def move_leases_past() -> int:
    """Time moves forward in the database: every lease now lies in the past."""
    return Message.objects.filter(status=SENDING).update(lease_until=timezone.now() - outbox.LEASE)


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
            assert wait_for(lambda n=received: mailbox.count() >= n, timeout=180), statuses()
            # Kill while batches are in flight: rows held in "sending", not between batches.
            # The worker is frozen before its rows are counted, so the count can't go stale
            # before the kill lands; more held than processes, as each may still have one
            # COMMIT on its way to PostgreSQL.
            assert wait_for(lambda w=worker: frozen_holding(parts, w, concurrency), timeout=60)
            parts.kill(worker)
            kills += 1
            stuck.append(held_now())
            move_leases_past()  # no worker is alive: every "sending" row is a dead one's
            worker = parts.worker(concurrency=concurrency)
        assert wait_for(all_sent(mailbox, 1000), timeout=180), (mailbox.count(), statuses())
    duplicates = mailbox.duplicates()
    print(
        f"\n{kills} kills; rows left in 'sending' by each: {stuck}; "
        f"{mailbox.count()} messages received for 1,000 reminders; "
        f"duplicates (same Message-ID twice): {duplicates}"
    )
    assert all(stuck), "each kill should land in the middle of a batch"
    assert set(mailbox.ids()) == expected_ids()  # none lost
    assert duplicates <= kills * concurrency


def frozen_holding(parts, worker, more_than: int) -> bool:
    """Freeze the worker; True (left frozen) if it holds more than `more_than` rows under a
    live lease, else thaw it and False. (Rows a killed worker left, their leases moved past,
    don't count.)"""
    parts.freeze(worker)
    if held_now() > more_than:
        return True
    parts.thaw(worker)
    return False


def held_now() -> int:
    """Rows a worker holds under a lease that has not run out."""
    return Message.objects.filter(status=SENDING, lease_until__gt=timezone.now()).count()


def test_reminders_pending_when_redis_is_flushed_are_still_sent(celery, broker):
    """FLUSHDB in the middle of sending (queued batch tasks and Celery's own keys vanish),
    with more reminders still to come due afterwards."""
    make_due(300)
    later = list(Message.objects.order_by("id").values_list("pk", flat=True)[100:])
    Message.objects.filter(pk__in=later).update(due_at=timezone.now() + timedelta(hours=1))
    with SMTPServer() as server:
        mailbox = server.mailbox
        parts = celery(email=server.url)
        worker = parts.worker(concurrency=2)
        parts.beat()
        assert wait_for(lambda: mailbox.count() >= 50, timeout=60), statuses()
        redis.Redis.from_url(broker).flushdb()
        Message.objects.filter(pk__in=later).update(due_at=timezone.now())  # time moves on
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
    # Patch Celery's own copy first: reading it after the settings change would load the
    # closed URL into Celery's lazily read config and "restore" that one afterwards.
    monkeypatch.setattr(celery_app.conf, "broker_url", closed)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": closed}
    }
    settings.CELERY_BROKER_URL = closed

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
    assert set(reminders.of(appointment).values_list("kind", "status")) == {
        ("reminder_first", PENDING),
        ("reminder_second", PENDING),
    }


# --- Bad input -----------------------------------------------------------------------------


def test_a_mail_outage_longer_than_the_old_give_up_time_loses_nothing(celery):
    """The mail server is down for two simulated hours (the old code gave up after about 18
    minutes, 5 tries): every message waits, tried again after 1, 2, 4, ... minutes, up to
    30 between tries, and all of them arrive once the server is back on its address."""
    make_due(50)
    port = realparts.free_port()  # nobody listens here until the server comes back
    parts = celery(email=f"smtp://127.0.0.1:{port}")
    worker = parts.worker(concurrency=2)
    parts.beat()
    waited = timedelta(0)
    for attempt in range(1, 9):
        tried = wait_for(lambda a=attempt: all_waiting_after(a), timeout=60)
        assert tried, (statuses(), parts.log(worker)[-2000:])
        wait = outbox.wait_before_try(attempt)
        for row in Message.objects.all():
            assert "mail server:" in row.last_error, row.last_error
            assert row.due_at > timezone.now() + wait - timedelta(seconds=60)
        waited += wait
        Message.objects.update(due_at=timezone.now())  # time moves past the wait
    assert waited > timedelta(hours=2)
    assert outbox.wait_before_try(8) == outbox.LONGEST_WAIT
    with SMTPServer(port=port) as server:
        assert wait_for(all_sent(server.mailbox, 50), timeout=60), statuses()
        assert server.mailbox.duplicates() == 0
        assert set(server.mailbox.ids()) == expected_ids()
    assert parts.alive(worker)


def all_waiting_after(attempts: int) -> bool:
    """Every row waits for a later try, and the batch's first message has been tried
    `attempts` times (the batch's others wait with it rather than each trying in turn)."""
    rows = Message.objects.all()
    return (
        rows.exists()
        and not rows.exclude(status=PENDING).exists()
        and not rows.due(timezone.now()).exists()
        and max(rows.values_list("attempts", flat=True)) == attempts
    )


def test_bad_rows_fail_with_their_reason_and_the_rest_of_the_batch_is_sent(
    celery, client, front_desk
):
    from django.urls import reverse

    make_due(30)
    first = timezone.now() - timedelta(minutes=5)  # claimed first: the good rows come after

    def bad(key, kind="touch_up", **patient):
        person = PatientFactory(**{"consent_email": True, "consent_sms": True, **patient})
        Message.objects.create(
            key=key,
            patient=person,
            kind=kind,
            channel=person.reminder_channel,
            due_at=first,
            give_up_at=first + timedelta(days=3),
        )
        return key

    refused = bad("refused", email="refused@example.org")
    no_contact = bad("no-contact", email="", phone="")
    sms_no_phone = bad("sms-no-phone", email="", phone="", reminder_channel="sms")
    no_template = bad("no-template", kind="aftercare:no-such-step")
    with SMTPServer(refuse=("refused@example.org",)) as server:
        parts = celery(email=server.url)
        worker = parts.worker(concurrency=1)
        parts.beat()
        settled = wait_for(lambda: statuses() == {SENT: 30, FAILED: 4}, timeout=45)
        assert settled, (statuses(), parts.log(worker)[-3000:])
        assert server.mailbox.count() == 30
        assert parts.alive(worker)
    reasons = dict(Message.objects.filter(status=FAILED).values_list("key", "last_error"))
    assert reasons[refused].startswith("address refused:") and "550" in reasons[refused]
    assert reasons[no_contact] == "no email address"
    assert reasons[sms_no_phone] == "no mobile phone number"
    assert reasons[no_template].startswith("cannot render:")
    # Visible to staff on the patient's page.
    client.force_login(front_desk)
    patient = Message.objects.get(key=refused).patient_id
    page = client.get(reverse("messaging:patient", args=[patient])).content.decode()
    assert "address refused" in page


def test_a_malformed_stored_address_fails_alone_and_the_batch_goes_on(celery):
    make_due(20)
    person = PatientFactory(consent_email=True)
    # EmailField validates forms, not saves: an import or an old record can hold this.
    type(person).objects.filter(pk=person.pk).update(email="rosa@@example.org")
    Message.objects.create(
        key="malformed",
        patient=person,
        kind="touch_up",
        channel="email",
        due_at=timezone.now() - timedelta(minutes=5),
        give_up_at=timezone.now() + timedelta(days=3),
    )
    with SMTPServer() as server:
        parts = celery(email=server.url)
        worker = parts.worker(concurrency=1)
        parts.beat()
        settled = wait_for(lambda: statuses() == {SENT: 20, FAILED: 1}, timeout=15)
        print(f"\nmalformed address: {statuses()}, {server.mailbox.count()} received")
        assert parts.alive(worker)
    assert settled
    assert Message.objects.get(key="malformed").last_error.startswith("invalid address")


def test_an_aftercare_step_without_a_subject_fails_with_a_reason(db):
    make_due(5)
    AftercareStep.objects.create(
        key="no-subject",
        title="Blank subject",
        anchor=Anchor.SESSION,
        email_subject="",
        email_body="Walk for 20 minutes.",
        sms_text="Walk for 20 minutes.",
    )
    row = Message.objects.create(
        key="no-subject",
        patient=Message.objects.first().patient,
        kind="aftercare:no-subject",
        channel="email",
        due_at=timezone.now() - timedelta(minutes=5),
        give_up_at=timezone.now() + timedelta(days=3),
    )
    outcome = outbox.send_batch(10)  # in process, locmem email
    row.refresh_from_db()
    assert (outcome["sent"], outcome["failed"]) == (5, 1)
    assert row.status == FAILED and row.last_error.startswith("cannot render")


def test_a_reminder_of_an_unknown_kind_is_not_sent_as_something_else(db):
    make_due(0)
    row = Message.objects.create(
        key="unknown-kind",
        patient=PatientFactory(consent_email=True),
        kind="reminder_third",
        channel="email",
        due_at=timezone.now() - timedelta(minutes=5),
        give_up_at=timezone.now() + timedelta(days=3),
    )
    outbox.send_batch(10)
    row.refresh_from_db()
    assert row.status == FAILED, (row.status, row.subject)
    assert "kind" in row.last_error


class SlowMailbox(realparts.Mailbox):
    """A mail server that takes its time over each message (tarpit, overloaded relay)."""

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(0.3)
        return await super().handle_DATA(server, session, envelope)


def test_a_slow_mail_server_does_not_make_a_live_worker_outlast_its_lease(monkeypatch):
    """In process, the lease shortened to 1 s and the server at 0.3 s a message: worker A
    (a thread) is still in its batch of 10 when the dispatcher releases its lease and worker
    B (this thread) claims the rows A has not reached yet."""
    import threading

    make_due(10)
    monkeypatch.setattr(outbox, "LEASE", timedelta(seconds=1))
    server = SMTPServer()
    server.mailbox = SlowMailbox()
    server.controller.handler = server.mailbox
    with server, override_email(server.port):

        def worker_a():
            try:
                outbox.send_batch(10)
            finally:
                connection.close()

        first = threading.Thread(target=worker_a)
        first.start()
        # A is well into its batch: its first lease would have run out by now.
        assert wait_for(lambda: server.mailbox.count() >= 3, timeout=60)
        outbox.release_expired_leases()
        outbox.send_batch(10)
        first.join(timeout=30)
    print(
        f"\nslow server: {server.mailbox.count()} received for 10, "
        f"{server.mailbox.duplicates()} duplicates"
    )
    assert server.mailbox.duplicates() == 0


class CutOffMailbox(realparts.Mailbox):
    """Accepts the first message, then ends the sender's database session (as a database
    restart does) before the sender can record that it was sent."""

    def __init__(self, backend_pid: int):
        super().__init__()
        self.backend_pid = backend_pid

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if self.count() == 1:
            end_session(self.backend_pid)
        return reply


def _connect_args() -> dict:
    params = settings.DATABASES["default"]
    return {
        "dbname": params["NAME"],
        "user": params["USER"] or "postgres",
        "host": params["HOST"] or "127.0.0.1",
        "port": params["PORT"] or 5432,
    }


def end_session(pid: int) -> None:
    """Ends a database session from another one, and waits until it has gone."""
    with psycopg2.connect(**_connect_args()) as other, other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def cut_new_connections(monkeypatch, mailbox, times: int) -> list[int]:
    """After the first message has arrived, the worker's next `times` new database sessions
    end as soon as they are open (the database still restarting); returns their ids."""
    cut: list[int] = []
    commits_wait_for_disk = outbox._commits_wait_for_disk

    def cut_then_set():
        if mailbox.count() and len(cut) < times:
            cut.append(backend_pid())
            end_session(cut[-1])
        commits_wait_for_disk()

    monkeypatch.setattr(outbox, "_commits_wait_for_disk", cut_then_set)
    return cut


@contextlib.contextmanager
def commits_not_waiting_for_disk_by_default():
    """New sessions of the test database commit without waiting for the disk, so a
    session that does wait shows it set that itself."""
    name = settings.DATABASES["default"]["NAME"]
    admin = psycopg2.connect(**_connect_args())
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
        yield
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" RESET synchronous_commit')
        admin.close()


def test_a_send_whose_mark_the_database_loses_is_recorded_on_a_new_connection(monkeypatch):
    """The send of message 1 succeeds, then the worker's database session ends before the
    "sent" mark, and so does its first new one: the mark is tried again until recorded, on a
    session whose commits wait for the disk, and the worker stops there. After the lease the
    other 9 go out, and message 1 does not go out again."""
    make_due(10)
    pid = backend_pid()
    server = SMTPServer()
    server.mailbox = CutOffMailbox(pid)
    server.controller.handler = server.mailbox
    cut = cut_new_connections(monkeypatch, server.mailbox, times=1)
    with commits_not_waiting_for_disk_by_default(), server, override_email(server.port):
        with pytest.raises(DBError):
            outbox.send_batch(10)
        assert server.mailbox.count() == 1
        assert len(cut) == 1, "the mark was not tried again on a new connection"
        assert backend_pid() not in (pid, *cut)  # a third session recorded it, and
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"  # its commits wait for the disk
        assert statuses() == {SENT: 1, SENDING: 9}  # recorded; the rest wait for the lease
        move_leases_past()
        outbox.release_expired_leases()
        outbox.send_batch(10)
    assert statuses() == {SENT: 10}
    assert server.mailbox.count() == 10 and server.mailbox.duplicates() == 0
    assert set(server.mailbox.ids()) == expected_ids()


def test_a_mark_the_database_never_takes_is_given_up_before_the_lease_ends(monkeypatch):
    """The database ends every session of the worker's after the first send: the mark is
    tried again until MARK_MARGIN before the lease ends, never after, and the worker stops.
    Message 1 goes out again after the lease, with its one Message-ID: the one double a
    database fault can still cause."""
    make_due(3)
    monkeypatch.setattr(outbox, "LEASE", outbox.MARK_MARGIN + timedelta(seconds=2))
    server = SMTPServer()
    server.mailbox = CutOffMailbox(backend_pid())
    server.controller.handler = server.mailbox
    cut = cut_new_connections(monkeypatch, server.mailbox, times=1000)
    with server, override_email(server.port):
        with pytest.raises(DBError):
            outbox.send_batch(3)
        stopped = timezone.now()
        monkeypatch.undo()
        connection.close()
        lease = Message.objects.filter(status=SENDING).values_list("lease_until", flat=True)
        assert len(set(lease)) == 1 and stopped < lease[0] - outbox.MARK_MARGIN / 2
        assert len(cut) >= 3 and server.mailbox.count() == 1
        assert statuses() == {SENDING: 3}
        move_leases_past()
        outbox.release_expired_leases()
        outbox.send_batch(3)
    assert statuses() == {SENT: 3}
    assert server.mailbox.count() == 4 and server.mailbox.duplicates() == 1


def override_email(port: int):
    from django.test import override_settings

    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
    )


def test_a_worker_and_beat_send_the_demo_clinics_messages_once_each(celery, doctor):
    """From seed_demo's data and a plan completed the normal way (its last session charted),
    as production runs it: the worker's dispatcher writes the touch-up invitations, and every
    message still worth sending, made due, arrives once or is withdrawn with its reason."""
    from io import StringIO

    from django.core.management import call_command

    from scheduling import reminders
    from tests.factories import screen
    from tests.treatments.conftest import chart_session, make_plan

    call_command("seed_demo", "--allow-production", stdout=StringIO())
    record = PatientFactory(consent_email=True)
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(record, doctor, sessions=2)
    today = timezone.localdate()
    chart_session(plan, doctor, treated_on=today - timedelta(days=60))
    chart_session(plan, doctor, treated_on=today - timedelta(days=20))
    completed = type(plan).objects.filter(status="completed", touch_up_due__isnull=False)
    assert completed.count() >= 2  # the demo's and this one
    with SMTPServer() as server:
        parts = celery(email=server.url)
        worker = parts.worker(concurrency=2)
        parts.beat()
        invited = lambda: (  # noqa: E731
            Message.objects.filter(kind=reminders.TOUCH_UP).count() == completed.count()
        )
        assert wait_for(invited, timeout=60), parts.log(worker)[-3000:]
        # Time moves on: everything still worth sending falls due now.
        soon = timezone.now() + timedelta(minutes=5)
        worth = Message.objects.filter(status=PENDING, give_up_at__gt=soon)
        made_due = set(worth.values_list("pk", flat=True))
        worth.update(due_at=timezone.now())
        rows = Message.objects.filter(pk__in=made_due)
        settled = lambda: not rows.filter(status__in=[PENDING, SENDING]).exists()  # noqa: E731
        assert wait_for(settled, timeout=90), (statuses(), parts.log(worker)[-3000:])
        sent = rows.filter(status=SENT)

        # The demo's bookings were told at once (issue 15): those went out before the rest
        # was made due, and arrived like every other message sent.
        def settled_all() -> bool:
            due = Message.objects.filter(status=PENDING, due_at__lte=timezone.now())
            return not due.exists() and not Message.objects.filter(status=SENDING).exists()

        assert wait_for(settled_all, timeout=90), statuses()
        everything_sent = Message.objects.filter(status=SENT)
        assert set(server.mailbox.ids()) == {outbox.message_id(r) for r in everything_sent}
        assert server.mailbox.duplicates() == 0
    assert not rows.filter(status=FAILED).exists(), list(rows.values_list("key", "last_error"))
    assert sent.filter(
        kind=reminders.TOUCH_UP, topic=reminders.Topic.PLAN, topic_id=plan.pk
    ).exists()
    assert all(r.last_error for r in rows.filter(status=MessageStatus.CANCELLED))
