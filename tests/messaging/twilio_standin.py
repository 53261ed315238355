"""A stand-in for Twilio's Messages API on 127.0.0.1: an `http.server` in a thread that speaks
enough of it for the `twilio` library (create a text, list the texts to a number, Twilio's
JSON error shape) and records every request it gets.

It can be told to refuse a number with one of Twilio's error codes, to answer every request
with a status (500, 429), to take a text and lose the answer (hold it until the client has
given up waiting, or drop the connection), or be stopped and started again on its port.
"""

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone

from tests.messaging.realparts import free_port

MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$")


@dataclass
class Recorded:
    """One request as the stand-in received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    auth: tuple[str, str] | None
    answered: int = 0  # the status sent back; 0 when the answer was lost
    client: tuple[str, int] = ("", 0)  # the connection's other end: one per connection

    def one(self, name: str) -> str | None:
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else None


@dataclass
class State:
    account_sid: str
    auth_token: str
    requests: list[Recorded] = field(default_factory=list)
    # The texts it took, newest last, as Twilio's JSON.
    messages: list[dict] = field(default_factory=list)
    # number -> (Twilio error code, message): answered 400 with Twilio's error shape.
    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)
    # Answer every request with this status (500, 429, ...), or 0 to work normally.
    answer_with: int = 0
    # Take the next text, then lose the answer: "hold" (no answer until released, the
    # client times out) or "drop" (close the connection without a word).
    lose_next_answer: str = ""
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def created(self) -> list[Recorded]:
        """The POSTs that made a text (whether or not their answer arrived)."""
        return [r for r in self.requests if r.method == "POST" and r.answered in (201, 0)]


class Handler(BaseHTTPRequestHandler):
    server: "Server"
    # Connections stay open between requests, as Twilio's do (every answer has its length).
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass  # quiet: the test reads `requests`

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def _serve(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode()) if length else {}
        recorded = Recorded(
            method, url.path, parse_qs(url.query), form, self._auth(), client=self.client_address
        )
        with state.lock:
            state.requests.append(recorded)
        found = MESSAGES.match(url.path)
        if found is None or found["account"] != state.account_sid:
            return self._answer(recorded, 404, _error(20404, "Not found", 404))
        if recorded.auth != (state.account_sid, state.auth_token):
            return self._answer(recorded, 401, _error(20003, "Authenticate", 401))
        if state.answer_with:
            status = state.answer_with
            code = 20500 if status >= 500 else 20429
            return self._answer(recorded, status, _error(code, "Try again later", status))
        if method == "GET":
            return self._answer(recorded, 200, self._list(recorded))
        to = recorded.one("To") or ""
        if to in state.refuse:
            code, message = state.refuse[to]
            return self._answer(recorded, 400, _error(code, message, 400))
        text = self._create(recorded)
        lose, state.lose_next_answer = state.lose_next_answer, ""
        if lose == "drop":
            self.close_connection = True
            return None  # no status line, nothing: the client sees the connection close
        if lose == "hold":
            state.release.wait(timeout=30)  # the client has given up by then
        return self._answer(recorded, 201, text)

    def _auth(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user, password

    def _create(self, recorded: Recorded) -> dict:
        state = self.server.state
        sid = "SM" + uuid.uuid4().hex
        text = {
            "sid": sid,
            "account_sid": state.account_sid,
            "to": recorded.one("To"),
            "from": recorded.one("From"),
            "messaging_service_sid": recorded.one("MessagingServiceSid"),
            "body": recorded.one("Body"),
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "date_created": format_datetime(timezone.now().replace(microsecond=0), usegmt=True),
            "date_updated": format_datetime(timezone.now().replace(microsecond=0), usegmt=True),
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{state.account_sid}/Messages/{sid}.json",
        }
        with state.lock:
            state.messages.append(text)
        return text

    def _list(self, recorded: Recorded) -> dict:
        to, sender = recorded.one("To"), recorded.one("From")
        size = int(recorded.one("PageSize") or 50)
        with self.server.state.lock:
            texts = [
                m
                for m in reversed(self.server.state.messages)
                if (to is None or m["to"] == to) and (sender is None or m["from"] == sender)
            ][:size]
        return {
            "messages": texts,
            "page": 0,
            "page_size": size,
            "start": 0,
            "end": len(texts),
            "uri": recorded.path,
            "first_page_uri": recorded.path,
            "next_page_uri": None,
            "previous_page_uri": None,
        }

    def _answer(self, recorded: Recorded, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            return  # the client hung up first (a held answer)
        recorded.answered = status


def _error(code: int, message: str, status: int) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, state: State):
        super().__init__(("127.0.0.1", port), Handler)
        self.state = state


class TwilioStandIn:
    """`with TwilioStandIn(sid, token) as twilio:` ... `twilio.url` for TWILIO_API_URL."""

    def __init__(self, account_sid: str, auth_token: str):
        self.state = State(account_sid, auth_token)
        self.port = free_port()
        self.server: Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = Server(self.port, self.state)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Down: nobody listens on the port (the client's connection is refused)."""
        self.state.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        self.state.release = threading.Event()

    def __enter__(self) -> "TwilioStandIn":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
