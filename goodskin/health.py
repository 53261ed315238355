"""Is this instance able to serve? For load balancers and monitoring: /healthz.

Each part is checked in a thread of its own with its own timeout, and the answer waits for them
at most DEADLINE_SECONDS: a server that accepts connections but never answers (hung, SIGSTOPped)
makes its part "down" instead of holding the request until gunicorn kills the worker.

Each process keeps one connection to the database and one to Redis for its checks, opened by the
first check and reused by the next (a new PostgreSQL connection cost about 9 ms a check, a new
Redis one about 6 ms; reused, a check costs well under 1 ms). A check that fails on a reused
connection (the server restarted since) drops it and tries once more on a new one, so a restart
the server has recovered from is not reported as "down"; a failure on a new connection is.
"""

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

# The checks' share of the answer, which must come within 2 s. A worker's first request also
# imports the URLconf first: up to 0.9 s measured on a busy host, so 1.5 s here overran.
DEADLINE_SECONDS = 1.0
# Connecting to the broker and waiting for its reply, each; one try, no retry.
BROKER_TIMEOUT_SECONDS = 1.0


# The checks' own database connection, shared by the check threads (at most one check per part
# runs at a time: see _start) and kept between checks.
_database: BaseDatabaseWrapper | None = None


def _database_connection() -> BaseDatabaseWrapper:
    global _database
    if _database is None:
        # A connection of its own, not the request thread's: a hung server holds only the
        # check's thread. Its settings are default's (connect_timeout included).
        config = dict(connections["default"].settings_dict)
        wrapper = load_backend(config["ENGINE"]).DatabaseWrapper(config, "default")
        wrapper.inc_thread_sharing()  # used by each check's thread in turn
        _database = wrapper
    return _database


def database_ok() -> bool:
    """Runs in a check thread: SELECT 1 on the checks' connection, opened by the first check
    (bounded by the `connect_timeout` in DATABASES) and reused by the next."""
    connection = _database_connection()
    reused = connection.connection is not None
    try:
        return _select_one(connection)
    except Exception:
        connection.close()  # broken or hung: the next check connects again
        if not reused:
            raise
    # The server may have restarted since the last check: once more, on a new connection.
    try:
        return _select_one(connection)
    except Exception:
        connection.close()
        raise


def _select_one(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def close() -> None:
    """Close the checks' connections (tests do it after each test, so that no connection of
    theirs outlives the test database)."""
    global _database
    database, _database = _database, None
    if database is not None:
        database.close()
    with _redis_lock:
        clients = list(_redis_clients.values())
        _redis_clients.clear()
    for client in clients:
        client.close()
        client.connection_pool.disconnect()


def broker_ok() -> bool:
    url = settings.CELERY_BROKER_URL
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return _redis_ok(url)
    if scheme == "filesystem":
        return _folders_ok(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    raise ValueError(f"no health check for a {scheme!r} broker")


# One client per broker URL, its pool keeping the connection between checks.
_redis_clients: dict[str, redis.Redis] = {}
_redis_lock = threading.Lock()


def _redis_client(url: str) -> redis.Redis:
    with _redis_lock:
        client = _redis_clients.get(url)
        if client is None:
            # redis-py retries three times by default, which would multiply the timeouts.
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
                socket_timeout=BROKER_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),
            )
            _redis_clients[url] = client
        return client


def _redis_ok(url: str) -> bool:
    client = _redis_client(url)
    pool = client.connection_pool
    reused = len(getattr(pool, "_available_connections", ())) > 0
    try:
        return client.ping() is True
    except redis.ConnectionError:
        # redis-py drops a connection that failed; a reused one closed by the server may only
        # have outlived a restart of Redis: once more, on a new connection. (A timeout is not
        # tried again: the server is there but does not answer.)
        if not reused:
            raise
    return client.ping() is True


