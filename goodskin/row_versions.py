"""Row versions, for the fingerprints under which pages keep their parts (scheduling.card_cache,
treatments.selectors.gate_fingerprint, scheduling.record_panel): PostgreSQL only."""


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
