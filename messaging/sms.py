"""Text messages through a small backend interface: a console or file backend here, Twilio in
production, chosen by the SMS_BACKEND setting.

A backend has two calls. `send` hands one text to the provider and returns the provider's id
for it ("" when there is none), or raises SMSError: transient (the provider down, busy or
slow: the outbox tries again later) or not (the number refused: given up). `find_sent` is
asked before the outbox tries a text again: a try that failed may still have reached the
provider (its answer lost to a timeout or a dropped connection), and a copy the provider
accepted must not be sent a second time. It returns that copy's id, or "".
"""

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)


class SMSError(Exception):
    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


class ConsoleBackend:
    """Writes each text message to the log: for `make run`."""

    def send(self, *, to: str, text: str, key: str) -> str:
        log.info("SMS to %s [%s]: %s", to, key, text)
        return ""

    def find_sent(self, *, to: str, text: str, since: datetime) -> str:
        return ""


class FileBackend:
    """Appends each text message as a JSON line to SMS_FILE_PATH: for tests and demos."""

    def send(self, *, to: str, text: str, key: str) -> str:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        sid = f"file-{uuid.uuid4().hex}"
        line = {"to": to, "text": text, "key": key, "at": timezone.now().isoformat(), "id": sid}
        with path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(line) + "\n")
        return sid

    def find_sent(self, *, to: str, text: str, since: datetime) -> str:
        return ""  # a local append either happened or raised


# Twilio's error codes that mean "this number can't get texts": no use trying again.
# https://www.twilio.com/docs/api/errors
REFUSED_NUMBERS = {
    21211: "not a valid phone number",
    21214: "the number cannot be reached",
    21217: "not a valid phone number",
    21401: "not a valid phone number",
    21408: "texts to this country are not enabled for the clinic's account",
    21610: "the patient replied STOP: the number is unsubscribed from the clinic's texts",
    21612: "the provider cannot route texts to this number",
    21614: "not a mobile number (a landline cannot get texts)",
}
# The provider's states of a text that did not (and will not) reach the phone.
NOT_DELIVERED = {"failed", "undelivered", "canceled"}
# How many of the latest texts to the number `find_sent` looks through: a try that may have
# reached the provider was minutes ago, and the patient gets few texts.
LOOKUP_DEPTH = 20
# Twilio's clock and ours may differ by a little: a copy this much older than the row counts.
CLOCK_SLACK = timedelta(minutes=1)


def callback_url() -> str:
    """Where Twilio posts its delivery receipts: the same address the receipts are checked
    against (SITE_URL, not the Host a proxy passes on)."""
    return settings.SITE_URL.rstrip("/") + reverse("messaging:sms_status")


class TwilioBackend:
    """Twilio's Messages API through its own Python library (`twilio`)."""

    def __init__(self):
        missing = [
            name
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
            if not getattr(settings, name, "")
        ]
        if not (settings.TWILIO_FROM or settings.TWILIO_MESSAGING_SERVICE_SID):
            missing.append("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")
        if missing:
            raise ImproperlyConfigured(f"SMS_BACKEND is Twilio: set {', '.join(missing)}.")
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            # No retries inside the library: the outbox retries, and looks first (find_sent).
            http_client=TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT, max_retries=0),
        )
        # Twilio's library has no setting for its address; its API domain keeps it here.
        self.client.api.base_url = settings.TWILIO_API_URL
        self.sender = (
            {"from_": settings.TWILIO_FROM}
            if settings.TWILIO_FROM
            else {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        )

    def send(self, *, to: str, text: str, key: str) -> str:
        with _provider_errors():
            created = self.client.messages.create(
                to=to, body=text, status_callback=callback_url(), **self.sender
            )
        return created.sid

    def find_sent(self, *, to: str, text: str, since: datetime) -> str:
        """The id of a copy of this text to this number that Twilio accepted since `since`
        and that has not failed, or "". Same number, same words: the clinic's texts name
        the appointment or the session they are about."""
        sender = {"from_": settings.TWILIO_FROM} if settings.TWILIO_FROM else {}
        with _provider_errors():
            latest = self.client.messages.list(
                to=to, limit=LOOKUP_DEPTH, page_size=LOOKUP_DEPTH, **sender
            )
        for copy in latest:
            if (
                _same_text(copy.body, text)
                and copy.date_created is not None
                and copy.date_created >= since - CLOCK_SLACK
                and str(copy.status) not in NOT_DELIVERED
            ):
                return copy.sid
        return ""


def _same_text(theirs: str | None, ours: str) -> bool:
    return " ".join((theirs or "").split()) == " ".join(ours.split())


@contextmanager
def _provider_errors() -> Iterator[None]:
    """Twilio's answers and the network's failures, as the outbox's SMSError."""
    try:
        yield
    except (TwilioRestException, TwilioServiceException) as error:
        raise _refusal(error.status, error.code, _said(error)) from error
    except requests.ConnectTimeout as error:
        raise SMSError("SMS provider: no answer to connect", transient=True) from error
    except requests.Timeout as error:
        # It may have taken the text: the next try asks it first (find_sent).
        raise SMSError("SMS provider: no answer in time", transient=True) from error
    except requests.RequestException as error:
        raise SMSError(f"SMS provider unreachable: {error}", transient=True) from error


def _said(error) -> str:
    text = getattr(error, "msg", "") or getattr(error, "detail", "") or ""
    return str(text or getattr(error, "title", "")).removeprefix("Unable to create record: ")


def _refusal(status: int, code: int | None, said: str) -> SMSError:
    if code in REFUSED_NUMBERS:
        return SMSError(
            f"number refused by the SMS provider: {REFUSED_NUMBERS[code]} (error {code})",
            transient=False,
        )
    if status == 429 or status >= 500:
        return SMSError(f"SMS provider busy or down (HTTP {status}): {said}", transient=True)
    if status in (401, 403):
        # The clinic's account, not the patient's number: retried while someone fixes it.
        log.error("Twilio refuses the clinic's credentials: %s", said)
        return SMSError(f"SMS provider refused the clinic's account: {said}", transient=True)
    return SMSError(f"refused by the SMS provider: {said} (error {code})", transient=False)


def get_backend():
    return import_string(settings.SMS_BACKEND)()
