"""The exported record laid out for people (the PDF): blocks of fields, tables and nested
blocks, in words, made from `record_export.build_record`'s data and nothing else, so the PDF
says what the JSON says."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin import when

from .record_export import COMMON_LABELS, Section, clinic_zone, sections

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
        with timezone.override(clinic_zone()):
            return when.day_and_time(instant)
    if isinstance(value, str) and ISO_DAY.match(value):
        try:
            return when.birthday(date.fromisoformat(value))
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
