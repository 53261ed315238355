"""Panels that other apps put on a patient's record page (the patient's appointments and plan
sessions, with the buttons that book them). Patients sits below those apps and cannot import
them: each registers a function here when it starts (its AppConfig.ready), and the record page
shows what each returns."""

from collections.abc import Callable

_panels: list[Callable] = []


def register(panel: Callable, *, reads: tuple) -> None:
    """`panel(request, patient)` returns the panel's HTML (safe), or "" for none. `reads`: the
    rows it reads, as record_page.Part: the record page is kept until one of them changes."""
    from . import record_page

    record_page.register(*reads)
    if panel not in _panels:
        _panels.append(panel)


def for_patient(request, patient) -> list[str]:
    return [html for panel in _panels if (html := panel(request, patient))]
