#!/usr/bin/env python
"""The fault drills of bench/faults.py, each while pages are under load (issue 19, point 3).

    .venv/bin/python bench/faults_load.py                  # every scenario
    .venv/bin/python bench/faults_load.py --only pg-fast booking-race
    make bench-faults-load

Everything it breaks is its own (tests/messaging/faultparts.py): a PostgreSQL cluster on a free
port, a redis-server, a mail server in this process; the machine's shared servers are never
touched. On them: the app under gunicorn (2 sync workers, --no-control-socket, persistent
connections, DEBUG off, DB_CONNECT_TIMEOUT 2), and per scenario a Celery worker (2 processes)
and beat sending N due reminders (faultparts.Drill), while client threads load the pages: the
front desk's day view, /healthz, and bookings (a POST each, each a different free time).

Scenarios:
    pg-fast        PostgreSQL restarted (fast) mid-batch, down at least --outage seconds
    pg-immediate   PostgreSQL killed (immediate stop: a crash), down as long, then started
    redis-restart  Redis stopped (its queued tasks gone) and started again at once, empty
    redis-down     Redis down for --redis-down seconds (60), then started again, empty
    worker-kill    the Celery worker SIGKILLed mid-batch, a new one started
    two-beats      two beat processes at once
    mail-down      the mail server refusing connections for --mail-down seconds (60)
    booking-race   50 clients booking the same 3 times at once, 5 rounds: no overlap, no 500

For each it reports the messages lost and doubled (the due reminders and every message the
bookings wrote that fell due, those still waiting their minute made due once the load stops:
each must arrive once), and from the load: requests, answers by
status, the slowest answer (none may hang: the clients give up after 15 s), whether every 5xx
was the app's own error page, bookings asked, booked, and half-written (an appointment missing
a row a booking writes with it, compared with a booking made before any fault), overlapping
appointments, and how long after the fault ended the pages answered again.
"""

import argparse
import datetime as dt
import http.client
import os
import platform
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.messaging.realparts import free_port, wait_for  # noqa: E402 (no Django in it)

PG_PORT, REDIS_PORT, DATABASE = free_port(), free_port(), "goodskin_faults_load"
APP_ENV = {
    "DJANGO_SETTINGS_MODULE": "goodskin.settings_test",  # DEBUG off, plain HTTP
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/{DATABASE}",
    "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    "DB_CONNECT_TIMEOUT": "2",
    "ALLOWED_HOSTS": "127.0.0.1",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(APP_ENV)

import django  # noqa: E402

django.setup()

from benchdb import apart_free_times, session  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    get_user_model,
)
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.utils import timezone  # noqa: E402

from goodskin.roles import Role, group_for  # noqa: E402
from messaging import sending as outbox  # noqa: E402
from messaging.models import Message, MessageStatus  # noqa: E402
from scheduling import clock  # noqa: E402
from scheduling.models import Appointment, Room, SchedulingSettings, WorkingHours  # noqa: E402
from scheduling.services import default_location  # noqa: E402
from tests.factories import PatientFactory  # noqa: E402
from tests.messaging.faultparts import Drill, PostgresCluster, RedisServer  # noqa: E402
from tests.messaging.test_outbox_real import make_due  # noqa: E402

BOOK_NOTE = "faults under load"
CLIENT_TIMEOUT = 15.0  # seconds a client waits for an answer: longer is a hung request
HUNG = 10.0  # an answer slower than this counts as hung
ERROR_PAGE_MARK = b"<html"  # the app's own error pages are whole HTML documents


# --- The clinic -----------------------------------------------------------------------------


