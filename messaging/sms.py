"""Text messages through a small backend interface: a console or file backend here, a real
provider's backend (Twilio and the like) in production, chosen by the SMS_BACKEND setting."""

import json
import logging
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class SMSError(Exception):
    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


class ConsoleBackend:
    """Writes each text message to the log: for `make run`."""

    def send(self, *, to: str, text: str, key: str) -> None:
        log.info("SMS to %s [%s]: %s", to, key, text)


class FileBackend:
    """Appends each text message as a JSON line to SMS_FILE_PATH: for tests and demos."""

    def send(self, *, to: str, text: str, key: str) -> None:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = {"to": to, "text": text, "key": key, "at": timezone.now().isoformat()}
        with path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(line) + "\n")


def get_backend():
    return import_string(settings.SMS_BACKEND)()
