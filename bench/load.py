#!/usr/bin/env python
"""Speed over HTTP as deployed, next to Django's own floor, in one run (issue 19).

    .venv/bin/python bench/load.py                 # 3 rounds, 10 s a page, wrk -t2 -c16
    .venv/bin/python bench/load.py --quick         # 3 rounds, 2 s a page, -c4 (development)
    .venv/bin/python bench/load.py --only portal   # the pages whose names have these words
    .venv/bin/python bench/load.py --database goodskin_bench_10k   # another seeded database
    .venv/bin/python bench/load.py --growth goodskin_bench_10k     # both, page by page
    make bench-load
    make bench-growth                               # seeds goodskin_bench_10k, then --growth

It serves the app as README's "Deploying" says: `gunicorn goodskin.wsgi` (2 sync workers,
--no-control-socket, persistent database connections through CONN_MAX_AGE), DEBUG off with a
SECRET_KEY generated for the run, `collectstatic` first, a Celery worker and beat, against the
1,000,000-appointment database bench/scheduling.py seeds (goodskin_bench_sched; it must exist)
and a Redis database (LOAD_REDIS_URL, default redis://127.0.0.1:6379/9). Mail goes to a mail
server in this process (nothing leaves the machine). Plain HTTP on loopback: the TLS settings
(SSL redirect, secure cookies) are turned off, as behind a TLS-terminating balancer.

Beside it, the floor (bench/floor/): a bare Django project with the same kind of middleware on
the same PostgreSQL, same gunicorn settings: /ok (2 bytes) and /rows (100 rows of one query
through a template, the user's name and a CSRF token).

The mix, each page over several addresses (days, patients, searches) taken in turn:
front-desk day and week views, patient search, the free-time page, booking a free time (a
POST; every request books a different free time 4 to 10 months ahead), the patient record,
the portal schedule as a patient, the portal's "move this appointment" page (the free times
the patient may move a booked visit to), the calendar feed, and /healthz. After the table,
the move page's cost over the schedule's (issue 19: within 2x). The front desk's session
has passed two-step login (its OTP device verified), made as the tests make theirs.

Each round takes every page in turn, and right after each one the floor (/rows; /ok after
/healthz) for as long, so both see the same load on the machine; three rounds. It prints each
page's requests per second, p50, p95 and p99 (ms, from wrk), the non-2xx/3xx answers, its
ratio to the floor measured beside it (the median of the rounds), the bytes of each page
plain and gzipped, and the resident memory of the gunicorn and Celery workers after the run.
The bookings it made are deleted at the end.

--database NAME serves another seeded database instead (LOAD_DATABASE_URL names the server and
the default database). --growth NAME serves a second app, with its own Celery worker and beat
and Redis database (LOAD_GROWTH_REDIS_URL, default redis://127.0.0.1:6379/10), on the smaller
database NAME (bench/scheduling.py --seed-only with BENCH_APPOINTMENTS=10000; `make
bench-growth` seeds it), and takes every page on both, one right after the other (which one
first alternates by round), then the floor: it prints per page the requests per second and
p50 on each and the growth from the small database to the large one (issue 19: at most 1.2).
"""

import argparse
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = ROOT / "bench" / "floor"
sys.path.insert(0, str(ROOT))

from tests.messaging.realparts import SMTPServer, free_port, wait_for  # noqa: E402 (no Django)

DATABASE_URL = os.environ.get(
    "LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/goodskin_bench_sched"
)
_early = argparse.ArgumentParser(add_help=False)
_early.add_argument("--database")
if database := _early.parse_known_args()[0].database:
    DATABASE_URL = DATABASE_URL.rsplit("/", 1)[0] + "/" + database
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/9")
GROWTH_REDIS_URL = os.environ.get("LOAD_GROWTH_REDIS_URL", "redis://127.0.0.1:6379/10")
# The environment of the app, the floor and this process (which makes the sessions, so it must
# sign them with the same key).
APP_ENV = {
    "DJANGO_SETTINGS_MODULE": "goodskin.settings",
    "DEBUG": "false",
    # The run's own key; the helper that prepares the second database is given the same.
    "SECRET_KEY": os.environ.get("LOAD_SECRET_KEY") or secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "CONN_MAX_AGE": "60",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "LANGUAGE_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(APP_ENV)

import django  # noqa: E402

django.setup()

from benchdb import apart_free_times, session  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    get_user_model,
)
from django.db import connection, models  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from goodskin.roles import Role, group_for  # noqa: E402
from patients.models import Patient  # noqa: E402
from scheduling import clock  # noqa: E402
from scheduling.models import (  # noqa: E402
    Appointment,
    CalendarFeed,
    SchedulingSettings,
    Status,
)
from scheduling.services import default_location, patient_move_options  # noqa: E402

