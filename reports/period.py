"""The period a report covers: whole days in the clinic's zone, counted by the week (Monday to
Sunday) they fall in, and the office and doctor it is narrowed to."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from scheduling.clock import day_bounds
from scheduling.models import Location

# The default period: the last 12 weeks, this one included.
DEFAULT_WEEKS = 12
# The longest period a report covers: a chart of more weeks can't be read, and the form says so.
MAX_DAYS = 3 * 366


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def default_dates(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return monday_of(today) - timedelta(weeks=DEFAULT_WEEKS - 1), today


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    office: Location | None = None
    doctor: AbstractBaseUser | None = None

    @property
    def zone(self):
        return timezone.get_default_timezone()

    @property
    def starts_at(self) -> datetime:
        return day_bounds(self.first_day, self.zone)[0]

    @property
    def ends_at(self) -> datetime:
        """The first instant after the period."""
        return day_bounds(self.last_day, self.zone)[1]

    @property
    def weeks(self) -> list[date]:
        """The Monday of every week the period touches, in order."""
        first, last = monday_of(self.first_day), monday_of(self.last_day)
        return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]
