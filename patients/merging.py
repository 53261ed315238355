"""Merging two records moves every row that pointed at the duplicate to the kept record. Those
rows live in several apps, most of them above this one: each app registers, when it starts (its
AppConfig.ready), the function that moves its own rows and the models it covers, so a test can
check that no model pointing at a patient is left out."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Mover:
    move: Callable
    models: tuple


_movers: list[Mover] = []


def register(move: Callable, *, models: tuple) -> None:
    """`move(keep=, duplicate=)` points the app's rows of `duplicate` at `keep` and returns
    {model label: rows moved}; `models` are the models it covers."""
    mover = Mover(move=move, models=tuple(models))
    if mover not in _movers:
        _movers.append(mover)


def covered_models() -> set:
    return {model for mover in _movers for model in mover.models}


def move_all(*, keep, duplicate) -> dict[str, int]:
    """Run every app's mover inside the merge's transaction; {model label: rows moved}."""
    moved: dict[str, int] = {}
    for mover in _movers:
        counts = mover.move(keep=keep, duplicate=duplicate)
        moved.update({label: count for label, count in counts.items() if count})
    return moved