BOOK_NOTE = "load bench"  # the bookings this harness makes (deleted at the end)
SEARCHES = ["garc", "miller", "okafor", "nguyen 12", "patel", "sorensen 3", "kim", "chloe"]


@dataclass
class Page:
    name: str
    paths: list[str]
    cookie: str = ""
    floor: str = "/rows"  # the floor page measured beside it
    bodies: list[str] = field(default_factory=list)  # a POST per body, each used once
    posts: str = ""  # the path the bodies go to


@dataclass
class Result:
    rate: float  # requests per second
    p50: float
    p95: float
    p99: float
    requests: int
    bad: int  # answers other than 2xx/3xx, socket errors and timeouts
    codes: dict


# --- The data: users, sessions, addresses ---------------------------------------------------


def delete_with_dependents(queryset) -> None:
    for relation in queryset.model._meta.related_objects:
        if relation.on_delete in (models.PROTECT, models.RESTRICT) and not relation.many_to_many:
            related = relation.related_model._base_manager
            delete_with_dependents(related.filter(**{f"{relation.field.name}__in": queryset}))
    queryset.delete()


def prepare(
    rounds: int, per_round: int, booking: bool = True, like: list[int] | None = None
) -> tuple[list[Page], dict]:
    """The pages and what the report says of the data. `like`: the numbers of visits of the
    patients whose pages to open (a growth run's smaller database takes patients with as many
    visits as the larger one's, so both draw pages of the same length)."""
    users = get_user_model().objects
    desk = users.filter(username="bench-desk").first()
    if desk is None or not Appointment.objects.filter(created_by__isnull=True).exists():
        sys.exit(
            f"Seed the benchmark database {connection.settings_dict['NAME']} first: make bench "
            "(bench/scheduling.py; --seed-only for a small one, see its help)"
        )
    desk.groups.add(group_for(Role.FRONT_DESK))
    device, _ = TOTPDevice.objects.get_or_create(
        user=desk, name="load bench", defaults={"confirmed": True}
    )
    delete_with_dependents(Appointment.objects.filter(created_by=desk, notes=BOOK_NOTE))
    office = default_location()
    tz = clock.zone(office.time_zone)
    today = timezone.localdate(timezone.now(), tz)
    days = [today + timedelta(days=n) for n in range(7, 21)]
    days = [d for d in days if d.weekday() < 5][:5]
    # The patients with the longest histories (the record page with every panel full).
    busiest = (
        Appointment.objects.filter(created_by__isnull=True, starts_at__gte=timezone.now())
        .values("patient")
        .annotate(n=models.Count("id"))
        .order_by("-n", "patient")[:20]
    )
    patients = [row["patient"] for row in busiest]
    if like:
        patients = patients_like(like)
    # The portal's patient: the busiest, with an account of its own and a calendar feed.
    patient = Patient.objects.get(pk=patients[0])
    if patient.portal_user is None:
        account, _ = users.get_or_create(
            username="bench-patient", defaults={"email": "bench-patient@example.org"}
        )
        account.groups.add(group_for(Role.PATIENT))
        Patient.objects.filter(portal_user=account).update(portal_user=None)
        patient.portal_user = account
        patient.save(update_fields=["portal_user"])
    # The visits the patient may move online (booked, after the notice period), those outside
    # a plan first: a seeded plan is completed, so its sessions are offered no time at all.
    notice = SchedulingSettings.current().patient_notice_hours
    movable = list(
        Appointment.objects.filter(
            patient=patient,
            status=Status.BOOKED,
            starts_at__gt=timezone.now() + timedelta(hours=notice + 24),
        )
        .exclude(notes=BOOK_NOTE)
        .order_by(models.F("plan").asc(nulls_first=True), "starts_at")[:5]
    )
    # The page as it is used: with times to choose from (not a plan's session it refuses).
    movable = [a for a in movable if patient_move_options(a)] or movable
    if booking and not any(patient_move_options(a) for a in movable):
        # Every visit of theirs is a session of a completed plan (the large database): give
        # them consultations of their own to move, 3 to 5 weeks ahead (outside the days the
        # day and week views show), removed at the end with the run's bookings.
        movable = to_move(desk, patient, office, today) or movable
    feed = CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).first()
    if feed is None:
        feed = CalendarFeed.objects.create(patient=patient, token=secrets.token_urlsafe(32))
    desk_cookie = "sessionid=" + session(
        desk, "goodskin.auth.UsernameOrEmailBackend", verified_device=device
    )
    patient_cookie = "sessionid=" + session(
        patient.portal_user, "goodskin.auth.UsernameOrEmailBackend"
    )
    floor_cookie = "sessionid=" + session(desk, "django.contrib.auth.backends.ModelBackend")
    csrf = secrets.token_hex(16)  # a CSRF secret of our own choosing: cookie and form agree
    bodies = []
    if booking:
        # For patients whose pages are not measured: booked for the record and portal pages'
        # own patients, those pages (and the calendar feed) would grow by some forty visits a
        # round, and the rounds would not measure the same pages.
        others = list(
            Patient.objects.exclude(pk__in=patients)
            .order_by("pk")
            .values_list("pk", flat=True)[: len(patients)]
        )
        bodies = booking_bodies(office, tz, today, others, csrf, rounds * per_round)
    pages = [
        Page("day view", [f"/schedule/day/?date={d}" for d in days], desk_cookie),
        Page("week view", [f"/schedule/week/?date={d}" for d in days], desk_cookie),
        Page(
            "patient search", [f"/patients/?q={q.replace(' ', '+')}" for q in SEARCHES], desk_cookie
        ),
        Page(
            "free-time page",
            [f"/schedule/slots/?kind={k}" for k in ("consultation", "review")],
            desk_cookie,
        ),
        Page(
            "book a free time",
            [],
            f"{desk_cookie}; csrftoken={csrf}",
            bodies=bodies,
            posts="/patients/{patient}/appointments/new/",
        ),
        Page("patient record", [f"/patients/{p}/" for p in patients], desk_cookie),
        Page("portal schedule", ["/portal/"], patient_cookie),
        Page(
            "portal move page",
            [f"/portal/appointments/{a.pk}/move/" for a in movable],
            patient_cookie,
        ),
        Page("calendar feed", [f"/portal/calendar/{feed.token}.ics"]),
        Page("/healthz", ["/healthz"], floor="/ok"),
    ]
    facts = {
        "appointments": Appointment.objects.count(),
        "patients": Patient.objects.count(),
        "floor_cookie": floor_cookie,
        "on_day": Appointment.objects.on_day(days[0], tz).count(),
        "record_visits": Appointment.objects.filter(patient_id=patients[0]).count(),
        "desk": desk.pk,
        "database": connection.settings_dict["NAME"],
        "visits": visits(patients),
        "movable": len(movable),
        "move_times": [len(patient_move_options(a)) for a in movable],
    }
    if not movable:
        print("note: the portal's patient has no visit to move; no move page")
        pages = [p for p in pages if p.paths or p.posts]
    return pages, facts


