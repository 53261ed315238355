"""Free-slot search: when can a doctor see a patient, in which room.

Everything a date range needs is read in four queries (working hours, time off, appointments,
rooms). Times are then handled as whole seconds since 1970 in sorted lists, so each question
("is this doctor free from 10:05 to 10:25?") is a binary search, and a busy stretch is skipped
in one step instead of five minutes at a time.
"""

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import BigIntegerField, Func
from django.utils import timezone

from goodskin.roles import GROUP_NAMES, Role

from . import clock
from .models import Appointment, Location, Room, TimeOff, WorkingHours

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Slot:
    doctor: object
    room: Room
    starts_at: datetime
    ends_at: datetime


def doctors():
    return (
        get_user_model()
        .objects.filter(groups__name=GROUP_NAMES[Role.DOCTOR], is_active=True)
        .order_by("last_name", "first_name")
    )


class Epoch(Func):
    """A timestamp as whole seconds since 1970 (UTC): an integer is read from the database
    several times faster than a datetime with its time zone. Busy times are widened to whole
    seconds, start down and end up (`up=True`), so a fraction of a second is never offered."""

    output_field = BigIntegerField()

    def __init__(self, expression, *, up: bool = False):
        super().__init__(expression)
        self.up = up

    def as_sql(self, compiler, connection, **extra):
        rounding = "CEIL" if self.up else "FLOOR"
        extra.setdefault(
            "template", f"CAST({rounding}(EXTRACT(EPOCH FROM %(expressions)s)) AS BIGINT)"
        )
        return super().as_sql(compiler, connection, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Julian days, not strftime('%s'): a % sign would be taken for a query parameter. A
        # double keeps julianday to about 50 microseconds, so round to the nearest second
        # (the SQLite default serves local trials, where every time is on the minute).
        template = "CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400) AS INTEGER)"
        return super().as_sql(compiler, connection, template=template, **extra)


def seconds(moment: datetime, *, up: bool = False) -> int:
    """Whole seconds since 1970, rounded down (or up)."""
    whole = int(moment.timestamp())
    return whole + 1 if up and whole < moment.timestamp() else whole


def moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _rows(queryset) -> list[tuple]:
    """The rows of a values_list of plain integers, straight from the database cursor: the
    ORM's per-value conversion cost as much as the query for a few thousand appointments."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class Timeline:
    """Taken intervals [start, end) in seconds. `busy_until` answers whether a time overlaps
    any of them with one binary search: intervals are sorted by start, and `reach[i]` is the
    latest end among the first i + 1, so intervals that overlap each other (time off over an
    appointment) are handled too."""

    def __init__(self):
        self.intervals: list[tuple[int, int]] = []
        self.starts: list[int] | None = None  # sorted when first asked
        self.reach: list[int] = []

    def add(self, start: int, end: int) -> None:
        self.intervals.append((start, end))
        self.starts = None

    def busy_until(self, start: int, end: int) -> int | None:
        """None if [start, end) is free; else a time before which every start is taken."""
        if self.starts is None:
            self.intervals.sort()
            self.starts = [first for first, _ in self.intervals]
            self.reach = list(accumulate((last for _, last in self.intervals), max))
        i = bisect_left(self.starts, end)
        if i and self.reach[i - 1] > start:
            return self.reach[i - 1]
        return None


@dataclass
class Calendar:
    """What is already taken in a time range, for some doctors, at one location."""

    location: Location
    buffer: timedelta
    hours: dict  # doctor id -> weekday -> [(start time, end time)]
    doctor_busy: dict  # doctor id -> Timeline
    room_busy: dict  # room id -> Timeline
    rooms: list

    @classmethod
    def load(cls, *, doctor_ids, location, start, end, buffer, exclude_id=None) -> "Calendar":
        return cls.load_windows(
            doctor_ids=doctor_ids,
            location=location,
            windows=[(start, end)],
            buffer=buffer,
            exclude_id=exclude_id,
        )

    @classmethod
    def load_windows(cls, *, doctor_ids, location, windows, buffer, exclude_id=None) -> "Calendar":
        """The calendar for a few separate stretches of time (the sessions of a series, weeks
        apart), in the same four queries as one stretch."""
        hours = defaultdict(lambda: defaultdict(list))
        for row in WorkingHours.objects.filter(doctor_id__in=doctor_ids, location=location):
            hours[row.doctor_id][row.weekday].append((row.starts, row.ends))
        doctor_busy, room_busy = defaultdict(Timeline), defaultdict(Timeline)
        wanted = set(doctor_ids)
        # An appointment keeps the buffer free on both sides of it. Every doctor's count for
        # the rooms; the doctors asked about for themselves.
        pad = int(buffer.total_seconds())
        padded = [(start - buffer, end + buffer) for start, end in windows]
        taken = Appointment.objects.not_cancelled().overlapping_any(padded)
        if exclude_id is not None:  # (an "id IS NOT NULL" would cost the index-only scan)
            taken = taken.exclude(pk=exclude_id)
        taken = taken.order_by().values_list(
            "doctor_id", "room_id", Epoch("starts_at"), Epoch("ends_at", up=True)
        )
        for doctor_id, room_id, a_start, a_end in _rows(taken):
            room_busy[room_id].add(a_start - pad, a_end + pad)
            if doctor_id in wanted:
                doctor_busy[doctor_id].add(a_start - pad, a_end + pad)
        off = TimeOff.objects.filter(
            doctor_id__in=doctor_ids,
            starts_at__lt=max(end for _, end in windows),
            ends_at__gt=min(start for start, _ in windows),
        )
        for doctor_id, off_start, off_end in _rows(
            off.order_by().values_list("doctor_id", Epoch("starts_at"), Epoch("ends_at", up=True))
        ):
            doctor_busy[doctor_id].add(off_start, off_end)
        rooms = list(Room.objects.filter(location=location, active=True).order_by("name"))
        return cls(location, buffer, hours, doctor_busy, room_busy, rooms)

    def working_blocks(self, doctor_id: int, day: date) -> list[Interval]:
        tz = clock.zone(self.location.time_zone)
        blocks = []
        for starts, ends in self.hours[doctor_id][day.weekday()]:
            try:
                blocks.append((clock.instant(day, starts, tz), clock.instant(day, ends, tz)))
            except clock.LocalTimeError:
                continue  # hours that begin or end in a skipped or repeated hour: not offered
        return blocks

    def take(self, doctor_id: int, room: Room, start: datetime, end: datetime) -> None:
        """Count a time as taken (a session booked earlier in the same series)."""
        pad = int(self.buffer.total_seconds())
        interval = (seconds(start) - pad, seconds(end, up=True) + pad)
        self.doctor_busy[doctor_id].add(*interval)
        self.room_busy[room.pk].add(*interval)

    def _free_room(self, start: int, end: int, wanted: Room | None = None):
        for room in self.rooms:
            if wanted is not None and room.pk != wanted.pk:
                continue
            if self.room_busy[room.pk].busy_until(start, end) is None:
                return room
        return None

    def free_room(self, start: datetime, end: datetime, wanted: Room | None = None):
        return self._free_room(seconds(start), seconds(end, up=True), wanted)

    def why_not(self, doctor_id: int, start: datetime, end: datetime) -> str | None:
        """None if the doctor is free for [start, end); else the reason as a key."""
        tz = clock.zone(self.location.time_zone)
        day = start.astimezone(tz).date()
        if not any(
            b_start <= start and end <= b_end
            for b_start, b_end in self.working_blocks(doctor_id, day)
        ):
            return "hours"
        if (
            self.doctor_busy[doctor_id].busy_until(seconds(start), seconds(end, up=True))
            is not None
        ):
            return "busy"
        return None

    def free_starts(self, doctor_id: int, day: date, length: int, step: int, earliest: int):
        """(start, room) in seconds: the doctor's free times of the day on the grid of `step`
        from the start of each working block, with the first free room."""
        busy = self.doctor_busy[doctor_id]
        for block_start, block_end in self.working_blocks(doctor_id, day):
            first, last = seconds(block_start), seconds(block_end) - length
            start = first if earliest <= first else first + -(-(earliest - first) // step) * step
            while start <= last:
                until = busy.busy_until(start, start + length)
                if until is not None:
                    # Every start before `until` is taken too: go to the next one after it.
                    start = first + -(-(until - first) // step) * step
                    continue
                room = self._free_room(start, start + length)
                if room is not None:
                    yield start, room
                start += step


# A search for the first few free times (proposing a series, shifting later sessions) reads a
# week of the calendar at a time and stops once it has them: the first free time is nearly
# always in the first week, and a whole month of every doctor's appointments costs more to read
# than the search itself (bench/scheduling.py, "propose 6-session series").
FEW, FEW_DAYS_AT_A_TIME = 10, 7


def free_slots(
    *,
    doctor_ids: list[int],
    location: Location,
    first_day: date,
    last_day: date,
    minutes: int,
    step_minutes: int,
    buffer_minutes: int,
    limit: int = 500,
) -> list[Slot]:
    """Free start times, in order, for an appointment of `minutes` with any of the doctors."""
    tz = clock.zone(location.time_zone)
    doctor_by_id = get_user_model().objects.in_bulk(doctor_ids)
    length, step = minutes * 60, step_minutes * 60
    earliest = seconds(timezone.now(), up=True)
    span = timedelta(days=FEW_DAYS_AT_A_TIME if limit <= FEW else (last_day - first_day).days + 1)
    slots = []
    day = first_day
    while day <= last_day and len(slots) < limit:
        until = min(last_day, day + span - timedelta(days=1))
        calendar = Calendar.load(
            doctor_ids=doctor_ids,
            location=location,
            start=clock.day_bounds(day, tz)[0],
            end=clock.day_bounds(until, tz)[1],
            buffer=timedelta(minutes=buffer_minutes),
        )
        while day <= until and len(slots) < limit:
            for doctor_id in doctor_ids:
                for start, room in calendar.free_starts(doctor_id, day, length, step, earliest):
                    slots.append(
                        Slot(doctor_by_id[doctor_id], room, moment(start), moment(start + length))
                    )
            day += timedelta(days=1)
    slots.sort(key=lambda s: (s.starts_at, s.doctor.last_name))
    return slots[:limit]
