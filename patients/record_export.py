"""The patient's whole record as data, for the right of access (issue 14, point 5).

A record spans every app, most of them above this one: each app registers, when it starts (its
AppConfig.ready), the sections it owns: a stable key, a title, the function that builds the
section from the database as plain JSON values, the words for its keys, and the models it
covers (a test checks that no model holding a patient's rows is left out). The JSON download
is `build_record`'s result; the PDF is laid out from the same result (`record_layout`), so the
two never disagree.

Values are plain: timestamps ISO 8601 with the clinic's offset, dates ISO, choices as
{"value", "label"}, people by name. Secrets (password hashes, tokens, links) are never copied.
"""

import zoneinfo
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

# The JSON's own version: a reader can tell which shape of record it holds.
FORMAT = "goodskin-record/1"

# Words for keys that several sections use; a section's own `labels` come first.
COMMON_LABELS: dict[str, Promise] = {
    "id": gettext_lazy("Number"),
    "at": gettext_lazy("When"),
    "by": gettext_lazy("By"),
    "created_at": gettext_lazy("Created"),
    "notes": gettext_lazy("Notes"),
    "status": gettext_lazy("Status"),
    "reason": gettext_lazy("Reason"),
    "doctor": gettext_lazy("Doctor"),
    "plan": gettext_lazy("Treatment plan"),
}


@dataclass(frozen=True)
class Section:
    name: str
    title: str | Promise
    build: Callable[[Any], Any]
    labels: dict = field(default_factory=dict)
    models: tuple = ()
    order: int = 50


_sections: dict[str, Section] = {}


def register_section(
    name: str,
    title: str | Promise,
    build: Callable[[Any], Any],
    *,
    labels: dict | None = None,
    models: tuple = (),
    order: int = 50,
) -> None:
    """`build(patient)` returns the section's plain JSON value (a dict or a list of dicts);
    `labels` names its keys in words ({key: text}, nested keys included); `models` are the
    tables it reads; sections appear in `order`, then in the order registered."""
    _sections[name] = Section(name, title, build, dict(labels or {}), tuple(models), order)


def sections() -> list[Section]:
    return sorted(_sections.values(), key=lambda s: s.order)


def covered_models() -> set:
    return {model for section in _sections.values() for model in section.models}


# Helpers for the builders: every section writes its values the same way.


def when(value: datetime | None) -> str | None:
    """An instant as ISO 8601 with the clinic's offset (2026-11-30T09:00:00-08:00)."""
    if value is None:
        return None
    return timezone.localtime(value, clinic_zone()).isoformat()


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def choice(choices, value: str) -> dict | None:
    """A TextChoices value as {"value", "label"} ("" stays None: nothing was chosen)."""
    if value in ("", None):
        return None
    try:
        label = str(choices(value).label)
    except ValueError:
        label = value  # a value from an older version of the app: keep it as stored
    return {"value": value, "label": label}


def person(user) -> str | None:
    """A member of staff (or the patient's own account) by name."""
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def clinic_zone():
    return zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)


@contextmanager
def one_moment():
    """The sections read the record as it stood at one moment: on PostgreSQL a REPEATABLE READ
    transaction of its own, so a change committed while the export runs (an appointment moved,
    its audit entry written) shows in every section or in none. Inside a caller's transaction
    the caller's snapshot rules."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(durable=True):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def build_record(patient) -> dict:
    """Every registered section of `patient`'s record, with what the file is."""
    record = {
        "format": FORMAT,
        "clinic": settings.CLINIC_NAME,
        "record_number": patient.pk,
        "generated_at": when(timezone.now()),
    }
    with one_moment():
        for section in sections():
            record[section.name] = section.build(patient)
    return record
