"""Days and times written one way everywhere: pages, messages and the calendar feed all write
an instant through these functions (templates through the `when` filters), in the current
zone (the clinic's by default) and the active language.

English keeps the clinic's long-standing look ("Monday, December 7, 2026 at 9:30 AM"); Spanish
writes "lunes, 7 de diciembre de 2026, 9:30". Day and month names come from Django's own
translations. A language without a row here is written as English.
"""

from datetime import date, datetime, time
from functools import lru_cache

from django.conf import settings
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format

__all__ = [
    "day",
    "short_day",
    "time_of",
    "day_and_time",
    "short_day_and_time",
    "brief",
    "brief_day",
    "month",
    "month_day",
    "birthday",
    "short_month_day",
]

# Django's date format characters (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date).
FORMATS = {
    "en": {
        "day": "l, F j, Y",
        "short_day": "l, F j",
        "time": "g:i A",
        "brief_day": "D M j",
        "month": "F Y",
        "birthday": "F j, Y",
        "month_day": "F j",
        "short_month_day": "M j",
        "day_and_time": "{day} at {time}",
    },
    "es": {
        "day": r"l, j \d\e F \d\e Y",
        "short_day": r"l, j \d\e F",
        "time": "G:i",
        "brief_day": r"D j b",
        "month": r"F \d\e Y",
        "birthday": r"j \d\e F \d\e Y",
        "month_day": r"j \d\e F",
        "short_month_day": "j b",
        "day_and_time": "{day}, {time}",
    },
}


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _formats(language: str | None = None) -> dict[str, str]:
    return FORMATS.get((language or _language()).split("-")[0], FORMATS["en"])


def local(value: datetime | date) -> datetime | date:
    """An instant on the current zone's clock: the clinic's, unless a message about another
    office overrides it (timezone.override); a plain date stays as it is."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def _write(value, name: str) -> str:
    if value in (None, ""):
        return ""
    value = local(value)
    # No format here names the zone or the seconds: a clock time is written from its hour
    # and minute, a day from its date, so the few distinct ones of a page are written once
    # (a day view writes 300 times, of 30 distinct clock times).
    if name == "time":
        value = time(value.hour, value.minute)
    elif isinstance(value, datetime):
        value = value.date()
    language = _language()
    return _format(value, _formats(language)[name], language)


@lru_cache(maxsize=4096)
def _format(value: date | time, pattern: str, language: str) -> str:
    """date_format in `language` (the active one: day and month names are its translations)."""
    return date_format(value, pattern)


def day(value: datetime | date) -> str:
    """ "Monday, December 7, 2026" / "lunes, 7 de diciembre de 2026"."""
    return _write(value, "day")


def short_day(value: datetime | date) -> str:
    """The day without its year, for near dates: "Monday, December 7" / "lunes, 7 de diciembre"."""
    return _write(value, "short_day")


def time_of(value: datetime) -> str:
    """ "9:30 AM" / "9:30"."""
    return _write(value, "time")


def day_and_time(value: datetime) -> str:
    """ "Monday, December 7, 2026 at 9:30 AM" / "lunes, 7 de diciembre de 2026, 9:30"."""
    if value in (None, ""):
        return ""
    return _formats()["day_and_time"].format(day=day(value), time=time_of(value))


def short_day_and_time(value: datetime) -> str:
    """ "Monday, December 7 at 9:30 AM" / "lunes, 7 de diciembre, 9:30"."""
    if value in (None, ""):
        return ""
    return _formats()["day_and_time"].format(day=short_day(value), time=time_of(value))


def brief(value: datetime) -> str:
    """For a text message, where every character counts: "Mon Dec 7 at 9:30 AM" /
    "lun 7 dic, 9:30"."""
    if value in (None, ""):
        return ""
    return _formats()["day_and_time"].format(day=brief_day(value), time=time_of(value))


def brief_day(value: datetime | date) -> str:
    """ "Mon Dec 7" / "lun 7 dic"."""
    return _write(value, "brief_day")


def month(value: datetime | date) -> str:
    """ "December 2026" / "diciembre de 2026"."""
    return _write(value, "month")


def month_day(value: datetime | date) -> str:
    """ "December 7" / "7 de diciembre"."""
    return _write(value, "month_day")


def birthday(value: date) -> str:
    """A date with no weekday: "December 7, 2026" / "7 de diciembre de 2026"."""
    return _write(value, "birthday")


def short_month_day(value: datetime | date) -> str:
    """Where room is short (a chart's axis): "Dec 7" / "7 dic"."""
    return _write(value, "short_month_day")
