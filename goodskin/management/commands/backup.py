"""`manage.py backup`: a compressed, timestamped pg_dump of the database in DATABASE_URL."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from goodskin import backups


class Command(BaseCommand):
    help = "Write a compressed pg_dump (custom format) of the database to BACKUP_DIR."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            type=Path,
            help="folder for the file (default: the BACKUP_DIR setting, var/backups/)",
        )

    def handle(self, *args, **options):
        folder = options["dir"] or settings.BACKUP_DIR
        try:
            path = backups.backup(Path(folder))
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Backup written: {path} ({path.stat().st_size} bytes)")