def _folders_ok(options: dict) -> bool:
    """The folder broker (no REDIS_URL) works while its folders exist and can be written."""
    folders = {options[key] for key in ("data_folder_in", "data_folder_out", "control_folder")}
    return all(os.path.isdir(f) and os.access(f, os.W_OK | os.X_OK) for f in folders)


CHECKS: dict[str, Callable[[], bool]] = {"database": database_ok, "broker": broker_ok}


class _Probe:
    """One run of one part's check, run by that part's checker thread."""

    def __init__(self, part: str):
        self.part = part
        self.ok = False
        self.finished = threading.Event()

    def run(self) -> None:
        try:
            self.ok = CHECKS[self.part]() is True
        except Exception as exc:  # noqa: BLE001 - any failure of a check means "down"
            logger.warning("healthz: %s check failed: %r", self.part, exc)
        finally:
            self.finished.set()


class _Checker:
    """A daemon thread per part (a hung one must not block shutdown), kept for the life of the
    process and running that part's checks one after another. Starting a thread for each
    check cost more than the check (a thread's start waits for it to run: about 1 ms a
    request on a busy machine, against 0.2 ms for each check)."""

    def __init__(self, part: str):
        self.pid = os.getpid()
        self.probes: queue.SimpleQueue[_Probe] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name=f"healthz-{part}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            self.probes.get().run()

    def usable(self) -> bool:
        # A forked child has the object but not the thread.
        return self.pid == os.getpid() and self.thread.is_alive()


# At most one check per part in flight per process: while a hung server holds the last one,
# the part is "down" at once, and probes every few seconds can't pile up behind it.
_in_flight: dict[str, _Probe] = {}
_checkers: dict[str, _Checker] = {}
_in_flight_lock = threading.Lock()


def _start(part: str) -> _Probe | None:
    with _in_flight_lock:
        previous = _in_flight.get(part)
        if previous is not None and not previous.finished.is_set():
            return None
        checker = _checkers.get(part)
        if checker is None or not checker.usable():
            checker = _checkers[part] = _Checker(part)
        _in_flight[part] = probe = _Probe(part)
    checker.probes.put(probe)
    return probe


def health() -> dict[str, str]:
    probes = {part: _start(part) for part in CHECKS}
    deadline = time.monotonic() + DEADLINE_SECONDS
    state = {}
    for part, probe in probes.items():
        if probe is None:
            logger.warning("healthz: %s check still waiting on the previous one", part)
            state[part] = "down"
            continue
        if not probe.finished.wait(max(0.0, deadline - time.monotonic())):
            logger.warning("healthz: %s check got no answer in %s s", part, DEADLINE_SECONDS)
        state[part] = "ok" if probe.finished.is_set() and probe.ok else "down"
    return state


def report() -> tuple[int, dict[str, str]]:
    """The answer of /healthz: 200 and "ok" when every part is, else 503 and "down", with each
    part's state."""
    state = health()
    healthy = all(value == "ok" for value in state.values())
    return (200 if healthy else 503), {"status": "ok" if healthy else "down", **state}


# What /healthz sends besides its JSON, the same before Django (wsgi.py) as through it: never
# kept by a cache (never_cache), never sniffed as another type.
HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "max-age=0, no-cache, no-store, must-revalidate, private"),
    ("X-Content-Type-Options", "nosniff"),
]
REASONS = {200: "200 OK", 405: "405 Method Not Allowed", 503: "503 Service Unavailable"}


def wsgi_answer(environ, start_response):
    """/healthz as a bare WSGI answer, for wsgi.py to give before Django's middleware, which a
    load balancer's probe needs none of (sessions, language, login, CSP...): two thirds of
    the check's time went there. GET and HEAD only, as the view."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD"):
        start_response(REASONS[405], [("Allow", "GET, HEAD"), ("Content-Length", "0")])
        return [b""]
    status, answer = report()
    body = json.dumps(answer).encode()
    start_response(REASONS[status], [*HEADERS, ("Content-Length", str(len(body)))])
    return [b"" if method == "HEAD" else body]
