"""The next appointment of each patient in a list, which the search results show. Appointments
live in scheduling, above this app: scheduling registers the function that reads them when it
starts (its AppConfig.ready). With none registered, no next appointment is shown."""

from collections.abc import Callable
from datetime import datetime

_sources: list[Callable] = []


def register(source: Callable) -> None:
    """`source(patient_ids)` returns {patient id: start of their next appointment} in one query,
    leaving out patients who have none."""
    if source not in _sources:
        _sources.append(source)


def next_appointments(patient_ids: list[int]) -> dict[int, datetime]:
    """{patient id: the earliest next appointment any source knows}; no query for no ids."""
    found: dict[int, datetime] = {}
    if not patient_ids:
        return found
    for source in _sources:
        for patient_id, starts_at in source(patient_ids).items():
            if patient_id not in found or starts_at < found[patient_id]:
                found[patient_id] = starts_at
    return found
