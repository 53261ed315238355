"""Backups of the PostgreSQL database with pg_dump's custom format, and their restore into an
empty database (`manage.py backup`, `manage.py restore`; `make backup`, `make restore`)."""

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, connection


class BackupError(Exception):
    """Said to the person running the command, as it is."""


def check_postgres() -> None:
    if connection.vendor != "postgresql":
        raise BackupError(
            "Backups need PostgreSQL: set DATABASE_URL to the clinic's database "
            "(the local SQLite default is for trying the app out)."
        )


def pg_env() -> dict[str, str]:
    """libpq's variables for the configured database: the password never goes on a command
    line, where `ps` would show it."""
    db = settings.DATABASES["default"]
    values = {
        "PGDATABASE": db["NAME"],
        "PGHOST": db.get("HOST") or "",
        "PGPORT": str(db.get("PORT") or ""),
        "PGUSER": db.get("USER") or "",
        "PGPASSWORD": db.get("PASSWORD") or "",
        "PGSSLMODE": db.get("OPTIONS", {}).get("sslmode", ""),
        "PGCONNECT_TIMEOUT": str(db.get("OPTIONS", {}).get("connect_timeout", "")),
    }
    return {**os.environ, **{k: v for k, v in values.items() if v}}


def run(command: list[str]) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(command, env=pg_env(), capture_output=True, text=True)
    except FileNotFoundError as error:
        raise BackupError(
            f"{command[0]} is not installed: install PostgreSQL's client programs, the same "
            "major version as the server or newer (Debian: postgresql-client)."
        ) from error
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed:\n{result.stderr.strip()}")
    return result


def backup(folder: Path) -> Path:
    """A compressed, timestamped custom-format dump of the whole database in `folder`; it
    appears under its final name only once pg_dump finished and pg_restore can read it."""
    check_postgres()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    final = folder / f"{settings.DATABASES['default']['NAME']}-{stamp}.dump"
    partial = final.with_suffix(".dump.partial")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Health records: readable by the owner only, from the first byte written.
        partial.touch(mode=0o600)
    except OSError as error:
        raise BackupError(f"Cannot write to the backup folder {folder}: {error}") from error
    try:
        run(["pg_dump", "--format=custom", "--compress=6", "--file", str(partial)])
        run(["pg_restore", "--list", str(partial)])
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(final)
    return final


def tables_in_database() -> list[str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                "ORDER BY 1"
            )
            return [row[0] for row in cursor.fetchall()]
    except OperationalError as error:
        name = settings.DATABASES["default"]["NAME"]
        raise BackupError(
            f"Cannot reach the database {name} (create it first with createdb):\n{error}"
        ) from error


def restore(file: Path, *, force: bool = False) -> None:
    """Restore `file` into the configured database, all or nothing. The database must be
    empty unless `force`, which drops what the dump holds before restoring it."""
    check_postgres()
    if not file.is_file():
        raise BackupError(f"There is no backup file at {file}.")
    try:
        run(["pg_restore", "--list", str(file)])
    except BackupError as error:
        raise BackupError(f"{file} is not a backup that pg_restore can read.\n{error}") from error
    tables = tables_in_database()
    if tables and not force:
        name = settings.DATABASES["default"]["NAME"]
        raise BackupError(
            f"The database {name} already has {len(tables)} tables; nothing was restored. "
            "Restore into a new, empty database (createdb, then point DATABASE_URL at it), or "
            "pass --force (make restore FORCE=1) to replace what is there with the backup."
        )
    connection.close()  # pg_restore --clean must not wait on this process's connection
    command = ["pg_restore", "--exit-on-error", "--single-transaction"]
    if force:
        command += ["--clean", "--if-exists"]
    run([*command, "--dbname", settings.DATABASES["default"]["NAME"], str(file)])
