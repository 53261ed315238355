"""Page parts kept in the cache under a fingerprint of the rows they are written from, so that
a page opened again with nothing changed is not written again (bench/load.py, issue 19): the
day and week views (scheduling.day_page, week_page), the free-time results, the patient's
record (patients.record_page), the portal's home.

A fingerprint is read from PostgreSQL each time, in one query (goodskin.row_versions): the row
version of every row the part is written from. Any change to one of them makes a new version
and so a new fingerprint: nothing is ever invalidated by hand, and a write path that forgets to
tell the cache cannot exist. The fingerprint is read before the part is written, so a part kept
under it is never older than it. Elsewhere than PostgreSQL, and while the cache does not answer,
parts are written every time. What moves with the clock rather than the rows goes in the key or
the freshness check."""

import logging
import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.utils import translation
from redis.exceptions import RedisError

from .row_versions import prepared_row

log = logging.getLogger(__name__)

# Raise when what a kept part holds or how it is written changes, so that parts kept by the code
# before are not shown by the code after.
VERSION = 2
# A kept part goes this long after it was written (a newer one is under a newer key).
KEEP_SECONDS = 15 * 60
# After the cache fails to answer, pages go without it for this long (a hung Redis would
# otherwise hold every page for its socket timeout).
PAUSE_SECONDS = 30
_paused_until = 0.0
CACHE_DOWN = (RedisError, OSError)


def fingerprint_row(sql: str, params) -> tuple | None:
    """The row a page part's fingerprint query gives (its md5 first, then whatever the part's
    key needs beside it), or None where kept parts are not used: elsewhere than PostgreSQL, and
    while the cache is paused."""
    if connection.vendor != "postgresql" or paused():
        return None
    return prepared_row(sql, params)


def paused() -> bool:
    """The cache failed to answer a moment ago: pages go without it for now."""
    return time.monotonic() < _paused_until


def remember(kind: str, found: str, parts: tuple, write: Callable, fresh=None):
    """What `write()` returns, kept under `kind`, the fingerprint `found` and `parts`; a kept
    value that `fresh(value)` says is out of date (the clock moved past it) is written again.
    The database's name and the language are in the key too: two databases of one cluster (a
    copy) may hold the same row versions, and the texts are in the page's language."""
    database = connection.settings_dict["NAME"]
    language = translation.get_language() or ""
    key = ":".join([kind, str(VERSION), database, language, *map(str, parts), found])
    try:
        kept = cache.get(key)
    except CACHE_DOWN:  # the cache is down or hung: the page goes on without it
        _pause()
        return write()
    if kept is not None and (fresh is None or fresh(kept)):
        return kept
    made = write()
    try:
        cache.set(key, made, KEEP_SECONDS)
    except CACHE_DOWN:
        _pause()
    return made


def _pause() -> None:
    global _paused_until
    log.warning(
        "kept parts: the cache is not answering, pages go without it for a while", exc_info=True
    )
    _paused_until = time.monotonic() + PAUSE_SECONDS
