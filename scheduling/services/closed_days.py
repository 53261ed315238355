"""Closed days: proposing the year's US federal holidays as days the clinic is closed."""

import holidays

from ..models import ClosedDay

# The years the holidays library knows and a clinic would plan for.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def propose_holidays(*, year: int) -> list[ClosedDay]:
    """Add the year's US federal holidays (the `holidays` library: each holiday's own date and,
    when it falls on a weekend, the weekday it is observed on) as days closed everywhere.
    A day already closed everywhere is left as it is, so running it twice adds nothing. One
    INSERT writes them all: no transaction is needed around it (the guard sweep found none
    was)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    found = holidays.US(years=year, observed=True)
    known = set(
        ClosedDay.objects.filter(location=None, day__in=list(found)).values_list("day", flat=True)
    )
    new = [
        ClosedDay(day=day, reason=name[:200])
        for day, name in sorted(found.items())
        if day not in known
    ]
    # ignore_conflicts: a day an administrator adds meanwhile is kept, not doubled.
    ClosedDay.objects.bulk_create(new, ignore_conflicts=True)
    return new
