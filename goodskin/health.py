"""Is this instance able to serve? For load balancers and monitoring: /healthz.

Each part is checked in a thread of its own with its own timeout, and the answer waits for them
at most DEADLINE_SECONDS: a server that accepts connections but never answers (hung, SIGSTOPped)
makes its part "down" instead of holding the request until gunicorn kills the worker.
"""

import logging
import os
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import connections
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

# The checks' share of the answer, which must come within 2 s. A worker's first request also
# imports the URLconf first: up to 0.9 s measured on a busy host, so 1.5 s here overran.
DEADLINE_SECONDS = 1.0
# Connecting to the broker and waiting for its reply, each; one try, no retry.
BROKER_TIMEOUT_SECONDS = 1.0


def database_ok() -> bool:
    """Runs in a check thread: Django gives that thread a connection of its own (bounded by
    the `connect_timeout` in DATABASES), which is closed here so no check leaves one open."""
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    finally:
        connection.close()


def broker_ok() -> bool:
    url = settings.CELERY_BROKER_URL
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return _redis_ok(url)
    if scheme == "filesystem":
        return _folders_ok(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    raise ValueError(f"no health check for a {scheme!r} broker")


def _redis_ok(url: str) -> bool:
    # redis-py retries three times by default, which would multiply the timeouts.
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        return client.ping() is True
    finally:
        client.close()


def _folders_ok(options: dict) -> bool:
    """The folder broker (no REDIS_URL) works while its folders exist and can be written."""
    folders = {options[key] for key in ("data_folder_in", "data_folder_out", "control_folder")}
    return all(os.path.isdir(f) and os.access(f, os.W_OK | os.X_OK) for f in folders)


CHECKS: dict[str, Callable[[], bool]] = {"database": database_ok, "broker": broker_ok}


class _Probe:
    """One run of one part's check in a daemon thread (a hung one must not block shutdown)."""

    def __init__(self, part: str):
        self.part = part
        self.ok = False
        self.finished = threading.Event()
        threading.Thread(target=self._run, name=f"healthz-{part}", daemon=True).start()

    def _run(self) -> None:
        try:
            self.ok = CHECKS[self.part]() is True
        except Exception as exc:  # noqa: BLE001 - any failure of a check means "down"
            logger.warning("healthz: %s check failed: %r", self.part, exc)
        finally:
            self.finished.set()


# At most one check per part in flight per process: while a hung server holds the last one,
# the part is "down" at once, and probes every few seconds can't pile up threads.
_in_flight: dict[str, _Probe] = {}
_in_flight_lock = threading.Lock()


def _start(part: str) -> _Probe | None:
    with _in_flight_lock:
        previous = _in_flight.get(part)
        if previous is not None and not previous.finished.is_set():
            return None
        _in_flight[part] = probe = _Probe(part)
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
