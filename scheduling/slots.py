"""Free-slot search: when can a doctor see a patient, in which room.

Everything a date range needs is read in five queries (closed days, working hours, time off,
appointments, rooms) into a Calendar; the booking rules (rules.py) decide on it. Times are
handled as whole seconds since 1970 in sorted lists, so each question ("is this doctor free
from 10:05 to 10:25?") is a binary search, and a busy stretch is skipped in one step instead of
five minutes at a time.
"""

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import BigIntegerField, Func, Q
from django.utils import timezone

from goodskin.roles import GROUP_NAMES, Role

from . import clock, rules
from .clock import moment, seconds
from .models import ACTIVE_STATUSES, Appointment, ClosedDay, Location, Room, TimeOff, WorkingHours


@dataclass(frozen=True)
class Slot:
    doctor: object
    room: Room
    starts_at: datetime
    ends_at: datetime
    location: Location | None = None


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


def closed_days(location: Location, first_day: date, last_day: date) -> frozenset[date]:
    """The clinic-local days from first_day to last_day the location (or every location) is
    closed, in one query."""
    return closed_days_of([location], first_day, last_day)[location.pk]


def closed_days_of(locations, first_day: date, last_day: date) -> dict[int, frozenset[date]]:
    """closed_days for several offices: {location id: days}, in one query."""
    ids = [location.pk for location in locations]
    rows = ClosedDay.objects.filter(
        Q(location_id__in=ids) | Q(location__isnull=True), day__gte=first_day, day__lte=last_day
    ).values_list("location_id", "day")
    days = defaultdict(set)
    for location_id, day in rows:
        for key in ids if location_id is None else [location_id]:
            days[key].add(day)
    return {key: frozenset(days[key]) for key in ids}


@dataclass
class Calendar:
    """What is already taken in a time range, for some doctors, at one location."""

    location: Location
    buffer: timedelta
    hours: dict  # doctor id -> weekday -> [(start time, end time)]
    doctor_busy: dict  # doctor id -> Timeline
    room_busy: dict  # room id -> Timeline
    rooms: list
    closed: frozenset = frozenset()  # clinic-local days the clinic is closed (rules.clinic_open)
    # The patient's own appointments, when the calendar is read for one (rules.patient_free).
    patient_busy: "Timeline | None" = None

    @classmethod
    def load(
        cls,
        *,
        doctor_ids,
        location,
        start,
        end,
        buffer,
        exclude_id=None,
        closed=None,
        patient_id=None,
        patient_busy=None,
    ) -> "Calendar":
        return cls.load_windows(
            doctor_ids=doctor_ids,
            location=location,
            windows=[(start, end)],
            buffer=buffer,
            exclude_id=exclude_id,
            closed=closed,
            patient_id=patient_id,
            patient_busy=patient_busy,
        )

    @classmethod
    def load_windows(
        cls,
        *,
        doctor_ids,
        location,
        windows,
        buffer,
        exclude_id=None,
        closed=None,
        patient_id=None,
        patient_busy=None,
    ) -> "Calendar":
        """The calendar for a few separate stretches of time (the sessions of a series, weeks
        apart), in the same five queries as one stretch. `closed`: the closed days, when the
        caller has read them already (a search reading week after week reads them once)."""
        return cls.load_offices(
            doctor_ids=doctor_ids,
            locations=[location],
            windows=windows,
            buffer=buffer,
            exclude_id=exclude_id,
            closed=None if closed is None else {location.pk: closed},
            patient_id=patient_id,
            patient_busy=patient_busy,
        )[0]

    @classmethod
    def load_offices(
        cls,
        *,
        doctor_ids,
        locations,
        windows,
        buffer,
        exclude_id=None,
        closed=None,
        patient_id=None,
        patient_busy=None,
    ) -> list["Calendar"]:
        """One calendar per office, in the queries of one: the doctors' and rooms' busy times
        are the same whatever the office (a doctor is in one place at a time), so the
        calendars share them; only the hours, rooms and closed days differ. `closed`:
        {location id: closed days}, when the caller has read them already."""
        hours = {location.pk: defaultdict(lambda: defaultdict(list)) for location in locations}
        for row in WorkingHours.objects.filter(doctor_id__in=doctor_ids, location__in=locations):
            hours[row.location_id][row.doctor_id][row.weekday].append((row.starts, row.ends))
        doctor_busy, room_busy = defaultdict(Timeline), defaultdict(Timeline)
        wanted = set(doctor_ids)
        # Every doctor's appointments (with their buffer, rules.kept_free) count for the rooms;
        # the doctors asked about for themselves.
        pad = int(buffer.total_seconds())
        padded = [(start - buffer, end + buffer) for start, end in windows]
        taken = Appointment.objects.not_cancelled().overlapping_any(padded)
        if exclude_id is not None:  # (an "id IS NOT NULL" would cost the index-only scan)
            taken = taken.exclude(pk=exclude_id)
        taken = taken.order_by().values_list(
            "doctor_id", "room_id", Epoch("starts_at"), Epoch("ends_at", up=True)
        )
        for doctor_id, room_id, a_start, a_end in _rows(taken):
            interval = rules.kept_free(a_start, a_end, pad)
            room_busy[room_id].add(*interval)
            if doctor_id in wanted:
                doctor_busy[doctor_id].add(*interval)
        off = TimeOff.objects.filter(
            doctor_id__in=doctor_ids,
            starts_at__lt=max(end for _, end in windows),
            ends_at__gt=min(start for start, _ in windows),
        )
        for doctor_id, off_start, off_end in _rows(
            off.order_by().values_list("doctor_id", Epoch("starts_at"), Epoch("ends_at", up=True))
        ):
            doctor_busy[doctor_id].add(off_start, off_end)
        rooms = defaultdict(list)
        for room in Room.objects.filter(location__in=locations, active=True).order_by("name"):
            rooms[room.location_id].append(room)
        if closed is None:
            # The widest local days any office's zone gives the windows.
            zones = [clock.zone(location.time_zone) for location in locations]
            first = min(start.astimezone(tz).date() for start, _ in windows for tz in zones)
            last = max(end.astimezone(tz).date() for _, end in windows for tz in zones)
            closed = closed_days_of(locations, first, last)
        if patient_busy is None and patient_id is not None:
            patient_busy = _patient_busy(patient_id, windows, exclude_id)
        return [
            cls(
                location,
                buffer,
                hours[location.pk],
                doctor_busy,
                room_busy,
                rooms[location.pk],
                closed[location.pk],
                patient_busy,
            )
            for location in locations
        ]

    def take(self, doctor_id: int, room: Room, start: datetime, end: datetime) -> None:
        """Count a time as taken (a session booked earlier in the same series)."""
        interval = rules.kept_free(
            seconds(start), seconds(end, up=True), int(self.buffer.total_seconds())
        )
        self.doctor_busy[doctor_id].add(*interval)
        self.room_busy[room.pk].add(*interval)
        if self.patient_busy is not None:
            self.patient_busy.add(seconds(start), seconds(end, up=True))