def clinic() -> dict:
    """An office with 2 rooms and 2 doctors working weekdays 8 to 5, a front-desk user and 40
    patients; a session for the desk, and the free times the bookings will take."""
    SchedulingSettings.objects.get_or_create(pk=1)
    office = default_location()
    for n in (1, 2):
        Room.objects.update_or_create(location=office, name=f"Room {n}", defaults={"active": True})
    users = get_user_model().objects
    doctors = []
    for n in (1, 2):
        doctor, created = users.get_or_create(
            username=f"faults-dr{n}", defaults={"first_name": "Dana", "last_name": f"Doctor {n}"}
        )
        doctor.groups.add(group_for(Role.DOCTOR))
        if created:
            WorkingHours.objects.bulk_create(
                WorkingHours(
                    doctor=doctor,
                    location=office,
                    weekday=weekday,
                    starts=dt.time(8),
                    ends=dt.time(17),
                )
                for weekday in range(5)
            )
        doctors.append(doctor)
    desk, _ = users.get_or_create(username="faults-desk")
    desk.groups.add(group_for(Role.FRONT_DESK))
    patients = [p.pk for p in PatientFactory.create_batch(40, consent_email=True)]
    session_key = session(desk, "goodskin.auth.UsernameOrEmailBackend")
    tz = clock.zone(office.time_zone)
    today = timezone.localdate(timezone.now(), tz)
    times = []
    for doctor, starts_at in apart_free_times(
        office, doctors, today + timedelta(days=30), today + timedelta(days=700)
    ):
        local = starts_at.astimezone(tz)
        times.append((doctor.pk, f"{local:%Y-%m-%d}", f"{local:%H:%M}"))
    random.Random(3).shuffle(times)
    csrf = secrets.token_hex(16)
    return {
        "office": office.pk,
        "desk": desk.pk,
        "patients": patients,
        "cookie": f"sessionid={session_key}; csrftoken={csrf}",
        "csrf": csrf,
        "times": times,
        "days": [f"{today + timedelta(days=n)}" for n in range(1, 8)],
    }


# --- The load -------------------------------------------------------------------------------


@dataclass
class Answer:
    kind: str  # day, healthz, book
    started: float  # monotonic
    seconds: float
    status: int  # 0: no answer (refused, reset, timed out)
    error: str = ""
    friendly: bool = True  # a 5xx that is the app's own page
    booking: tuple | None = None


@dataclass
class Load:
    """Client threads, each in a loop: the day view, /healthz and a booking, in random order."""

    port: int
    facts: dict
    clients: int = 4
    answers: list = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._times = iter(self.facts["times"])

    def next_time(self):
        with self._lock:
            return next(self._times)

    def request(self, kind: str, method: str, path: str, body: str = "") -> Answer:
        headers = {"Cookie": self.facts["cookie"]} if kind != "healthz" else {}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            content = response.read()
            status, error = response.status, ""
        except (OSError, http.client.HTTPException) as exc:
            status, error, content = 0, type(exc).__name__, b""
        finally:
            conn.close()
        friendly = status < 500 or (kind == "healthz" and status == 503)
        friendly = friendly or ERROR_PAGE_MARK in content[:500]
        return Answer(kind, started, time.monotonic() - started, status, error, friendly)

    def book(self, doctor: int, date: str, at: str, patient: int) -> Answer:
        body = (
            f"csrfmiddlewaretoken={self.facts['csrf']}&kind=consultation&doctor={doctor}"
            f"&date={date}&time={at}&location={self.facts['office']}"
            f"&notes={BOOK_NOTE.replace(' ', '+')}"
        )
        answer = self.request("book", "POST", f"/patients/{patient}/appointments/new/", body)
        answer.booking = (doctor, date, at, patient)
        return answer

    def _client(self, number: int) -> None:
        rng = random.Random(number)
        while not self._stop.is_set():
            kind = rng.choice(["day", "day", "healthz", "book"])
            if kind == "day":
                path = f"/schedule/day/?date={rng.choice(self.facts['days'])}"
                answer = self.request("day", "GET", path)
            elif kind == "healthz":
                answer = self.request("healthz", "GET", "/healthz")
            else:
                doctor, date, at = self.next_time()
                answer = self.book(doctor, date, at, rng.choice(self.facts["patients"]))
            with self._lock:
                self.answers.append(answer)
            if answer.status == 0 and answer.seconds < 0.05:
                time.sleep(0.05)  # refused at once: don't spin

    def __enter__(self) -> "Load":
        self.started = time.monotonic()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)


# --- Checks on the database -----------------------------------------------------------------


def companions(appointment_ids) -> dict[int, frozenset]:
    """For each appointment, the kinds of row pointing at it (changes, messages, audit...)."""
    found = {pk: set() for pk in appointment_ids}
    for relation in Appointment._meta.related_objects:
        if relation.many_to_many:
            continue
        model, name = relation.related_model, relation.field.name
        for pk in model._base_manager.filter(**{f"{name}__in": appointment_ids}).values_list(
            name, flat=True
        ):
            found[pk].add(model.__name__)
    return {pk: frozenset(kinds) for pk, kinds in found.items()}


