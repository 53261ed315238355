"""The patient's whole record as data, for the right of access (issue 14, point 5).

A record spans every app, most of them above this one: each app registers, when it starts (its
AppConfig.ready), the sections it owns: a stable key, a title, the function that builds the
section from the database as plain JSON values, the words for its keys, and the models it
covers (a test checks that no model holding a patient's rows is left out). The JSON download
is `build_record`'s result; the PDF is rendered from the same result (`present`), so the two
never disagree.

Values are plain: timestamps ISO 8601 with the clinic's offset, dates ISO, choices as
{"value", "label"}, people by name. Secrets (password hashes, tokens, links) are never copied.
"""

import re
import zoneinfo
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
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


# The PDF's view of the same data: blocks of fields, tables and nested blocks.


# A table longer than this prints as one line per row under a line naming the columns:
# WeasyPrint lays out a table cell by cell, about seven times slower than lines of text (an
# audit trail of 2,000 entries took a minute as a table on this machine).
COMPACT_ROWS = 40


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]

    @property
    def compact(self) -> bool:
        return len(self.rows) > COMPACT_ROWS


@dataclass
class Block:
    title: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    children: list["Block"] = field(default_factory=list)
    empty: bool = False


ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Words:
    """The words for one section's keys: its own, then the common ones, then the key."""

    def __init__(self, section: Section):
        self.labels = {**COMMON_LABELS, **section.labels}

    def __call__(self, key: str) -> str:
        return str(self.labels.get(key, key.replace("_", " ")))

    def item(self, key: str, item: dict, number: int) -> str:
        """The heading of one row of `key` shown as a block of its own: the label
        "<key>/item" with the row's number ("Plan %(number)s"), or the key's label and it."""
        number = item.get("number") or item.get("id") or number
        if f"{key}/item" in self.labels:
            return str(self.labels[f"{key}/item"]) % {"number": number}
        return f"{self(key)} {number}"


def text(value: Any, words: Words) -> str:
    """One value as the PDF shows it."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dict):
        if _is_choice(value):
            return str(value["label"])
        return "; ".join(f"{words(k)}: {text(v, words)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(text(item, words) for item in value)
    if isinstance(value, str) and ISO_INSTANT.match(value):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
        return date_format(timezone.localtime(instant, clinic_zone()), "DATETIME_FORMAT")
    if isinstance(value, str) and ISO_DAY.match(value):
        try:
            return date_format(date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    return str(value)


def _is_choice(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"value", "label"}


def _rows_of_dicts(value: Any) -> bool:
    """A list of rows (a list of choices is one value: "Spider veins; Reticular veins")."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and not _is_choice(v) for v in value)
    )


def _flat(item: dict) -> bool:
    return not any(_rows_of_dicts(v) for v in item.values())


def _table(title: str, items: list[dict], words: Words) -> Table:
    keys: list[str] = []
    for item in items:
        keys += [k for k in item if k not in keys]
    return Table(
        title=title,
        columns=[words(k) for k in keys],
        rows=[[text(item.get(k), words) for k in keys] for item in items],
    )


def _block(title: str, value: Any, words: Words, key: str = "") -> Block:
    block = Block(title=title)
    if isinstance(value, dict):
        for name, inner in value.items():
            if _rows_of_dicts(inner):
                _add_rows(block, name, inner, words)
            else:
                block.fields.append((words(name), text(inner, words)))
    elif _rows_of_dicts(value):
        _add_rows(block, key, value, words, top=True)
    else:
        block.empty = True
    return block


def _add_rows(block: Block, key: str, items: list[dict], words: Words, top=False) -> None:
    """Flat rows make a table; rows that hold lists of their own become one block each.
    `top`: the rows are the section itself, whose block already has the title."""
    if all(_flat(item) for item in items):
        block.tables.append(_table("" if top else words(key), items, words))
        return
    for number, item in enumerate(items, 1):
        block.children.append(_block(words.item(key, item, number), item, words))


def present(record: dict) -> list[Block]:
    """The record's sections as blocks for the PDF template, in the JSON's order."""
    return [
        _block(str(section.title), record[section.name], Words(section), section.name)
        for section in sections()
        if section.name in record
    ]