def _patient_busy(patient_id: int, windows, exclude_id) -> Timeline:
    """The patient's active appointments in the windows, with any doctor, at any office, in
    one query (the index on patient and start): a patient is never in two places."""
    rows = Appointment.objects.filter(
        patient_id=patient_id, status__in=ACTIVE_STATUSES
    ).overlapping_any(windows)
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    rows = rows.order_by().values_list(Epoch("starts_at"), Epoch("ends_at", up=True))
    busy = Timeline()
    for a_start, a_end in _rows(rows):
        busy.add(a_start, a_end)
    return busy


# A search for the first few free times (proposing a series, shifting later sessions) reads a
# week of the calendar at a time and stops once it has them: the first free time is nearly
# always in the first week, and a whole month of every doctor's appointments costs more to read
# than the search itself (bench/scheduling.py, "propose 6-session series").
FEW, FEW_DAYS_AT_A_TIME = 10, 7


def free_slots(
    *,
    doctor_ids: list[int],
    location: Location | None = None,
    locations: list[Location] | None = None,
    first_day: date,
    last_day: date,
    minutes: int,
    step_minutes: int,
    buffer_minutes: int,
    limit: int = 500,
    patient_id: int | None = None,
    doctors: list | None = None,
) -> list[Slot]:
    """Free start times, in order, for an appointment of `minutes` with any of the doctors at
    `location` (or any of `locations`, in the queries of one office); outside the other
    appointments of the patient, if one is named. `doctors`: the doctors' rows, when the
    caller has read them already."""
    offices = [location] if location is not None else list(locations or [])
    if not offices or not doctor_ids:
        return []
    zones = {office.pk: clock.zone(office.time_zone) for office in offices}
    doctor_by_id = {d.pk: d for d in doctors or ()}
    if not set(doctor_ids) <= doctor_by_id.keys():
        doctor_by_id = get_user_model().objects.in_bulk(doctor_ids)
    length, step = minutes * 60, step_minutes * 60
    earliest = rules.earliest_start(timezone.now())
    span = timedelta(days=FEW_DAYS_AT_A_TIME if limit <= FEW else (last_day - first_day).days + 1)
    closed = closed_days_of(offices, first_day, last_day)  # once, for every week read

    def bounds(first: date, last: date) -> tuple[datetime, datetime]:
        """From the earliest start of `first` to the latest end of `last` in any office's zone."""
        return (
            min(clock.day_bounds(first, tz)[0] for tz in zones.values()),
            max(clock.day_bounds(last, tz)[1] for tz in zones.values()),
        )

    patient_busy = None
    if patient_id is not None:  # once too
        patient_busy = _patient_busy(patient_id, [bounds(first_day, last_day)], None)
    slots = []
    day = first_day
    while day <= last_day and len(slots) < limit:
        until = min(last_day, day + span - timedelta(days=1))
        calendars = Calendar.load_offices(
            doctor_ids=doctor_ids,
            locations=offices,
            windows=[bounds(day, until)],
            buffer=timedelta(minutes=buffer_minutes),
            closed=closed,
            patient_busy=patient_busy,
        )
        while day <= until and len(slots) < limit:
            for calendar in calendars:
                for doctor_id in doctor_ids:
                    starts = rules.free_starts(calendar, doctor_id, day, length, step, earliest)
                    for start, room in starts:
                        slots.append(
                            Slot(
                                doctor_by_id[doctor_id],
                                room,
                                moment(start),
                                moment(start + length),
                                calendar.location,
                            )
                        )
            day += timedelta(days=1)
    slots.sort(key=lambda s: (s.starts_at, s.doctor.last_name, s.location.name))
    return slots[:limit]