def overlaps() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM scheduling_appointment a JOIN scheduling_appointment b "
            "ON a.id < b.id AND a.status <> 'cancelled' AND b.status <> 'cancelled' "
            "AND (a.doctor_id = b.doctor_id OR a.room_id = b.room_id) "
            "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
        )
        return cursor.fetchone()[0]


def booked_ours() -> list[int]:
    return list(Appointment.objects.filter(notes=BOOK_NOTE).values_list("pk", flat=True))


def due_messages_lost(mailbox, horizon) -> tuple[int, int]:
    """(messages that fell due and never arrived, due rows not settled): every message due
    before `horizon` that was not withdrawn must have arrived."""
    due = Message.objects.filter(due_at__lte=horizon).exclude(status=MessageStatus.CANCELLED)
    ids = {outbox.message_id(m) for m in due}
    arrived = set(mailbox.ids())
    unsettled = due.filter(status__in=[MessageStatus.PENDING, MessageStatus.SENDING]).count()
    return len(ids - arrived), unsettled


# --- The scenarios --------------------------------------------------------------------------


class LoadDrill(Drill):
    """The Drill's rows are the messages due by now and those already tried (waiting for their
    next attempt): a booking also writes reminders due months from now, which must not keep
    the drill waiting."""

    def rows(self):
        return super().rows().filter(Q(due_at__lte=timezone.now()) | Q(attempts__gt=0))


def outage(drill: Drill, seconds: float, stop, start) -> tuple[float, float, str]:
    drill.wait_mid_batch()
    stop()
    down = time.monotonic()
    drill.mark("down")
    time.sleep(seconds)
    start()
    drill.mark("up")
    return down, time.monotonic(), ""


def pg(mode: str):
    def fault(drill, cluster, redis, args):
        fault_at = [None]

        def stop():
            cluster.stop(mode)
            fault_at[0] = timezone.now()

        down, up, _ = outage(drill, args.outage, stop, cluster.start)
        connections.close_all()
        released = drill.release_claimed_before(fault_at[0])
        return down, up, f"{released} rows released after the restart"

    return fault


def redis_fault(seconds_attr: str | None):
    def fault(drill, cluster, redis, args):
        seconds = getattr(args, seconds_attr) if seconds_attr else 0
        down, up, _ = outage(drill, seconds, redis.stop, redis.start)
        return down, up, f"Redis down {up - down:.0f} s"

    return fault


def worker_kill(drill, cluster, redis, args):
    drill.wait_mid_batch()
    down = time.monotonic()
    drill.parts.kill(drill.worker)
    fault_at = timezone.now()
    released = drill.release_claimed_before(fault_at, quiet=0)
    drill.worker = drill.parts.worker(concurrency=drill.concurrency)
    return down, time.monotonic(), f"{released} rows left in 'sending' by the dead worker"


def two_beats(drill, cluster, redis, args):
    now = time.monotonic()
    return now, now, f"{drill.beats} beats"


def mail_down(drill, cluster, redis, args):
    down, up, _ = outage(drill, args.mail_down, drill.mail.down, drill.mail.up)
    return down, up, f"mail refused {up - down:.0f} s"


SCENARIOS = {
    "pg-fast": ("PostgreSQL restart (fast)", pg("fast")),
    "pg-immediate": ("PostgreSQL crash and start", pg("immediate")),
    "redis-restart": ("Redis restarted, empty", redis_fault(None)),
    "redis-down": ("Redis down a minute", redis_fault("redis_down")),
    "worker-kill": ("worker SIGKILL mid-batch", worker_kill),
    "two-beats": ("two beats", two_beats),
    "mail-down": ("mail refused a minute", mail_down),
}


@dataclass
class Row:
    scenario: str
    lost: int = 0
    doubled: int = 0
    requests: int = 0
    statuses: str = ""
    slowest: float = 0.0
    hung: int = 0
    unfriendly: int = 0
    asked: int = 0
    booked: int = 0
    half_written: int = 0
    overlapping: int = 0
    recovered: str = ""
    note: str = ""

    @property
    def kept(self) -> bool:
        return (
            not (self.lost or self.doubled or self.hung or self.unfriendly or self.half_written)
            and not self.overlapping
        )