def to_move(desk, patient, office, today) -> list:
    """Three consultations for `patient` at free times 3 to 5 weeks ahead, booked as the front
    desk books them (noted BOOK_NOTE, so the end of the run removes them)."""
    from goodskin.actors import Actor
    from scheduling.services import book_appointment

    doctors = get_user_model().objects.filter(username__startswith="bench-dr").order_by("pk")
    free = apart_free_times(
        office, doctors[:1], today + timedelta(days=21), today + timedelta(days=35)
    )
    booked = []
    for doctor, starts_at in free[::7][:3]:  # a few days apart
        booked.append(
            book_appointment(
                patient=patient,
                doctor=doctor,
                kind="consultation",
                starts_at=starts_at,
                by=Actor(user=desk, role=Role.FRONT_DESK),
                location=office,
                notes=BOOK_NOTE,
            )
        )
    return [a for a in booked if patient_move_options(a)]


def visits(patients: list[int]) -> list[int]:
    """How many appointments each patient has (what the record and portal pages list)."""
    counts = dict(
        Appointment.objects.filter(patient_id__in=patients)
        .values("patient")
        .annotate(n=models.Count("id"))
        .values_list("patient", "n")
    )
    return [counts.get(p, 0) for p in patients]


def patients_like(like: list[int]) -> list[int]:
    """For each number of visits in `like`, another patient with a booked visit ahead and the
    nearest number of visits (of a small database: it reads every patient's count)."""
    counts = dict(
        Appointment.objects.values("patient")
        .annotate(n=models.Count("id"))
        .values_list("patient", "n")
    )
    ahead = set(
        Appointment.objects.filter(
            created_by__isnull=True, status=Status.BOOKED, starts_at__gte=timezone.now()
        ).values_list("patient", flat=True)
    )
    chosen: list[int] = []
    for want in like:
        left = sorted(ahead - set(chosen))
        chosen.append(min(left, key=lambda p: abs(counts[p] - want)))
    return chosen


