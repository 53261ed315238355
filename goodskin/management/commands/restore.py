"""`manage.py restore FILE`: a backup from `manage.py backup` into the (empty) database in
DATABASE_URL, all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from goodskin import backups


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the .dump file to restore")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace what the database already holds with the backup",
        )

    def handle(self, *args, **options):
        try:
            backups.restore(options["file"], force=options["force"])
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Restored {options['file']}. Next: `manage.py migrate` if this code is newer than "
            "the backup, then check the audit log's chain (`manage.py verify_audit`)."
        )