def judge(title, answers, down, up, reference, before, mailbox, note, drill_outcome) -> Row:
    row = Row(title, note=note)
    row.requests = len(answers)
    codes = Counter(a.status for a in answers)
    row.statuses = ", ".join(f"{code or 'none'}: {n}" for code, n in sorted(codes.items()))
    row.slowest = max((a.seconds for a in answers), default=0.0)
    row.hung = sum(a.seconds > HUNG for a in answers)
    row.unfriendly = sum(not a.friendly for a in answers)
    books = [a for a in answers if a.kind == "book"]
    row.asked, booked_302 = len(books), sum(a.status == 302 for a in books)
    ours = [pk for pk in booked_ours() if pk not in before]
    shapes = companions(ours)
    row.half_written = sum(kinds != reference for kinds in shapes.values())
    row.booked = booked_302
    row.overlapping = overlaps()
    # Recovery: after the fault ended, when did each kind of page last fail?
    parts = []
    for kind in ("day", "healthz", "book"):
        after = [a for a in answers if a.kind == kind and a.started >= up]
        failing = [a for a in after if a.status == 0 or a.status >= 500]
        last = max((a.started + a.seconds - up for a in failing), default=0.0)
        during = [a for a in answers if a.kind == kind and down <= a.started < up]
        ok_during = sum(0 < a.status < 500 for a in during)
        parts.append(f"{kind} {ok_during}/{len(during)} ok during, fine {last:.1f} s after")
    row.recovered = "; ".join(parts)
    lost, unsettled = due_messages_lost(mailbox, timezone.now())
    row.lost = lost  # the due reminders' and the bookings' messages
    row.doubled = mailbox.duplicates()
    if unsettled:
        waiting = Message.objects.filter(
            due_at__lte=timezone.now(), status__in=[MessageStatus.PENDING, MessageStatus.SENDING]
        ).values_list("kind", "status", "attempts", "due_at", "created_at")[:5]
        row.note += f"; {unsettled} due messages not settled, e.g. {list(waiting)}"
    every = dict(Message.objects.order_by().values_list("status").annotate(Count("id")))
    row.note += f"; messages due by now {drill_outcome.statuses}, all {every}"
    row.note += f", {mailbox.count()} received"
    return row


def run(key, args, cluster, redis, port, facts, logs, reference) -> Row:
    title, fault = SCENARIOS[key]
    connections.close_all()
    Message.objects.all().delete()
    redis.flushall()
    before = set(booked_ours())
    make_due(args.reminders, patients=20, prefix=key)
    drill = LoadDrill(
        title,
        database=os.environ["DATABASE_URL"],
        redis=redis,
        expected={outbox.message_id(r) for r in Message.objects.all()},
        logs=logs / key,
        concurrency=2,
        beats=2 if key == "two-beats" else 1,
        mail_delay=args.mail_delay,
        settle=args.settle,
    )
    with drill:
        with Load(port, facts, clients=args.clients) as load:
            time.sleep(args.before)
            down, up, note = fault(drill, cluster, redis, args)
            time.sleep(args.after)
        connections.close_all()
        # A booking's message waits a minute (a second change in it would replace it): time
        # moves forward for those written in the last minutes, so that they are counted too.
        waiting = Message.objects.filter(
            status=MessageStatus.PENDING, due_at__lte=timezone.now() + timedelta(minutes=5)
        )
        drill.mark(f"{waiting.update(due_at=timezone.now())} made due")
        settled = drill.wait_settled(advance=key == "mail-down")
        outcome = drill.outcome(settled=settled, note=note)
        if not settled:
            note += "; NOT SETTLED"
    return judge(
        title, load.answers, down, up, reference, before, drill.mail.mailbox, note, outcome
    )


def booking_race(port, facts, rounds=5, clients=50, times=3) -> Row:
    """`clients` threads post bookings for the same `times` free times at once."""
    row = Row("50 clients, same 3 times")
    load = Load(port, facts)
    answers = []
    for _ in range(rounds):
        chosen = [load.next_time() for _ in range(times)]
        gate = threading.Barrier(clients)
        mine: list[Answer] = []
        lock = threading.Lock()

        def client(n, chosen=chosen, gate=gate, mine=mine, lock=lock):
            doctor, date, at = chosen[n % times]
            gate.wait()
            answer = load.book(doctor, date, at, facts["patients"][n % len(facts["patients"])])
            with lock:
                mine.append(answer)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        answers += mine
    codes = Counter(a.status for a in answers)
    row.requests = row.asked = len(answers)
    row.statuses = ", ".join(f"{code or 'none'}: {n}" for code, n in sorted(codes.items()))
    row.booked = codes.get(302, 0)
    row.slowest = max(a.seconds for a in answers)
    row.hung = sum(a.seconds > HUNG for a in answers)
    row.unfriendly = sum(a.status >= 500 or a.status == 0 for a in answers)
    row.overlapping = overlaps()
    row.note = f"{rounds} rounds of {times} times; one booking per time expected: {rounds * times}"
    if row.booked != rounds * times:
        row.note += f" (got {row.booked})"
    return row