def booking_bodies(office, tz, today, patients, csrf, count) -> list[str]:
    """Form bodies booking `count` different free consultation times (no two overlap, each
    with its buffer), 4 to 10 months ahead, each for one of `patients` (as path|body)."""
    doctors = get_user_model().objects.filter(username__startswith="bench-dr").order_by("pk")
    chosen = [
        (starts_at, doctor.pk)
        for doctor, starts_at in apart_free_times(
            office, doctors, today + timedelta(days=120), today + timedelta(days=300)
        )
    ]
    chosen.sort()  # interleaves the doctors: each request a different one
    if len(chosen) < count:
        print(f"note: {len(chosen)} free times for {count} bookings; some will be refused")
    bodies = []
    for n, (starts_at, doctor) in enumerate(chosen[:count]):
        local = starts_at.astimezone(tz)
        patient = patients[n % len(patients)]
        body = (
            f"csrfmiddlewaretoken={csrf}&kind=consultation&doctor={doctor}"
            f"&date={local:%Y-%m-%d}&time={local:%H:%M}&location={office.pk}"
            f"&notes={BOOK_NOTE.replace(' ', '+')}"
        )
        bodies.append(f"{patient}|{body}")
    return bodies


# --- The servers ----------------------------------------------------------------------------


class Servers:
    """gunicorn for the app and for the floor, a Celery worker and beat, and a mail server;
    every child in a session of its own, killed at the end whatever happened. `env`: what
    differs from APP_ENV (another database); `floor`: whether to serve the floor too; `prefix`:
    of the log files."""

    def __init__(
        self, logs: Path, workers: int, env: dict | None = None, floor=True, prefix: str = ""
    ):
        self.logs, self.workers = logs, workers
        self.env, self.floor, self.prefix = env or {}, floor, prefix
        self.children: dict[str, subprocess.Popen] = {}
        self.app_port, self.floor_port = free_port(), free_port()
        self.mail = SMTPServer()

    def _start(self, name: str, args: list[str], env: dict, cwd: Path = ROOT):
        log = open(self.logs / f"{self.prefix}{name}.log", "wb")  # noqa: SIM115 (the child's)
        self.children[name] = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def __enter__(self) -> "Servers":
        self.mail.__enter__()
        env = {**os.environ, **APP_ENV, **self.env, "EMAIL_URL": self.mail.url}
        python = sys.executable
        gunicorn = [python, "-m", "gunicorn", "--workers", str(self.workers)]
        gunicorn += ["--no-control-socket", "--timeout", "30"]
        self._start(
            "app", [*gunicorn, "goodskin.wsgi", "--bind", f"127.0.0.1:{self.app_port}"], env
        )
        if self.floor:
            floor_env = {**env, "DJANGO_SETTINGS_MODULE": "settings"}
            self._start(
                "floor",
                [*gunicorn, "wsgi", "--bind", f"127.0.0.1:{self.floor_port}"],
                floor_env,
                FLOOR,
            )
        self._start(
            "worker",
            [python, "-m", "celery", "-A", "goodskin", "worker", "--loglevel", "WARNING"],
            env,
        )
        beat_schedule = self.logs / f"{self.prefix}celerybeat-schedule"
        self._start(
            "beat",
            [python, "-m", "celery", "-A", "goodskin", "beat", "--loglevel", "WARNING"]
            + ["--schedule", str(beat_schedule)],
            env,
        )
        for port, name in ((self.app_port, "app"), (self.floor_port, "floor")):
            if name not in self.children:
                continue
            if not wait_for(
                lambda p=port, n=name: status(p, "/healthz" if n == "app" else "/ok") > 0, 60
            ):
                self.__exit__()  # `with` does not when __enter__ fails
                log = self.logs / f"{self.prefix}{name}.log"
                raise RuntimeError(f"{name} did not start: {log.read_text()}")
        return self

    def __exit__(self, *exc) -> None:
        for child in self.children.values():
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for child in self.children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=10)
        self.mail.__exit__()

    def rss(self, name: str) -> list[tuple[str, float]]:
        """(process, MiB) of the child and its descendants."""
        found = []
        for pid, command in descendants(self.children[name].pid):
            found.append((command, rss_mib(pid)))
        return found


