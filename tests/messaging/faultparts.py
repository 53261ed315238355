"""Faults for the outbox: servers of the caller's own that can be broken without touching the
machine's shared ones, and `Drill`, which runs real Celery workers and beat over reminders that
are already due, breaks one part while rows are really being sent, and counts what arrived.

- `PostgresCluster`: initdb'd in a temporary folder as the `postgres` user (the server refuses
  root), on 127.0.0.1 and a free port, its unix socket in that folder, fsync and synchronous
  commit on, as in production; stopped in "fast" mode (a clean restart) or "immediate" mode (a
  crash: no checkpoint, whatever was only in PostgreSQL's memory is gone).
- `RedisServer`: a redis-server child on a free port that keeps nothing on disk, so a stop
  loses every queued task, as the machine's Redis does.
- `MailServer`: realparts.SMTPServer slowed down a little per message, so that a batch lasts
  long enough to be caught in the middle, and able to go down and come back on the same port.

Used by tests/scheduling/test_outbox_faults.py and bench/faults.py. Time moves forward in the
database (lease_until, due_at), never waited for; every wait is on a condition with a deadline.
"""

import asyncio
import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import environ
import psycopg2
import redis
from aiosmtpd.controller import Controller
from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import Count, Max, Q
from django.db.utils import load_backend
from django.utils import timezone

from messaging import sending as outbox
from messaging.models import Message, MessageStatus
from tests.messaging.realparts import Celery, Mailbox, SMTPServer, free_port, wait_for

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
# A worker whose "sent" mark the database failed tries it again at least this often (the
# outbox's longest wait and a new connection): rows unchanged for longer are no one's now.
MARK_QUIET = 2 * outbox.LONGEST_MARK_WAIT.total_seconds() + 1
SENDING, PENDING, SENT, FAILED = (
    MessageStatus.SENDING,
    MessageStatus.PENDING,
    MessageStatus.SENT,
    MessageStatus.FAILED,
)


# --- PostgreSQL ----------------------------------------------------------------------------


