"""Panels that other apps put on a plan's page (the time each session is booked). Treatments
sits below scheduling and cannot import it: scheduling registers a function here when it
starts (its AppConfig.ready), and the plan page shows what each returns."""

from collections.abc import Callable

_panels: list[Callable] = []


def register(panel: Callable) -> None:
    """`panel(request, plan)` returns the panel's HTML (safe), or "" for none."""
    if panel not in _panels:
        _panels.append(panel)


def for_plan(request, plan) -> list[str]:
    return [html for panel in _panels if (html := panel(request, plan))]
