"""Local wall-clock times of the clinic and the instants they stand for.

Appointments are stored as UTC instants. Staff type local times; on the days the clocks change
a local time may not exist (2026-03-08 02:30 in Oregon) or exist twice (2026-11-01 01:30).
Neither is guessed: the form says so.
"""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache

from django.conf import settings
from django.utils.translation import gettext as _

from goodskin import when


class LocalTimeError(ValueError):
    pass


@cache
def zone(name: str | None = None) -> tzinfo:
    return zoneinfo.ZoneInfo(name or settings.CLINIC_TIME_ZONE)


def instant(day: date, at: time, tz: tzinfo) -> datetime:
    """The one instant a local day and time stand for, or LocalTimeError."""
    wall = datetime.combine(day, at)
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        # Python gives fold=0 and fold=1 different offsets both for a skipped hour and for a
        # repeated one; a round trip through UTC tells which.
        back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if back != wall:
            raise LocalTimeError(
                _("%(time)s does not exist on %(day)s: the clocks go forward that night.")
                % {"time": when.time_of(at), "day": when.day(day)}
            )
        raise LocalTimeError(
            _(
                "%(time)s happens twice on %(day)s: the clocks go back that night. "
                "Choose another time."
            )
            % {"time": when.time_of(at), "day": when.day(day)}
        )
    return utc(first)


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The instants where a local day starts and ends (23 or 25 hours on DST days)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return utc(start), utc(end)


def utc(moment: datetime) -> datetime:
    """The same instant in UTC. Arithmetic on a zone-aware datetime in Python moves the wall
    clock (01:45 + 30 min across a DST change is wrong); in UTC it moves the instant."""
    return moment.astimezone(UTC)


def seconds(moment: datetime, *, up: bool = False) -> int:
    """Whole seconds since 1970, rounded down (or up): how the free-time search holds times."""
    whole = int(moment.timestamp())
    return whole + 1 if up and whole < moment.timestamp() else whole


def moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
