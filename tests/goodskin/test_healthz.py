"""/healthz: 200 when the database and the broker answer, 503 within 2 s when either is down or
hung. The hung cases run the app as it is served (gunicorn, in a child process) against real
servers that accept connections and never answer: a silent listener on loopback, a relay to the
real PostgreSQL that stops passing bytes, and a redis-server of the test's own, SIGSTOPped."""

import contextlib
import http.client
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings

from goodskin import health
from tests.helpers import ROOT, manage, python

# What the load balancer may wait for (the checks' own deadline is 1 s).
ANSWER_WITHIN_SECONDS = 2.0

HEALTHZ_IN_CHILD = """
from django.test import Client
r = Client().get('/healthz', headers={'host': '127.0.0.1'})
print(r.status_code, r.content.decode())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


class LoopbackServer:
    """A TCP server on 127.0.0.1 that accepts every connection and holds it open. Given an
    upstream it relays bytes both ways until freeze(); frozen, or with no upstream, it never
    answers, as a SIGSTOPped server whose kernel still completes the handshake."""

    def __init__(self, upstream: tuple[str, int] | None = None):
        self.upstream = upstream
        self.accepted = 0
        self._relaying = threading.Event()
        if upstream:
            self._relaying.set()
        self._closed = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):  # the listener was closed
            while True:
                client, _ = self._listener.accept()
                self.accepted += 1
                self._sockets.append(client)
                if self.upstream:
                    threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        self._relaying.wait()
        if self._closed:
            return
        server = socket.create_connection(self.upstream)
        self._sockets.append(server)
        threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
        self._pump(client, server)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                self._relaying.wait()  # frozen: what arrives is read and held, never passed on
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)

    def freeze(self) -> None:
        self._relaying.clear()

    def close(self) -> None:
        self._closed = True
        for sock in self._sockets:
            # shutdown() first: close() alone leaves a socket open while a thread waits in
            # recv() on it, and PostgreSQL would keep that session (and the test database).
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._relaying.set()  # frees the held relays, which then fail on closed sockets


@pytest.fixture
def silent_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    try:
        yield server
    finally:
        server.close()


def url_of_test_database(port: int | None = None) -> str:
    """This run's test database as a DATABASE_URL, reached directly or through `port`."""
    database = settings.DATABASES["default"]
    address = f"127.0.0.1:{port}" if port else f"{database['HOST']}:{database['PORT']}"
    return f"postgres://{database['USER']}@{address}/{database['NAME']}"


@pytest.fixture
def database_url(db) -> str:
    # Through `db`: pytest-django sets the test database up only when a chosen test asks for it.
    return url_of_test_database()


@pytest.fixture
def database_relay(db) -> Iterator[LoopbackServer]:
    database = settings.DATABASES["default"]
    relay = LoopbackServer(upstream=(database["HOST"], int(database["PORT"])))
    try:
        yield relay
    finally:
        relay.close()


