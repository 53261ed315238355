"""Database helpers every app shares."""

from django.db import connection
from django.db.transaction import TransactionManagementError


def locked(queryset, **options):
    """`select_for_update(**options)` that refuses to run outside a transaction on every
    database. PostgreSQL raises TransactionManagementError there; SQLite (`make run`) would
    silently lock nothing, which is how a missing transaction once hid until production."""
    if connection.get_autocommit():
        raise TransactionManagementError("Rows are locked only inside a transaction.")
    return queryset.select_for_update(**options)
