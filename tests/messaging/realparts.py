"""Real parts for the outbox tests and the benchmark: an SMTP server on loopback (aiosmtpd) that
keeps the Message-ID of everything it accepts, and `celery -A goodskin worker` / `beat` child
processes pointed at a chosen database, Redis database and SMTP server.

Each child runs in a session of its own, so that killing it (SIGKILL to the process group)
takes the prefork children with it, as a machine losing power would.
"""

import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO: thousands of lines per test.
logging.getLogger("mail.log").setLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parents[2]
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
# The Redis database these tests may flush: never the one the rest of the suite uses.
REDIS_DB = int(os.environ.get("OUTBOX_REDIS_DB", "11"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url(base: str, db: int = REDIS_DB) -> str:
    """`base` (REDIS_URL) with its database number replaced by `db`."""
    parts = urlsplit(base or "redis://127.0.0.1:6379/0")
    return urlunsplit(parts._replace(path=f"/{db}"))


def database_url(database: dict) -> str:
    """A DATABASE_URL for Django's DATABASES["default"] (in a test: the test database)."""
    auth = quote(database.get("USER") or "postgres", safe="")
    if database.get("PASSWORD"):
        auth += ":" + quote(database["PASSWORD"], safe="")
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{database['NAME']}"


class Mailbox:
    """aiosmtpd handler: accepts everything except the addresses in `refuse` (550 at RCPT)
    and remembers each accepted message's Message-ID and recipients."""

    def __init__(self, refuse: tuple[str, ...] = ()):
        self.refuse = {a.lower() for a in refuse}
        self.received: list[tuple[str, tuple[str, ...]]] = []
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        found = MESSAGE_ID.search(envelope.content.split(b"\r\n\r\n", 1)[0])
        message_id = found.group(1).decode() if found else ""
        with self._lock:
            self.received.append((message_id, tuple(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        return len(self.received)

    def ids(self) -> list[str]:
        with self._lock:
            return [message_id for message_id, _ in self.received]

    def duplicates(self) -> int:
        """Messages received more than once (same Message-ID): the extra copies."""
        return sum(n - 1 for n in Counter(self.ids()).values() if n > 1)


class SMTPServer:
    """An aiosmtpd server on 127.0.0.1 and a free port, for `with`."""

    def __init__(self, refuse: tuple[str, ...] = (), port: int | None = None):
        self.mailbox = Mailbox(refuse)
        self.port = port or free_port()
        # server_hostname: without it aiosmtpd asks socket.getfqdn() on every connection.
        self.controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, server_hostname="localhost"
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> "SMTPServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


class Celery:
    """Worker and beat children sharing one environment; everything started is stopped on
    exit, whatever happened."""

    def __init__(self, *, database: str, redis: str, email: str, logs: Path, **extra: str):
        base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
        self.env = {
            **base,
            "DJANGO_SETTINGS_MODULE": "goodskin.settings_test",
            "DATABASE_URL": database,
            "REDIS_URL": redis,
            "EMAIL_URL": email,
            "EMAIL_TIMEOUT": "5",
            "REMINDER_DISPATCH_SECONDS": "1",
            **extra,
        }
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.children: list[subprocess.Popen] = []

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop)
        child = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "goodskin", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        child.log = log  # type: ignore[attr-defined]
        child.log_name = name  # type: ignore[attr-defined]
        self.children.append(child)
        return child

    def worker(self, concurrency: int = 2, loglevel: str = "WARNING") -> subprocess.Popen:
        name = f"outbox-{uuid.uuid4().hex[:8]}"
        child = self._start(
            name,
            [
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"{name}@localhost",
                "--loglevel",
                loglevel,
                "--without-mingle",
                "--without-gossip",
            ],
        )
        child.hostname = f"{name}@localhost"  # type: ignore[attr-defined]
        return child

    def beat(self) -> subprocess.Popen:
        name = f"beat-{uuid.uuid4().hex[:8]}"
        return self._start(
            name,
            [
                "beat",
                "--schedule",
                str(self.logs / f"{name}-schedule"),
                "--loglevel",
                "WARNING",
            ],
        )

    def kill(self, child: subprocess.Popen) -> None:
        """SIGKILL to the child's whole process group (worker and its pool)."""
        self.stop(child, signal.SIGKILL)

    def freeze(self, child: subprocess.Popen) -> None:
        """SIGSTOP to the child's whole process group: nothing it does moves on until thaw or
        kill (a COMMIT already sent to PostgreSQL still lands: one per process at most)."""
        os.killpg(child.pid, signal.SIGSTOP)

    def thaw(self, child: subprocess.Popen) -> None:
        os.killpg(child.pid, signal.SIGCONT)

    def stop(self, child: subprocess.Popen, sig: int = signal.SIGTERM, timeout=20) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, sig)
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        # The prefork children may outlive the parent for a moment: the group must be empty.
        wait_for(lambda: not _group_alive(child.pid), timeout=10, interval=0.05)
        child.log.close()

    def alive(self, child: subprocess.Popen) -> bool:
        return child.poll() is None

    def log(self, child: subprocess.Popen) -> str:
        child.log.flush()
        return (self.logs / f"{child.log_name}.log").read_text(errors="replace")

    def __enter__(self) -> "Celery":
        return self

    def __exit__(self, *exc) -> None:
        for child in self.children:
            if not child.log.closed:
                self.stop(child, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
