"""Check the audit log's hash chain (built by the triggers of migration 0005): every entry's
hash matches its content, and each one names the hash of the entry just before it. Walks the
entries in order with a server-side cursor, so memory stays the same however long the log."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.translation import gettext as _

GENESIS = "0" * 64
# More breaks than this are counted but not listed: the first ones say where to look.
BREAKS_LISTED = 50
CHUNK = 2000

# The triggers of migration 0005: the chain's and the guard's. Switched off, entries can be
# changed or written around the chain from then on.
TRIGGERS = ("patients_audit_append", "patients_audit_no_change", "patients_audit_no_truncate")
TRIGGER_STATE = """
    SELECT tgname, tgenabled FROM pg_trigger
    WHERE tgrelid = 'patients_auditentry'::regclass AND NOT tgisinternal
"""

WALK = """
    SELECT e.id, e.seq, e.prev_hash, e.hash, patients_audit_hash(e)
    FROM patients_auditentry e ORDER BY e.seq NULLS LAST, e.id
"""


@dataclass
class Result:
    checked: int = 0
    breaks: list[str] = field(default_factory=list)
    break_count: int = 0
    last_seq: int | None = None
    last_hash: str = ""

    @property
    def whole(self) -> bool:
        return self.break_count == 0

    def found(self, text: str) -> None:
        self.break_count += 1
        if len(self.breaks) < BREAKS_LISTED:
            self.breaks.append(text)


def supported() -> bool:
    return connection.vendor == "postgresql"


def _rows() -> Iterator[tuple]:
    # A named cursor streams the rows; it lives only inside a transaction.
    with transaction.atomic(), connection.connection.cursor(name="audit_chain_walk") as cursor:
        cursor.itersize = CHUNK
        cursor.execute(WALK)
        yield from cursor


def _check_triggers(result: Result) -> None:
    with connection.cursor() as cursor:
        cursor.execute(TRIGGER_STATE)
        state = dict(cursor.fetchall())
    for name in TRIGGERS:
        if state.get(name) != "O":  # "O": fires in ordinary sessions
            result.found(
                _("The database trigger %(name)s is missing or switched off.") % {"name": name}
            )


def verify(*, anchor: tuple[int, str] | None = None) -> Result:
    """Walk the whole chain; each break is described in words a person can act on. `anchor`
    is (number, hash) of an entry noted earlier, off the server: the chain must still hold it
    (an emptied or shortened log is whole as far as the chain alone can tell)."""
    result = Result()
    _check_triggers(result)
    previous_seq, previous_hash = 0, GENESIS
    anchor_seen = anchor is None
    for entry_id, seq, prev_hash, stored, expected in _rows():
        result.checked += 1
        if anchor is not None and seq == anchor[0]:
            anchor_seen = stored == anchor[1]
        where = {"id": entry_id, "seq": seq}
        if seq is None:
            result.found(
                _("Entry id %(id)s is outside the chain: it was inserted by hand.") % where
            )
            continue
        if seq != previous_seq + 1:
            result.found(
                _("Entries %(first)s to %(last)s are missing (removed) before entry id %(id)s.")
                % {"first": previous_seq + 1, "last": seq - 1, "id": entry_id}
            )
        elif prev_hash != previous_hash:
            result.found(
                _(
                    "Entry id %(id)s (number %(seq)s) does not follow the entry before it: "
                    "one of them was replaced or inserted."
                )
                % where
            )
        if stored != expected:
            result.found(
                _(
                    "Entry id %(id)s (number %(seq)s) does not match its hash: it was changed "
                    "after it was written, or written by hand."
                )
                % where
            )
        previous_seq, previous_hash = seq, stored
        result.last_seq, result.last_hash = seq, stored
    if not anchor_seen:
        result.found(
            _(
                "Entry number %(seq)s with the hash noted earlier is not in the log: the log "
                "was emptied, cut short or rewritten."
            )
            % {"seq": anchor[0]}
        )
    return result
