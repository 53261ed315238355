"""Links that one app puts on another app's page: the patient's record shows "Messages" and
"Treatment plans", a plan's summary "Book the sessions". The page's app sits below the apps
that own those pages and cannot name them; each owner registers, in its AppConfig.ready, a
function that gives its links for a place, and the page asks every one of them."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

# facts: patient, role. The record page is kept whole (patients.record_page): its links may
# depend on nothing else.
PATIENT_RECORD = "patient record"
PLAN_SUMMARY = "plan summary"  # facts: plan, role
SESSION_CHART = "session chart"  # facts: chart, role


@dataclass(frozen=True)
class Link:
    text: str
    url: str
    # "" puts it among the page's buttons; otherwise in a box of that title.
    group: str = ""
    primary: bool = False


_sources: dict[str, list[Callable[..., list[Link]]]] = defaultdict(list)


def register(place: str, source: Callable[..., list[Link]]) -> None:
    """`source(**facts)` returns the links its app offers there (often none)."""
    if source not in _sources[place]:
        _sources[place].append(source)


def for_place(place: str, **facts) -> list[Link]:
    return [link for source in _sources[place] for link in source(**facts)]
