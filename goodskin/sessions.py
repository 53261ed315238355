"""The sessions, kept in the database as Django keeps them, read through a statement prepared
once per connection on PostgreSQL (row_versions.prepared_objects): every page of someone signed
in reads its session first."""

from django.contrib.sessions.backends import db
from django.db import connection
from django.utils import timezone

from .row_versions import columns, prepared_objects, table


class SessionStore(db.SessionStore):
    def _validate_session_key(self, key) -> bool:
        """Django makes keys of 32 lower-case letters and digits: a cookie holding anything
        else (a NUL, which PostgreSQL can't compare) is no session, without a query."""
        return bool(super()._validate_session_key(key)) and key.isascii() and key.isalnum()

    def _get_session_from_db(self):
        if connection.vendor != "postgresql":
            return super()._get_session_from_db()
        found = prepared_objects(
            self.model,
            f"SELECT {columns(self.model)} FROM {table(self.model)} t"
            " WHERE t.session_key = %s AND t.expire_date > %s",
            [self.session_key, timezone.now()],
        )
        if not found:
            self._session_key = None
            return None
        return found[0]
