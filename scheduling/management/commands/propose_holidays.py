"""manage.py propose_holidays [--year Y]: the year's US federal holidays as closed days."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from scheduling import clock
from scheduling.services.closed_days import FIRST_YEAR, LAST_YEAR, propose_holidays


class Command(BaseCommand):
    help = (
        "Add the year's US federal holidays (and the weekdays they are observed on) as days "
        "the clinic is closed everywhere. Days already closed are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year", type=int, help="The year (default: this year in the clinic's time)."
        )

    def handle(self, *args, year=None, **options):
        year = year or timezone.localdate(timezone.now(), clock.zone()).year
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise CommandError(f"Give a year from {FIRST_YEAR} to {LAST_YEAR}.")
        added = propose_holidays(year=year)
        for closed in added:
            self.stdout.write(f"{closed.day:%Y-%m-%d} {closed.reason}")
        self.stdout.write(f"{len(added)} closed days added for {year}.")