def descendants(pid: int) -> list[tuple[int, str]]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,args="], capture_output=True, text=True)
    parents, commands = {}, {}
    for line in out.stdout.splitlines():
        child, parent, args = line.strip().split(None, 2)
        parents[int(child)], commands[int(child)] = int(parent), args
    family, frontier = [pid], [pid]
    while frontier:
        frontier = [c for c, p in parents.items() if p in frontier]
        family += frontier
    return [(p, commands.get(p, "?")) for p in family if p in commands]


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as lines:
            for line in lines:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def fetch(port: int, path: str, cookie: str, gzip: bool, body: str = "") -> tuple[int, int]:
    """(status, bytes on the wire) of one request, redirects not followed."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if gzip:
        headers["Accept-Encoding"] = "gzip"
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request("POST" if body else "GET", path, body=body or None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, len(data)


def answered(page: Page, path: str, got: tuple[int, int]) -> None:
    """Stop the run when a page measured does not answer 200 with a body: a redirect (to the
    login or the code page: a session the app no longer takes) or an error page is quick to
    serve, and would be measured as a fast page."""
    status, size = got
    if status != 200 or size == 0:
        sys.exit(f"{page.name}: {path} answered {status} with {size} bytes, not the page")


# --- wrk ------------------------------------------------------------------------------------

LUA = """
local paths = %(paths)s
local posts = %(posts)s
local cookie = %(cookie)s
local nthreads = %(threads)d
local gzip = %(gzip)s
threads = {}
local made = 0
function setup(thread)
  thread:set("id", made)
  made = made + 1
  table.insert(threads, thread)
end
function init(args)
  n = id
  codes = {}
  if gzip then wrk.headers["Accept-Encoding"] = "gzip" end
  if cookie ~= "" then wrk.headers["Cookie"] = cookie end