class PostgresCluster:
    """A PostgreSQL cluster of the caller's own. `with PostgresCluster() as pg:` makes and
    starts it; leaving the block (or the interpreter) stops it in immediate mode and removes
    its folder, whatever happened."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="goodskin-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.root, user=PG_USER)
        atexit.register(self.close)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str, timeout: float = 120) -> str:
        command = [str(PG_BIN / program), *args]
        if os.geteuid() == 0:  # initdb, pg_ctl and postgres refuse to run as root
            command = ["runuser", "-u", PG_USER, "--", *command]
        done = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode:
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}\n{self.log_tail()}")
        return done.stdout

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", PG_USER, "-A", "trust", "-E", "UTF8")
        settings = {
            "port": self.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            # What the durability under test rests on: a commit is on disk when it returns.
            "fsync": "on",
            "synchronous_commit": "on",
            "full_page_writes": "on",
        }
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("".join(f"{name} = {value}\n" for name, value in settings.items()))

    def start(self, timeout: float = 60) -> None:
        # -W: pg_ctl returns at once; readiness is polled below (crash recovery included).
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-W", "start")
        if not wait_for(self.ready, timeout, interval=0.1):
            raise RuntimeError(f"PostgreSQL not ready after {timeout} s\n{self.log_tail()}")

    def stop(self, mode: str = "fast", timeout: float = 60) -> None:
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(mode)
        # pg_ctl -w polls until the postmaster has gone, up to -t seconds.
        wait = ["-w", "-t", str(int(timeout))]
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, *wait, "stop", timeout=timeout + 10)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def ready(self) -> bool:
        """Accepting connections (pg_isready says no during start-up and crash recovery)."""
        command = [str(PG_BIN / "pg_isready"), "-q", "-t", "2", "-h", "127.0.0.1"]
        return subprocess.run([*command, "-p", str(self.port), "-U", PG_USER]).returncode == 0

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.logfile.read_text(errors="replace")[-chars:]
        return ""

    def create_database(self, name: str) -> str:
        conn = psycopg2.connect(self.url())
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)

    def copy_database(self, source: dict, name: str) -> str:
        """A copy of `source`, a Django DATABASES entry on another server (in a test: the
        pytest test database, rows included), restored here as `name`; faster than migrating.
        Returns its DATABASE_URL."""
        url = self.create_database(name)
        env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
        server = ["-h", source.get("HOST") or "127.0.0.1", "-p", str(source.get("PORT") or 5432)]
        server += ["-U", source.get("USER") or PG_USER]
        with tempfile.TemporaryFile() as errors:
            dump = subprocess.Popen(
                [str(PG_BIN / "pg_dump"), "-Fc", "--no-owner", "--no-acl", *server, source["NAME"]],
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
            )
            restore = subprocess.run(
                [str(PG_BIN / "pg_restore"), "--no-owner", "--no-acl", "--exit-on-error"]
                + ["-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, "-d", name],
                stdin=dump.stdout,
                capture_output=True,
                text=True,
                timeout=300,
            )
            dump.stdout.close()
            dumped = dump.wait(timeout=60)
            errors.seek(0)
            if dumped or restore.returncode:
                raise RuntimeError(f"copy failed: {errors.read().decode()} {restore.stderr}")
        return url

    def close(self) -> None:
        if self.running():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
        atexit.unregister(self.close)

    def __enter__(self) -> "PostgresCluster":
        try:
            self.init()
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def django_database(alias: str, url: str):
    """The database at `url` as Django connection `alias` for the length of the block (the
    test's own cluster, next to pytest's "default"). Made by hand, not added to DATABASES: a
    test may use a connection made on the fly, but no configured alias it did not declare."""
    config = {**connections.settings["default"], **environ.Env.db_url_config(url)}
    connections[alias] = load_backend(config["ENGINE"]).DatabaseWrapper(config, alias)
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]


# --- Redis ---------------------------------------------------------------------------------


class RedisServer:
    """A redis-server child on 127.0.0.1 and a free port, in a session of its own, nothing kept
    on disk. `with RedisServer() as server:` starts it and always kills it."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="goodskin-redis-"))
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 30) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.root)]
            + ["--logfile", str(self.root / "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not wait_for(self.ping, timeout, interval=0.05):
            raise RuntimeError(f"redis-server on port {self.port} did not answer in {timeout} s")

    def ping(self) -> bool:
        try:
            with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """SIGTERM: Redis shuts down (saving nothing: --save ""). SIGKILL: see kill()."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def flushall(self) -> None:
        with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5) as client:
            client.flushall()

    def __enter__(self) -> "RedisServer":
        try:
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


# --- Mail ----------------------------------------------------------------------------------


class SlowMailbox(Mailbox):
    """Takes `delay` seconds over each message before accepting it."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


class MailServer(SMTPServer):
    """realparts.SMTPServer taking `delay` seconds over each message, that can go down (nobody
    listens: connection refused) and come back on the same port with the same mailbox."""

    def __init__(self, delay: float = 0.0):
        super().__init__()
        self.mailbox = SlowMailbox(delay)
        self.is_up = False

    def up(self) -> None:
        # A stopped Controller has closed its event loop: a new one each time.
        self.controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, server_hostname="localhost"
        )
        self.controller.start()
        self.is_up = True

    def down(self) -> None:
        self.controller.stop()
        self.is_up = False

    def __enter__(self) -> "MailServer":
        self.up()
        return self

    def __exit__(self, *exc) -> None:
        if self.is_up:
            self.down()


# --- The drill -----------------------------------------------------------------------------


@dataclass
class Outcome:
    scenario: str
    reminders: int
    received: int = 0
    lost: int = 0
    doubled: int = 0
    processes: int = 0
    seconds: float = 0.0
    statuses: dict = field(default_factory=dict)
    settled: bool = False
    note: str = ""
    log: str = ""  # the worker's last lines, when the rows did not settle
    # mail_down only: rounds of failed attempts, simulated minutes, messages accepted while
    # down, and the most failed attempts of a row still waiting when the server came back
    rounds: int = 0
    minutes_down: float = 0.0
    received_while_down: int = 0
    most_attempts: int = 0
    # The copies too many the fault may make: one per worker process (a worker killed between
    # a send and its mark) unless the fault says fewer (a database fault: none).
    may_double: int | None = None

    @property
    def kept(self) -> bool:
        """The outbox's promise: nothing lost, no more copies than the fault may make."""
        may_double = self.processes if self.may_double is None else self.may_double
        return self.settled and self.lost == 0 and self.doubled <= may_double

    def __str__(self) -> str:
        return (
            f"{self.scenario}: {self.reminders} reminders, {self.received} messages received, "
            f"lost {self.lost}, doubled {self.doubled}, {self.processes} worker processes, "
            f"{self.seconds:.1f} s; rows {self.statuses}" + (f"; {self.note}" if self.note else "")
        )


class Drill:
    """A worker (prefork, `concurrency` processes) and `beats` beat processes sending the due
    reminders of the database at `database` (seen here through Django alias `using`) through
    `redis` into a MailServer; the fault functions below break one part mid-batch.
    `expected`: the Message-IDs of every reminder (test_outbox_real.expected_ids())."""

    def __init__(
        self,
        scenario: str,
        *,
        database: str,
        redis: RedisServer,
        expected: set[str],
        logs: Path,
        using: str = "default",
        concurrency: int = 2,
        beats: int = 1,
        mail_delay: float = 0.01,
        settle: float = 120.0,
    ):
        self.scenario = scenario
        self.database, self.using, self.redis = database, using, redis
        self.expected, self.logs = expected, logs
        self.concurrency, self.beats = concurrency, beats
        self.mail_delay, self.settle = mail_delay, settle

    def __enter__(self) -> "Drill":
        self._stack = ExitStack()
        self.mail = self._stack.enter_context(MailServer(delay=self.mail_delay))
        self.parts = self._stack.enter_context(
            Celery(
                database=self.database, redis=self.redis.url(), email=self.mail.url, logs=self.logs
            )
        )
        self.started, self.marks = time.monotonic(), []
        self.worker = self.parts.worker(concurrency=self.concurrency)
        for _ in range(self.beats):
            self.parts.beat()
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    # The rows, read while parts of the system come and go.

    def rows(self):
        return Message.objects.using(self.using)

    def _read(self, read, default=None):
        try:
            return read()
        except (OperationalError, InterfaceError):  # the database is down or restarting
            connections[self.using].close()
            return default

    def statuses(self) -> dict[str, int] | None:
        return self._read(
            lambda: dict(self.rows().order_by().values_list("status").annotate(Count("id")))
        )

    def in_flight(self) -> int:
        """Batches being sent now: each holds its rows in "sending" under a lease of its own."""
        sending = self.rows().filter(status=SENDING).order_by()
        return self._read(lambda: sending.values("lease_until").distinct().count(), 0)

    def wait_mid_batch(self, timeout: float = 60) -> int:
        """Until messages are arriving (about ten per process so far) and every worker process
        holds a batch in "sending" (one is enough if a busy machine never shows them all at
        once); returns how many."""
        seen, arrived = [0], 10 * self.concurrency

        def busy(enough: int) -> bool:
            seen[0] = self.in_flight() if self.mail.mailbox.count() >= arrived else 0
            return seen[0] >= enough

        if not wait_for(lambda: busy(self.concurrency), timeout, interval=0.02):
            assert wait_for(lambda: busy(1), 15, interval=0.02), self.worker_log()
        self.mark("fault")
        return seen[0]

    def mark(self, event: str) -> None:
        """Note when something happened, in seconds from the start (shown in the outcome)."""
        self.marks.append(f"{event} {time.monotonic() - self.started:.1f}")

    def wait_mail_quiet(self, quiet: float = 1.0, timeout: float = 30) -> bool:
        """Until no message has arrived for `quiet` seconds: every worker has stalled."""
        last = [self.mail.mailbox.count(), time.monotonic()]

        def silent() -> bool:
            count, now = self.mail.mailbox.count(), time.monotonic()
            if count != last[0]:
                last[:] = [count, now]
            return now - last[1] >= quiet

        return wait_for(silent, timeout, interval=0.05)

    def release_claimed_before(self, fault: datetime, quiet: float = MARK_QUIET) -> int:
        """Time moves forward for the rows claimed before the fault and still in "sending" once
        nothing has changed them for `quiet` seconds (their worker died, or stopped its batch
        once the database was back and the send it had in hand recorded): their lease now
        lies in the past and the dispatcher puts them back. A lease taken after the fault ends
        later than fault + LEASE and is left alone: stealing a live worker's rows would make
        doubles of our own."""
        stuck = self.rows().filter(status=SENDING, lease_until__lte=fault + outbox.LEASE)
        last = [None, time.monotonic()]

        def unchanged() -> bool:
            ids = self._read(lambda: set(stuck.values_list("pk", flat=True)))
            if ids is None or ids != last[0]:
                last[:] = [ids, time.monotonic()]
                return False
            return time.monotonic() - last[1] >= quiet

        wait_for(unchanged, timeout=60, interval=0.1)
        return stuck.update(lease_until=timezone.now() - outbox.LEASE)

    def wait_settled(self, *, advance: bool = False) -> bool:
        """Until no row is pending or sending (all sent, or given up on). `advance`: time
        passes meanwhile, so a row waiting for its next attempt becomes due now."""

        def settled() -> bool:
            if advance:
                self._read(lambda: self.rows().filter(status=PENDING).update(due_at=timezone.now()))
            counts = self.statuses()
            return counts is not None and not counts.get(PENDING) and not counts.get(SENDING)

        return wait_for(settled, self.settle, interval=0.2)

    def worker_log(self, chars: int = 3000) -> str:
        return self.parts.log(self.worker)[-chars:]

    def outcome(self, *, settled: bool, note: str = "", **details) -> Outcome:
        self.mark("settled" if settled else "gave up waiting")
        mailbox = self.mail.mailbox
        return Outcome(
            scenario=self.scenario,
            reminders=len(self.expected),
            received=mailbox.count(),
            lost=len(self.expected - set(mailbox.ids())),
            doubled=mailbox.duplicates(),
            processes=self.concurrency,
            seconds=time.monotonic() - self.started,
            statuses=self.statuses() or {},
            settled=settled,
            note=f"{note}; at s: {', '.join(self.marks)}",
            log="" if settled else self.worker_log(),
            **details,
        )


# --- The faults ----------------------------------------------------------------------------


def worker_killed(drill: Drill) -> Outcome:
    """SIGKILL to the worker and its pool mid-batch, then a new worker."""
    in_flight = drill.wait_mid_batch()
    drill.parts.kill(drill.worker)
    fault = timezone.now()
    # No worker is alive: every row in "sending" is the dead one's.
    released = drill.release_claimed_before(fault, quiet=0)
    drill.worker = drill.parts.worker(concurrency=drill.concurrency)
    note = f"{in_flight} batches in flight, {released} rows left in 'sending'"
    return drill.outcome(settled=drill.wait_settled(), note=note)


def postgres_stopped(drill: Drill, cluster: PostgresCluster, mode: str) -> Outcome:
    """PostgreSQL stopped mid-batch ("fast": clean; "immediate": a crash) and started again;
    the workers keep running through it and must carry on once it is back."""
    in_flight = drill.wait_mid_batch()
    cluster.stop(mode)
    fault = timezone.now()  # no claim can happen from here until the start below
    drill.mark("stopped")
    # Each worker stops at its next write; only then may its rows be given to another.
    quiet = drill.wait_mail_quiet()
    cluster.start()
    drill.mark("started")
    released = drill.release_claimed_before(fault)
    drill.mark("released")
    note = f"{in_flight} batches in flight, {released} rows released after the restart"
    if not quiet:
        note += ", mail still arriving while PostgreSQL was down"
    # Each send the fault interrupted is recorded once PostgreSQL is back: no copy too many.
    return drill.outcome(settled=drill.wait_settled(), note=note, may_double=0)


def redis_stopped(drill: Drill, redis: RedisServer) -> Outcome:
    """Redis stopped mid-batch (its queued tasks are gone) and started again, empty."""
    in_flight = drill.wait_mid_batch()
    redis.stop()
    drill.mark("stopped")
    # The batches in hand need only the database and the mail server: they carry on (Redis
    # comes back while they are still running, their tasks unacknowledged, if they are long).
    mailbox, more = drill.mail.mailbox, 10 * drill.concurrency
    count = mailbox.count()
    carried_on = wait_for(
        lambda: mailbox.count() >= count + more or drill.in_flight() == 0, timeout=60
    )
    redis.start()
    drill.mark("started")
    note = f"{in_flight} batches in flight, " + (
        "sending went on while Redis was down" if carried_on else "sending STOPPED with Redis"
    )
    return drill.outcome(settled=drill.wait_settled(), note=note)


def redis_flushed(drill: Drill, redis: RedisServer) -> Outcome:
    """FLUSHALL mid-batch: queued tasks, unacked tasks and Celery's bindings vanish."""
    in_flight = drill.wait_mid_batch()
    redis.flushall()
    return drill.outcome(settled=drill.wait_settled(), note=f"{in_flight} batches in flight")


def two_beats(drill: Drill) -> Outcome:
    """No fault: two beat processes ring the bell at once (make the Drill with beats=2)."""
    return drill.outcome(settled=drill.wait_settled(), note=f"{drill.beats} beats")


def mail_down(drill: Drill, *, rounds: int = 6, minutes: int = 21, deadline=600.0) -> Outcome:
    """The mail server goes down mid-batch (connection refused) for at least `rounds` rounds
    of failed attempts and `minutes` of simulated time (after each round every waiting row is
    made due now: the backoff has passed), then comes back on the same port. A slow round is
    waited for, up to `deadline` seconds for the whole outage; the note says why it ended."""
    in_flight = drill.wait_mid_batch()
    drill.mail.down()
    drill.mark("down")
    before = drill.mail.mailbox.count()
    done, simulated, ended = 0, timedelta(0), ""
    give_up = time.monotonic() + deadline
    while not ended:
        if done >= rounds and simulated >= timedelta(minutes=minutes):
            ended = f"{rounds} rounds and {minutes} min reached"
        elif not wait_for(lambda: round_over(drill), give_up - time.monotonic(), interval=0.2):
            ended = f"no round over within {deadline:.0f} s: {drill.statuses()}"
        elif (skipped := skip_the_wait(drill)) is not None:
            simulated += skipped
            done += 1
            drill.mark(f"round {done}")
        elif not drill.rows().filter(status=SENDING).exists():
            ended = f"nothing left to try again: {drill.statuses()}"
        # else: the rows were claimed since the round ended (a dispatcher's next try started
        # on its own): not a round of ours, wait for it to end.
    most_attempts = drill.rows().filter(status=PENDING).aggregate(Max("attempts"))["attempts__max"]
    while_down = drill.mail.mailbox.count() - before
    drill.mail.up()
    drill.mark("up")
    settled = drill.wait_settled(advance=True)
    minutes_down = simulated.total_seconds() / 60
    note = f"{in_flight} batches in flight; down {done} rounds, {minutes_down:.0f} min simulated"
    note += f" (ended: {ended}), up to {most_attempts} failed attempts on one row"
    note += f", {before} received before, {while_down} while down"
    return drill.outcome(
        settled=settled,
        note=note,
        rounds=done,
        minutes_down=minutes_down,
        received_while_down=while_down,
        most_attempts=most_attempts or 0,
    )


def round_over(drill: Drill) -> bool:
    """Every row has had its attempt: none is being sent, none is due. One statement, so one
    snapshot: with two, a batch claimed between them would be seen by neither (not yet
    "sending" for the first, no longer due for the second) and a round end mid-batch."""
    busy = Q(status=SENDING) | Q(status=PENDING, due_at__lte=timezone.now())
    return not drill.rows().filter(busy).exists()


def skip_the_wait(drill: Drill) -> timedelta | None:
    """Time passes for the rows waiting for their next attempt: each is made due now, and the
    longest wait skipped is returned; None when no row waits (each is being sent, sent or
    given up on). Locked while read and changed: a dispatcher claims with SKIP LOCKED, so no
    row is taken between the read of its due time and the change."""
    with transaction.atomic(using=drill.using):
        waiting = drill.rows().select_for_update().filter(status=PENDING)
        due = dict(waiting.values_list("pk", "due_at"))
        if not due:
            return None
        now = timezone.now()
        drill.rows().filter(pk__in=due).update(due_at=now)
    return max(max(due.values()) - now, timedelta(0))
