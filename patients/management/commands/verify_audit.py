"""Walk the audit log's hash chain and say where it breaks; exit code 1 if it does.

Run it on a schedule and keep the last line (the newest entry's number and hash) somewhere off
this machine: a chain that was cut short at its end, or emptied, is only found by comparing."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from patients import chain


class Command(BaseCommand):
    help = "Check that no audit entry was changed, removed or inserted."

    def handle(self, *args, **options):
        if not chain.supported():
            raise CommandError(_("The audit chain exists on PostgreSQL only."))
        result = chain.verify()
        for text in result.breaks:
            self.stdout.write(text)
        if result.break_count > len(result.breaks):
            self.stdout.write(
                _("… and %(count)d more breaks.")
                % {"count": result.break_count - len(result.breaks)}
            )
        summary = _("%(checked)d entries checked. Newest: number %(seq)s, hash %(hash)s.") % {
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