def start_gunicorn(logs: Path) -> tuple[subprocess.Popen, int]:
    """The app; its own mail (none in these pages) goes to the console: only the worker sends."""
    port = free_port()
    env = {**os.environ, **APP_ENV}
    log = open(logs / "gunicorn.log", "wb")  # noqa: SIM115 (the child writes it)
    child = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "goodskin.wsgi", "--workers", "2"]
        + ["--no-control-socket", "--timeout", "30", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def serves() -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    if not wait_for(serves, 60):
        raise RuntimeError((logs / "gunicorn.log").read_text())
    return child, port


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4, help="client threads under load")
    parser.add_argument("--outage", type=float, default=5, help="seconds PostgreSQL is down")
    parser.add_argument("--redis-down", type=float, default=60)
    parser.add_argument("--mail-down", type=float, default=60)
    parser.add_argument("--before", type=float, default=2, help="seconds of load before")
    parser.add_argument("--after", type=float, default=10, help="seconds of load after")
    parser.add_argument("--mail-delay", type=float, default=0.005)
    parser.add_argument("--settle", type=float, default=300)
    keys = [*SCENARIOS, "booking-race"]
    parser.add_argument("--only", nargs="+", choices=keys, default=keys)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="bench-faults-load-"))
    load_before = os.getloadavg()
    print(
        f"Faults under load, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
        f"{platform.machine()} {os.cpu_count()} cores; load average {load_before[0]:.1f}; "
        f"{args.reminders} due reminders a scenario, {args.clients} clients",
        flush=True,
    )
    rows = []
    with PostgresCluster(port=PG_PORT) as cluster, RedisServer(port=REDIS_PORT) as redis:
        cluster.create_database(DATABASE)
        call_command("migrate", verbosity=0)
        facts = clinic()
        gunicorn, port = start_gunicorn(logs)
        try:
            reference_load = Load(port, facts)
            doctor, date, at = reference_load.next_time()
            first = reference_load.book(doctor, date, at, facts["patients"][0])
            assert first.status == 302, f"a booking on a quiet system answered {first.status}"
            reference = companions(booked_ours())[booked_ours()[0]]
            if not first.status:
                raise RuntimeError((logs / "gunicorn.log").read_text())
            print(f"A booking writes with it: {', '.join(sorted(reference))}", flush=True)
            for key in args.only:
                if key == "booking-race":
                    row = booking_race(port, {**facts, "times": reference_load._times})
                else:
                    facts_now = {**facts, "times": reference_load._times}
                    row = run(key, args, cluster, redis, port, facts_now, logs, reference)
                rows.append(row)
                print(
                    f"{row.scenario:<28} lost {row.lost} doubled {row.doubled}; "
                    f"{row.requests} requests ({row.statuses}), slowest {row.slowest:.1f} s, "
                    f"hung {row.hung}, raw errors {row.unfriendly}; bookings {row.booked} of "
                    f"{row.asked}, half-written {row.half_written}, overlapping "
                    f"{row.overlapping}",
                    flush=True,
                )
                print(f"    {row.recovered}; {row.note}", flush=True)
        finally:
            os.killpg(gunicorn.pid, 15)
            gunicorn.wait(timeout=30)
    print()
    print(
        f"{'scenario':<28}{'lost':>5}{'doubled':>8}{'requests':>9}{'slowest s':>10}"
        f"{'hung':>5}{'raw 5xx':>8}{'booked':>7}{'half':>5}{'overlap':>8}"
    )
    for row in rows:
        print(
            f"{row.scenario:<28}{row.lost:>5}{row.doubled:>8}{row.requests:>9}"
            f"{row.slowest:>10.1f}{row.hung:>5}{row.unfriendly:>8}{row.booked:>7}"
            f"{row.half_written:>5}{row.overlapping:>8}"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}; logs in {logs}")
    return 0 if all(row.kept for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
