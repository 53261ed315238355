"""Warnings that other apps put on a patient's record page ("2 messages never reached this
patient"). Patients sits below them and cannot import them: each registers a function here
when it starts (its AppConfig.ready), and the record page asks every one of them."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Notice:
    text: str
    url: str = ""
    link_text: str = ""


_sources: list[Callable] = []


def register(source: Callable, *, reads: tuple) -> None:
    """`source(patient)` returns a list of Notice (usually empty). `reads`: the rows it reads,
    as record_page.Part: the record page is kept until one of them changes."""
    from . import record_page

    record_page.register(*reads)
    if source not in _sources:
        _sources.append(source)


def for_patient(patient) -> list[Notice]:
    return [notice for source in _sources for notice in source(patient)]
