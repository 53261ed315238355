"""Free-slot search: when can a doctor see a patient, in which room.

Everything a date range needs is read in four queries (working hours, time off, appointments,
rooms), then the free times are worked out in Python, so the cost does not grow with the
number of days asked for.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
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


def _overlaps(start: datetime, end: datetime, busy: "Busy") -> bool:
    return busy.overlaps(start, end)


class Busy:
    """Taken intervals filed under each UTC date they touch: a candidate time is compared with
    its own day's intervals only, not with every one in a 90-day range."""

    def __init__(self):
        self.by_day = defaultdict(list)

    def append(self, interval: Interval) -> None:
        day, last = interval[0].date(), interval[1].date()
        if day == last:  # nearly every appointment: one day, no loop
            self.by_day[day].append(interval)
            return
        while day <= last:
            self.by_day[day].append(interval)
            day += timedelta(days=1)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        days = {start.date(), end.date()}
        return any(
            b_start < end and start < b_end
            for day in days
            for b_start, b_end in self.by_day.get(day, ())
        )


@dataclass
class Calendar:
    """What is already taken in a time range, for some doctors, at one location."""

    location: Location
    buffer: timedelta
    hours: dict  # doctor id -> weekday -> [(start time, end time)]
    doctor_busy: dict  # doctor id -> [interval]
    room_busy: dict  # room id -> [interval]
    rooms: list

    @classmethod
    def load(cls, *, doctor_ids, location, start, end, buffer, exclude_id=None) -> "Calendar":
        hours = defaultdict(lambda: defaultdict(list))
        for row in WorkingHours.objects.filter(doctor_id__in=doctor_ids, location=location):
            hours[row.doctor_id][row.weekday].append((row.starts, row.ends))
        doctor_busy, room_busy = defaultdict(Busy), defaultdict(Busy)
        # An appointment keeps the buffer free on both sides of it.
        taken = (
            Appointment.objects.not_cancelled()
            .overlapping(start - buffer, end + buffer)
            .exclude(pk=exclude_id)
            .values_list("doctor_id", "room_id", "starts_at", "ends_at")
        )
        for doctor_id, room_id, a_start, a_end in taken:
            interval = (a_start - buffer, a_end + buffer)
            doctor_busy[doctor_id].append(interval)
            room_busy[room_id].append(interval)
        off = TimeOff.objects.filter(doctor_id__in=doctor_ids, starts_at__lt=end, ends_at__gt=start)
        for row in off:
            doctor_busy[row.doctor_id].append((row.starts_at, row.ends_at))
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

    def free_room(self, start: datetime, end: datetime, wanted: Room | None = None):
        for room in self.rooms:
            if wanted is not None and room.pk != wanted.pk:
                continue
            if not _overlaps(start, end, self.room_busy[room.pk]):
                return room
        return None

    def why_not(self, doctor_id: int, start: datetime, end: datetime) -> str | None:
        """None if the doctor is free for [start, end); else the reason as a key."""
        tz = clock.zone(self.location.time_zone)
        day = start.astimezone(tz).date()
        if not any(
            b_start <= start and end <= b_end
            for b_start, b_end in self.working_blocks(doctor_id, day)
        ):
            return "hours"
        if _overlaps(start, end, self.doctor_busy[doctor_id]):
            return "busy"
        return None


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
    range_start, _ = clock.day_bounds(first_day, tz)
    _, range_end = clock.day_bounds(last_day, tz)
    calendar = Calendar.load(
        doctor_ids=doctor_ids,
        location=location,
        start=range_start,
        end=range_end,
        buffer=timedelta(minutes=buffer_minutes),
    )
    doctor_by_id = get_user_model().objects.in_bulk(doctor_ids)
    length, step, now = timedelta(minutes=minutes), timedelta(minutes=step_minutes), timezone.now()
    slots = []
    day = first_day
    while day <= last_day and len(slots) < limit:
        for doctor_id in doctor_ids:
            for block_start, block_end in calendar.working_blocks(doctor_id, day):
                start = block_start
                while start + length <= block_end:
                    end = start + length
                    if start >= now and not _overlaps(start, end, calendar.doctor_busy[doctor_id]):
                        room = calendar.free_room(start, end)
                        if room is not None:
                            slots.append(Slot(doctor_by_id[doctor_id], room, start, end))
                    start += step
        day += timedelta(days=1)
    slots.sort(key=lambda s: (s.starts_at, s.doctor.last_name))
    return slots[:limit]
