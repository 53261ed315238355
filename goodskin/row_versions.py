"""Row versions, for the fingerprints under which pages keep their parts (scheduling.card_cache,
scheduling.day_page, patients.record_page), and prepared statements: for the fingerprints and
for the rows every page reads (the session, the user, the offices). PostgreSQL only."""

import hashlib
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.db import connection


def table(model) -> str:
    """The name of a model's table, for the fingerprint queries."""
    return model._meta.db_table


def columns(model, alias: str = "t") -> str:
    """SQL of a model's own columns on `alias`, for the prepared reads (prepared_objects): named
    one by one, so that a column added by a migration doesn't change what a statement prepared
    before it gives."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def version(alias: str) -> str:
    """SQL for the version of row `alias` as text: `xmin` (the transaction that wrote this
    version) and `ctid` (where it lies, which moves even when one transaction writes the row
    twice)."""
    return f"{alias}.xmin::text || {alias}.ctid::text"


def versions(table: str, where: str, *, beside: tuple[str, str] | None = None) -> str:
    """A subquery: the ids and versions of the rows of `table` (alias t) matching `where`, in
    id order, "" for none, so each part keeps its place in a fingerprint. `beside`: (table,
    column of t) of a row whose version goes with each (a visit's doctor), "-" for none."""
    with_it, join = "", ""
    if beside is not None:
        with_it = f" || ':' || coalesce({version('u')}, '-')"
        join = f" LEFT JOIN {beside[0]} u ON u.id = t.{beside[1]}"
    return (
        f"(SELECT coalesce(string_agg(t.id || ':' || {version('t')}{with_it}, ',' "
        f"ORDER BY t.id), '') FROM {table} t{join} WHERE {where})"
    )


# The statements prepared on each open connection (prepared_row): a prepared statement lives as
# long as its connection, and is gone with it.
_prepared: "weakref.WeakKeyDictionary[object, set[str]]" = weakref.WeakKeyDictionary()
# Those whose PREPARE was sent in a round trip that failed: there or not (_statement).
_in_doubt: "weakref.WeakKeyDictionary[object, set[str]]" = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")


def _type_of(value) -> str | None:
    """The PostgreSQL type a parameter is prepared with; None for one it can't name."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "timestamptz" if value.tzinfo is not None else "timestamp"
    if isinstance(value, date):
        return "date"
    if isinstance(value, timedelta):
        return "interval"
    if isinstance(value, list | tuple):  # of ids or of texts, some of them NULL
        present = [v for v in value if v is not None]
        if not present:  # sent as '{}' or '{NULL}': its type is read from the query's cast
            return "unknown"
        if all(type(v) is int for v in present):
            return "bigint[]"
        if all(isinstance(v, str) for v in present):
            return "text[]"
    return None


@contextmanager
def _statement(sql: str, params) -> Iterator[tuple[str, list]]:
    """`sql` (with %s or %(name)s placeholders) as the EXECUTE of a statement prepared on this
    connection, with its PREPARE in front the first time it is run there, in the same round
    trip, and its parameters: to run in the block. A query with a parameter of a type it can't
    name comes back as it is. When the block fails after sending a PREPARE, the statement may
    or may not be there (a PREPARE is not undone with its transaction): the next time, the
    server is asked."""
    if isinstance(params, dict):
        names = list(dict.fromkeys(m[1] for m in _PLACEHOLDER.finditer(sql) if m[1]))
        values = [params[name] for name in names]
        number = {name: f"${n}" for n, name in enumerate(names, 1)}
        text = _PLACEHOLDER.sub(lambda m: m[0] if m[0] == "%%" else number[m[1]], sql)
    else:
        values, counter = list(params), iter(range(1, len(params) + 1))
        text = _PLACEHOLDER.sub(lambda m: m[0] if m[0] == "%%" else f"${next(counter)}", sql)
    types = [_type_of(value) for value in values]
    if None in types:
        yield sql, params
        return
    name = "gs_" + hashlib.blake2b(f"{types}{text}".encode(), digest_size=12).hexdigest()
    with connection.cursor() as cursor:  # after its health check, which may reconnect
        done = _prepared.setdefault(connection.connection, set())
        doubtful = _in_doubt.setdefault(connection.connection, set())
        if name in doubtful:
            cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name])
            if cursor.fetchone() is not None:
                done.add(name)
            doubtful.discard(name)
    run = f"EXECUTE {name} ({', '.join(['%s'] * len(values))})" if values else f"EXECUTE {name}"
    if name in done:
        yield run, values
        return
    # "%%" stays as it is: both statements go through the parameters' formatting.
    typed = f" ({', '.join(types)})" if types else ""
    try:
        yield f"PREPARE {name}{typed} AS {text}; {run}", values
    except BaseException:
        doubtful.add(name)
        raise
    done.add(name)


def prepared_row(sql: str, params) -> tuple | None:
    """The first row of `sql` (with %s or %(name)s placeholders) run with `params`, through a
    statement prepared on the connection the first time it is run there (PostgreSQL), in the
    same round trip: a fingerprint query spent more time planned than run (the record page's:
    0.85 ms a query, 0.4 prepared). Parameters of a type it can't name are run as a plain
    query."""
    with _statement(sql, params) as (run, values), connection.cursor() as cursor:
        cursor.execute(run, values)
        return cursor.fetchone()


def prepared_execute(sql: str, params) -> None:
    """Run `sql` (a statement that gives no rows) through a prepared statement, as
    prepared_row."""
    with _statement(sql, params) as (run, values), connection.cursor() as cursor:
        cursor.execute(run, values)


def prepared_objects(model, sql: str, params) -> list:
    """The `model` instances `sql` reads (its columns named as the model's, extra columns set
    as attributes, as Manager.raw() reads them), through a prepared statement as prepared_row:
    for the rows every page reads (its session, its user, the offices), the ORM spent more time
    writing the query than PostgreSQL spent running it (issue 19: about 0.3 ms a query)."""
    with _statement(sql, params) as (run, values):
        return list(model._default_manager.raw(run, values))