@pytest.fixture
def redis_server(tmp_path) -> Iterator[subprocess.Popen]:
    """A redis-server of the test's own on a free port (the machine's shared one is never
    stopped); `.port` is where it listens."""
    port = free_port()
    child = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        + ["--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        client = redis.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)

        def answers() -> bool:
            with contextlib.suppress(redis.RedisError):
                return client.ping()
            return False

        assert wait_until(answers, timeout=10), "redis-server did not start"
        client.close()
        child.port = port  # type: ignore[attr-defined]
        yield child
    finally:
        child.kill()  # SIGKILL ends a stopped process too
        child.wait(timeout=10)


def get(port: int, path: str = "/healthz", timeout: float = 5.0) -> tuple[int, bytes, float]:
    """GET with a timeout of the client's own: (status, body, seconds it took)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read(), time.monotonic() - started
    finally:
        connection.close()


def healthz(port: int) -> tuple[int, dict, float]:
    status, body, seconds = get(port)
    return status, json.loads(body), seconds


@pytest.fixture
def gunicorn(tmp_path) -> Iterator[Callable[..., int]]:
    """Starts `gunicorn goodskin.wsgi` (one sync worker, as served) against the given servers
    and returns its port once the worker serves pages; every child is killed at the end."""
    children: list[subprocess.Popen] = []

    def start(*, database: str, broker: str) -> int:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
        env |= {
            "DJANGO_SETTINGS_MODULE": "goodskin.settings_test",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database,
            "REDIS_URL": broker,
        }
        log = tmp_path / f"gunicorn-{port}.log"
        with open(log, "wb") as output:
            child = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "goodskin.wsgi"]
                + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-control-socket"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        children.append(child)

        def serves() -> bool:
            # A page that is not there: it asks neither the database nor the broker, and it
            # loads the URLconf, which a worker's first request imports (up to 1 s on a busy
            # host), so the timings below are those of /healthz itself.
            with contextlib.suppress(OSError):
                return get(port, "/no-such-page", timeout=1)[0] == 404
            return False

        assert wait_until(serves, timeout=30), log.read_text()
        return port

    try:
        yield start
    finally:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # master and worker
            child.wait(timeout=10)


def test_it_answers_200_when_database_and_broker_are_up(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_it_needs_no_login(client, db):
    assert client.get("/healthz").status_code == 200


def test_it_ignores_a_query_string(client, db):
    assert client.get("/healthz?database=%ff&broker=").status_code == 200


def test_it_answers_405_to_a_post(client, db):
    assert client.post("/healthz", {"x": "1"}).status_code == 405


def test_it_answers_a_load_balancers_head_probe(client, db):
    assert client.head("/healthz").status_code == 200


def postgresql_sockets() -> set[str]:
    """The TCP connections this process holds open to PostgreSQL's port (Linux /proc), by
    socket inode."""
    port = int(settings.DATABASES["default"]["PORT"])
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # an fd closed while listing
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    found = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port and fields[9] in inodes:
                    found.add(fields[9])
    return found


def test_it_keeps_one_database_connection_for_its_checks_however_many(client, db):
    before = postgresql_sockets()  # the test's own connection
    assert client.get("/healthz").status_code == 200
    checks = postgresql_sockets() - before
    assert len(checks) == 1  # the checks' own connection, opened by the first
    for _ in range(10):
        assert client.get("/healthz").status_code == 200
    assert postgresql_sockets() - before == checks  # the same one: reused, none added
    health.close()
    assert postgresql_sockets() == before


def test_it_reuses_its_redis_connection(client, db, redis_server):
    server = redis.Redis(port=redis_server.port)
    connections_made = lambda: server.info("stats")["total_connections_received"]  # noqa: E731
    before = connections_made()
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_server.port}/0"):
        for _ in range(10):
            assert client.get("/healthz").status_code == 200
    assert connections_made() - before == 1
    server.close()


def test_it_runs_its_checks_on_one_thread_per_part_however_many(client, db):
    for _ in range(10):
        assert client.get("/healthz").status_code == 200
    checkers = [t for t in threading.enumerate() if t.name.startswith("healthz-")]
    assert sorted(t.name for t in checkers) == ["healthz-broker", "healthz-database"]


def test_it_answers_200_at_once_after_its_connections_were_cut(client, db, redis_server):
    """A restart of PostgreSQL or Redis ends the kept connections: the next check finds them
    closed, connects again and answers 200 (no "down" for a server that is back)."""
    server = redis.Redis(port=redis_server.port)
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_server.port}/0"):
        assert client.get("/healthz").status_code == 200
        with connection.cursor() as cursor:
            pid = health._database.connection.get_backend_pid()
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone() == (True,)
        assert server.client_kill_filter(_type="normal", skipme=True) >= 1
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    server.close()


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_it_answers_503_when_the_broker_is_down(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "ok", "broker": "down"}


def test_it_answers_503_when_the_database_is_down():
    # A real PostgreSQL client against a port where nothing listens, in its own process.
    result = python(
        HEALTHZ_IN_CHILD,
        env={
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "true",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:1/goodskin",
            "REDIS_URL": "redis://127.0.0.1:6379/15",
        },
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {"status": "down", "database": "down", "broker": "ok"}


def folder_broker(root) -> dict:
    folders = {"data_folder_in": root / "in", "data_folder_out": root / "out"}
    folders["control_folder"] = root / "control"
    return {key: str(folder) for key, folder in folders.items()}


def test_it_answers_200_on_the_folder_broker_when_its_folders_exist(client, db, tmp_path):
    options = folder_broker(tmp_path)
    for folder in options.values():
        os.mkdir(folder)
    with override_settings(
        CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=options
    ):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


def test_it_answers_503_on_the_folder_broker_when_a_folder_is_missing(client, db, tmp_path):
    options = folder_broker(tmp_path)
    os.mkdir(options["data_folder_in"])
    os.mkdir(options["data_folder_out"])
    with override_settings(
        CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=options
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "ok", "broker": "down"}


def test_it_answers_200_through_gunicorn_when_all_is_up(gunicorn, database_url, redis_server):
    port = gunicorn(database=database_url, broker=f"redis://127.0.0.1:{redis_server.port}/0")
    status, body, seconds = healthz(port)
    assert (status, body) == (200, {"status": "ok", "database": "ok", "broker": "ok"})
    assert seconds < ANSWER_WITHIN_SECONDS


def test_it_answers_503_in_time_when_the_database_accepts_but_never_answers(
    gunicorn, silent_server, redis_server
):
    port = gunicorn(
        database=f"postgres://postgres@127.0.0.1:{silent_server.port}/goodskin",
        broker=f"redis://127.0.0.1:{redis_server.port}/0",
    )
    status, body, seconds = healthz(port)
    assert (status, body) == (503, {"status": "down", "database": "down", "broker": "ok"})
    assert seconds < ANSWER_WITHIN_SECONDS
    assert silent_server.accepted == 1


def test_it_answers_503_in_time_when_the_broker_accepts_but_never_answers(
    gunicorn, database_url, silent_server
):
    port = gunicorn(database=database_url, broker=f"redis://127.0.0.1:{silent_server.port}/0")
    status, body, seconds = healthz(port)
    assert (status, body) == (503, {"status": "down", "database": "ok", "broker": "down"})
    assert seconds < ANSWER_WITHIN_SECONDS
    assert silent_server.accepted == 1


def test_it_answers_503_in_time_while_redis_is_stopped_and_200_once_it_resumes(
    gunicorn, database_url, redis_server
):
    port = gunicorn(database=database_url, broker=f"redis://127.0.0.1:{redis_server.port}/0")
    assert healthz(port)[0] == 200
    os.kill(redis_server.pid, signal.SIGSTOP)
    try:
        status, body, seconds = healthz(port)
    finally:
        os.kill(redis_server.pid, signal.SIGCONT)
    assert (status, body) == (503, {"status": "down", "database": "ok", "broker": "down"})
    assert seconds < ANSWER_WITHIN_SECONDS
    # Until the stopped check ends (its 1 s read timeout) the broker stays "down" at once.
    healthy = (200, {"status": "ok", "database": "ok", "broker": "ok"})
    assert wait_until(lambda: healthz(port)[:2] == healthy, timeout=5)


def test_it_answers_503_in_time_when_the_database_hangs_after_answering(
    gunicorn, database_relay, redis_server
):
    port = gunicorn(
        database=url_of_test_database(database_relay.port),
        broker=f"redis://127.0.0.1:{redis_server.port}/0",
    )
    assert healthz(port)[:2] == (200, {"status": "ok", "database": "ok", "broker": "ok"})
    database_relay.freeze()
    status, body, seconds = healthz(port)
    assert (status, body) == (503, {"status": "down", "database": "down", "broker": "ok"})
    assert seconds < ANSWER_WITHIN_SECONDS


def test_it_keeps_one_database_check_in_flight_while_the_database_hangs(
    gunicorn, silent_server, redis_server
):
    port = gunicorn(
        database=f"postgres://postgres@127.0.0.1:{silent_server.port}/goodskin",
        broker=f"redis://127.0.0.1:{redis_server.port}/0",
    )
    assert healthz(port)[0] == 503
    for _ in range(3):
        status, body, seconds = healthz(port)
        # The first check still waits on the hung server: no new one, and no waiting for it.
        assert (status, body["database"]) == (503, "down")
        assert seconds < 0.5
    assert silent_server.accepted == 1


def test_it_gives_up_connecting_to_a_hung_database_after_db_connect_timeout(silent_server):
    result = python(
        "import time\n"
        "from django.db import connection\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    connection.ensure_connection()\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, time.monotonic() - started)\n",
        env={
            "DEBUG": "true",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{silent_server.port}/goodskin",
            "DB_CONNECT_TIMEOUT": "2",
        },
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    error, seconds = result.stdout.split()
    assert error == "OperationalError"
    assert 1.5 < float(seconds) < 4


def test_it_refuses_a_db_connect_timeout_that_would_wait_forever():
    result = manage(
        "check",
        env={
            "DEBUG": "true",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/goodskin",
            "DB_CONNECT_TIMEOUT": "0",
        },
    )
    assert result.returncode != 0
    assert "DB_CONNECT_TIMEOUT must be a number of seconds" in result.stderr


# --- Answered before Django's middleware, as served (goodskin.wsgi) ---------------------------


def through_wsgi(method: str = "GET", path: str = "/healthz") -> tuple[str, dict, bytes]:
    from goodskin.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(application(environ, start_response))
    return seen["status"], seen["headers"], body


def test_the_served_application_answers_healthz_as_the_view_does(client, db):
    status, headers, body = through_wsgi()
    assert status == "200 OK"
    assert json.loads(body) == client.get("/healthz").json()
    assert headers["Content-Type"] == "application/json"
    assert "no-cache" in headers["Cache-Control"] and "no-store" in headers["Cache-Control"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Length"] == str(len(body))


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_the_served_application_answers_503_when_the_broker_is_down(db):
    status, _headers, body = through_wsgi()
    assert status == "503 Service Unavailable"
    assert json.loads(body) == {"status": "down", "database": "ok", "broker": "down"}


def test_the_served_application_answers_head_without_a_body_and_405_to_a_post(db):
    status, headers, body = through_wsgi("HEAD")
    assert (status, body) == ("200 OK", b"")
    assert int(headers["Content-Length"]) > 0
    status, headers, body = through_wsgi("POST")
    assert status.startswith("405") and headers["Allow"] == "GET, HEAD"


def test_the_served_application_passes_every_other_address_to_django(db):
    status, _headers, _body = through_wsgi(path="/healthz/")
    assert status.startswith("404") or status.startswith("301")
    status, _headers, _body = through_wsgi(path="/accounts/login/")
    assert status.startswith("200")
