"""Walk the audit log's hash chain and say where it breaks; exit code 1 if it does.

Run it on a schedule and keep the newest entry's NUMBER:HASH it prints somewhere off this
machine; give it back with --expect on the next run: a chain that was cut short at its end, or
emptied, is only found by comparing."""

import argparse
import re

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from patients import chain


def anchor(text: str) -> tuple[int, str]:
    match = re.fullmatch(r"(\d{1,18}):([0-9a-f]{64})", text.strip().lower())
    if not match:
        raise argparse.ArgumentTypeError(_("Give NUMBER:HASH, as an earlier run printed them."))
    return int(match[1]), match[2]


class Command(BaseCommand):
    help = "Check that no audit entry was changed, removed or inserted."

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect",
            type=anchor,
            metavar="NUMBER:HASH",
            help="An entry noted from an earlier run, which must still be in the log.",
        )

    def handle(self, *args, **options):
        if not chain.supported():
            raise CommandError(_("The audit chain exists on PostgreSQL only."))
        result = chain.verify(anchor=options["expect"])
        for text in result.breaks:
            self.stdout.write(text)
        if result.break_count > len(result.breaks):
            self.stdout.write(
                _("… and %(count)d more breaks.")
                % {"count": result.break_count - len(result.breaks)}
            )
        summary = _("%(checked)d entries checked. Newest: %(seq)s:%(hash)s") % {
            "checked": result.checked,
            "seq": result.last_seq if result.last_seq is not None else "-",
            "hash": result.last_hash or "-",
        }
        self.stdout.write(summary)
        if not result.whole:
            raise CommandError(
                _("The audit chain is broken in %(count)d places.") % {"count": result.break_count},
                returncode=1,
            )
        self.stdout.write(_("The audit chain is whole."))