end
function request()
  local i = n
  n = n + nthreads
  if #posts > 0 then
    local item = posts[(i %% #posts) + 1]
    local bar = string.find(item, "|", 1, true)
    local path = string.gsub(%(post_path)s, "{patient}", string.sub(item, 1, bar - 1))
    local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    return wrk.format("POST", path, headers, string.sub(item, bar + 1))
  end
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end
function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for code, count in pairs(t:get("codes")) do all[code] = (all[code] or 0) + count end
  end
  local parts = {}
  for code, count in pairs(all) do table.insert(parts, string.format('"%%d": %%d', code, count)) end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "us": %%d, "p50": %%d, "p95": %%d, "p99": %%d, ' ..
    '"errors": %%d, "codes": {%%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, table.concat(parts, ", ")))
end
"""


def lua_list(items: list[str]) -> str:
    return "{" + ", ".join(json.dumps(i) for i in items) + "}"


def wrk(port, page: Page, path_list, bodies, seconds, threads, conns, folder, gzip) -> Result:
    script = folder / f"wrk-{secrets.token_hex(4)}.lua"
    script.write_text(
        LUA
        % {
            "paths": lua_list(path_list),
            "posts": lua_list(bodies),
            "cookie": json.dumps(page.cookie),
            "threads": threads,
            "post_path": json.dumps(page.posts),
            "gzip": "true" if gzip else "false",
        }
    )
    done = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--timeout", "10s"]
        + ["-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    found = re.search(r"^RESULT (.*)$", done.stdout, re.MULTILINE)
    if not found:
        raise RuntimeError(f"wrk said: {done.stdout}\n{done.stderr}")
    raw = json.loads(found.group(1))
    codes = {int(k): v for k, v in raw["codes"].items()}
    bad = raw["errors"] + sum(v for k, v in codes.items() if not 200 <= k < 400)
    return Result(
        rate=raw["requests"] / (raw["us"] / 1e6),
        p50=raw["p50"] / 1000,
        p95=raw["p95"] / 1000,
        p99=raw["p99"] / 1000,
        requests=raw["requests"],
        bad=bad,
        codes=codes,
    )


# --- The run --------------------------------------------------------------------------------


def remove_bookings(desk_pk: int) -> int:
    """Delete what the run booked; how many it was."""
    booked = Appointment.objects.filter(created_by_id=desk_pk, notes=BOOK_NOTE).count()
    desk = get_user_model().objects.get(pk=desk_pk)
    delete_with_dependents(Appointment.objects.filter(created_by=desk, notes=BOOK_NOTE))
    return booked


def on_other_database(database: str, task: str, *arguments) -> dict:
    """Run `task` of this script (prepare, remove) on another database, in a process of its
    own (Django's connection and cache are this one's): its answer, read as JSON."""
    env = {
        **os.environ,
        "LOAD_DATABASE_URL": DATABASE_URL.rsplit("/", 1)[0] + "/" + database,
        "LOAD_REDIS_URL": GROWTH_REDIS_URL,
        "LOAD_SECRET_KEY": APP_ENV["SECRET_KEY"],  # the sessions it makes are signed with it
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, __file__, "--task", task, *map(str, arguments)],
        env=env,
        capture_output=True,
        text=True,
    )
    found = re.search(r"^TASK (.*)$", done.stdout, re.MULTILINE)
    if done.returncode or not found:
        sys.exit(f"{task} on {database} failed:\n{done.stdout}\n{done.stderr}")
    print(done.stdout[: found.start()], end="")
    return json.loads(found.group(1))


def task(name: str, arguments: list[str]) -> int:
    """A task on_other_database() asked for, its answer on a line of its own."""
    if name == "prepare":
        rounds, per_round, booking = int(arguments[0]), int(arguments[1]), arguments[2] == "1"
        like = [int(n) for n in arguments[3].split(",")]
        pages, facts = prepare(rounds, per_round, booking=booking, like=like)
        answer = {"pages": [vars(p) for p in pages], "facts": facts}
    else:
        answer = {"booked": remove_bookings(int(arguments[0]))}
    print("TASK " + json.dumps(answer))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="per page and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--only", nargs="+", help="page names (a word of each will do)")
    parser.add_argument("--quick", action="store_true", help="2 s a page, 4 connections")
    parser.add_argument(
        "--no-gzip", dest="gzip", action="store_false", help="ask for pages uncompressed"
    )
    parser.add_argument("--database", help="the seeded database to serve (read at start)")
    parser.add_argument(
        "--growth", metavar="DATABASE", help="a smaller seeded database: every page on both"
    )
    parser.add_argument("--task", nargs="+", help=argparse.SUPPRESS)  # on_other_database()
    args = parser.parse_args()
    if args.task:
        return task(args.task[0], args.task[1:])
    if args.quick:
        args.seconds, args.connections = 2, 4
    seconds = max(1, round(args.seconds))
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    load_before = os.getloadavg()
    started = time.monotonic()
    # Bookings: each round needs as many as the page could take at most (100/s is plenty).
    booking = not args.only or any(w.lower() in "book a free time" for w in args.only)
    per_round = int(seconds * 150)
    pages, facts = prepare(args.rounds, per_round=per_round, booking=booking)
    if args.only:
        pages = [p for p in pages if any(w.lower() in p.name.lower() for w in args.only)]
    small_pages, small_facts = {}, {}
    if args.growth:
        answer = on_other_database(
            args.growth,
            "prepare",
            args.rounds,
            per_round,
            "1" if booking else "0",
            ",".join(map(str, facts["visits"])),
        )
        small_pages = {p["name"]: Page(**p) for p in answer["pages"]}
        small_facts = answer["facts"]
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, **APP_ENV},
        check=True,
    )
    logs = Path(tempfile.mkdtemp(prefix="bench-load-"))
    results: dict[str, list[tuple[Result, Result]]] = {p.name: [] for p in pages}
    small_results: dict[str, list[Result]] = {p.name: [] for p in pages}
    sizes, small_sizes = {}, {}
    small_env = {
        "DATABASE_URL": DATABASE_URL.rsplit("/", 1)[0] + f"/{args.growth}",
        "REDIS_URL": GROWTH_REDIS_URL,
    }
    with contextlib.ExitStack() as stack:
        servers = stack.enter_context(Servers(logs, args.workers))
        small = None
        if args.growth:
            small = stack.enter_context(
                Servers(logs, args.workers, env=small_env, floor=False, prefix="small-")
            )
        for page in pages:  # warm every worker's caches, and learn the sizes
            for path in page.paths:
                for _ in range(args.workers):
                    answered(page, path, fetch(servers.app_port, path, page.cookie, gzip=True))
            if small and page.name in small_pages:
                other = small_pages[page.name]
                for path in other.paths:
                    for _ in range(args.workers):
                        answered(other, path, fetch(small.app_port, path, other.cookie, True))
                if other.paths:
                    small_sizes[page.name] = fetch(
                        small.app_port, other.paths[0], other.cookie, gzip=False
                    )[1]
            if page.paths:
                plain = fetch(servers.app_port, page.paths[0], page.cookie, gzip=False)
                packed = fetch(servers.app_port, page.paths[0], page.cookie, gzip=True)
                sizes[page.name] = (plain, packed)
        for path in ("/ok", "/rows"):
            for _ in range(args.workers):
                fetch(servers.floor_port, path, facts["floor_cookie"], gzip=True)
            sizes[f"floor {path}"] = (
                fetch(servers.floor_port, path, facts["floor_cookie"], gzip=False),
                fetch(servers.floor_port, path, facts["floor_cookie"], gzip=True),
            )
        floor = {
            "/rows": Page("floor /rows", ["/rows"], facts["floor_cookie"]),
            "/ok": Page("floor /ok", ["/ok"], facts["floor_cookie"]),
        }

        def measure(port: int, page: Page, bodies: list[str]) -> Result:
            return wrk(
                port,
                page,
                page.paths,
                bodies,
                seconds,
                args.threads,
                args.connections,
                logs,
                args.gzip,
            )

        for number in range(args.rounds):
            for page in pages:
                bodies = page.bodies[number * per_round : (number + 1) * per_round]
                if page.posts and not bodies:
                    print(f"round {number + 1} {page.name}: no free time left to book")
                    continue
                runs = [("large", servers.app_port, page, bodies)]
                other = small_pages.get(page.name)
                if small and other:
                    theirs = other.bodies[number * per_round : (number + 1) * per_round]
                    if not other.posts or theirs:
                        runs.append(("small", small.app_port, other, theirs))
                if number % 2:
                    runs.reverse()  # which database goes first alternates by round
                got = {which: measure(port, p, b) for which, port, p, b in runs}
                ours = got["large"]
                bare = floor[page.floor]
                theirs = measure(servers.floor_port, bare, [])
                results[page.name].append((ours, theirs))
                line = (
                    f"round {number + 1} {page.name:<18} {ours.rate:7.1f}/s, floor {page.floor} "
                    f"{theirs.rate:7.1f}/s: {ours.rate / theirs.rate:.2f}"
                    + (f"  ({ours.bad} bad: {ours.codes})" if ours.bad else "")
                )
                if "small" in got:
                    small_results[page.name].append(got["small"])
                    line += f"; {args.growth} {got['small'].rate:7.1f}/s" + (
                        f"  ({got['small'].bad} bad: {got['small'].codes})"
                        if got["small"].bad
                        else ""
                    )
                print(line, flush=True)
        time.sleep(2)
        memory = {name: servers.rss(name) for name in ("app", "floor", "worker", "beat")}
        mails = servers.mail.mailbox.count()
    booked = remove_bookings(facts["desk"])
    small_booked = None
    if args.growth:
        small_booked = on_other_database(args.growth, "remove", small_facts["desk"])["booked"]
    load_after = os.getloadavg()
    report(
        args, seconds, pages, results, sizes, memory, facts, load_before, load_after, booked, mails
    )
    move_verdict({n: [o for o, _ in r] for n, r in results.items()}, facts)
    if args.growth:
        move_verdict(small_results, small_facts)
        growth(pages, results, small_results, facts, small_facts, small_booked, sizes, small_sizes)
    print(f"Took {time.monotonic() - started:.0f} s; server logs in {logs}")
    return 0


MOVE, SCHEDULE = "portal move page", "portal schedule"
GROWTH_LIMIT = 1.2  # issue 19: every page's 1M / 10k growth at most this
MOVE_LIMIT = 2.0  # issue 19: the move page within 2x the portal schedule


def move_verdict(results: dict[str, list[Result]], facts: dict) -> None:
    """The move page's cost over the portal schedule's, measured in the same rounds."""
    if not results.get(MOVE) or not results.get(SCHEDULE):
        return
    med = statistics.median
    move, schedule = results[MOVE], results[SCHEDULE]
    p50 = med(m.p50 for m in move) / med(s.p50 for s in schedule)
    rate = med(s.rate for s in schedule) / med(m.rate for m in move)
    rounds = ", ".join(f"{s.rate / m.rate:.2f}" for m, s in zip(move, schedule, strict=False))
    met = p50 <= MOVE_LIMIT and rate <= MOVE_LIMIT
    print(
        f"Move page ÷ portal schedule, {facts['appointments']:,} appointments "
        f"({facts['movable']} visits to move, offering {facts['move_times']} times): "
        f"p50 {p50:.2f}x, req/s {rate:.2f}x (rounds {rounds}): "
        + ("within 2x" if met else "OVER 2x")
    )


def growth(pages, results, small_results, facts, small_facts, booked, sizes, small_sizes):
    """Per page, req/s and p50 on each database and the growth from the small to the large."""
    med = statistics.median
    large, small = f"{facts['appointments']:,}", f"{small_facts['appointments']:,}"
    print()
    print(
        f"Growth: {small_facts['database']} ({small_facts['patients']:,} patients, {small} "
        f"appointments, {small_facts['on_day']} on the day viewed, "
        f"{small_facts['record_visits']} in the first record) to {facts['database']} "
        f"({facts['patients']:,} patients, {large}); each page on both one right after the "
        f"other; growth: small req/s ÷ large req/s, and large p50 ÷ small p50 (at most "
        f"{GROWTH_LIMIT}); bytes: the first address of each, plain, small/large"
    )
    head = f"{'page':<18}{'req/s':>8}{'p50':>8}{'req/s':>9}{'p50':>8}"
    head += f"{'req/s':>8}{'p50':>7}{'bytes':>16}  growth of req/s by round"
    print(f"{'':<18}{'small':>16}{'large':>17}{'growth':>15}")
    print(head)
    for page in pages:
        ours, theirs = [o for o, _ in results[page.name]], small_results[page.name]
        if not ours or not theirs:
            continue
        by_rate = med(t.rate for t in theirs) / med(o.rate for o in ours)
        by_p50 = med(o.p50 for o in ours) / med(t.p50 for t in theirs)
        flag = "" if max(by_rate, by_p50) <= GROWTH_LIMIT else "  OVER"
        rounds = ", ".join(f"{t.rate / o.rate:.2f}" for o, t in zip(ours, theirs, strict=False))
        page_bytes = ""
        if page.name in sizes and page.name in small_sizes:
            page_bytes = f"{small_sizes[page.name]:,}/{sizes[page.name][0][1]:,}"
        print(
            f"{page.name:<18}{med(t.rate for t in theirs):>8.1f}{med(t.p50 for t in theirs):>8.1f}"
            f"{med(o.rate for o in ours):>9.1f}{med(o.p50 for o in ours):>8.1f}"
            f"{by_rate:>8.2f}{by_p50:>7.2f}{page_bytes:>16}  {rounds}{flag}"
            + (f" ({sum(t.bad for t in theirs)} bad)" if any(t.bad for t in theirs) else "")
        )
    if booked is not None and small_results.get("book a free time"):
        asked = sum(t.requests for t in small_results["book a free time"])
        where = small_facts["database"]
        print(f"Bookings on {where}: {asked} asked, {booked} booked; deleted")


def report(args, seconds, pages, results, sizes, memory, facts, before, after, booked, mails):
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    print()
    print(
        f"Load benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores ({platform.machine()}), PostgreSQL {pg}, Python "
        f"{platform.python_version()}; load average {before[0]:.1f} / {before[1]:.1f} / "
        f"{before[2]:.1f} before, {after[0]:.1f} / {after[1]:.1f} / {after[2]:.1f} after"
    )
    print(
        f"Data: {facts['database']}, {facts['patients']:,} patients, "
        f"{facts['appointments']:,} appointments "
        f"({facts['on_day']} on the day viewed, {facts['record_visits']} in the first record); "
        f"gunicorn {args.workers} sync workers; wrk -t{args.threads} -c{args.connections}, "
        f"{seconds} s a page and {seconds} s of the floor beside it, {args.rounds} rounds, "
        + ("gzip asked for" if args.gzip else "pages asked for uncompressed")
    )
    print()
    head = f"{'page':<18}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'bad':>6}"
    head += f"{'floor':>8}{'req/s':>8}{'ratio':>7}  ratios by round"
    print(head)
    for page in pages:
        runs = results[page.name]
        ours = [o for o, _ in runs]
        ratios = [o.rate / f.rate for o, f in runs]
        med = statistics.median
        print(
            f"{page.name:<18}{med(o.rate for o in ours):>8.1f}{med(o.p50 for o in ours):>8.1f}"
            f"{med(o.p95 for o in ours):>8.1f}{med(o.p99 for o in ours):>8.1f}"
            f"{sum(o.bad for o in ours):>6}{page.floor:>8}"
            f"{med(f.rate for _, f in runs):>8.1f}{med(ratios):>7.2f}  "
            + ", ".join(f"{r:.2f}" for r in ratios)
        )
    print("(req/s and ms: the median of the rounds; bad: answers not 2xx/3xx and socket errors)")
    if "book a free time" in results:
        asked = sum(o.requests for o, _ in results["book a free time"])
        print(f"Bookings: {asked} asked, {booked} booked (each a different free time); deleted")
    print()
    print(f"{'bytes':<18}{'plain':>9}{'gzip':>9}")
    for name, (plain, packed) in sizes.items():
        print(f"{name:<18}{plain[1]:>9,}{packed[1]:>9,}")
    print()
    print("Resident memory after the run (MiB; the first process of each is its parent):")
    titles = {"app": "gunicorn (app)", "floor": "gunicorn (floor)", "worker": "Celery worker"}
    for name, processes in memory.items():
        mib = [m for _, m in processes]
        if len(mib) > 1:
            children = ", ".join(f"{m:.0f}" for m in mib[1:])
            print(f"  {titles.get(name, name):<17} parent {mib[0]:.0f}, children {children}")
        else:
            print(f"  {titles.get(name, 'Celery beat'):<17} {mib[0]:.0f}")
    print(f"Messages the worker sent meanwhile: {mails}")


if __name__ == "__main__":
    sys.exit(main())
