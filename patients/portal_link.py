"""Where a portal invitation sends the patient, and where a patient changes which messages
they get. The portal app sits at the top and the apps below cannot name its pages: the portal
registers them here when it starts."""

from collections.abc import Callable

_welcome: list[Callable[[str], str]] = []


def register_welcome(path_for: Callable[[str], str]) -> None:
    """`path_for(token)` is the path of the page that opens the account."""
    _welcome[:] = [path_for]


def welcome_path(token: str) -> str:
    if not _welcome:
        raise LookupError("no portal is installed to welcome the patient")
    return _welcome[0](token)


_preferences: list[Callable[[], str]] = []


def register_preferences(path: Callable[[], str]) -> None:
    """`path()` is the page where a signed-in patient chooses which messages they get."""
    _preferences[:] = [path]


def preferences_path() -> str:
    """That page's path, or "" when no portal is installed."""
    return _preferences[0]() if _preferences else ""


_screening: list[Callable[[], str]] = []


def register_screening(path: Callable[[], str]) -> None:
    """`path()` is the page where a signed-in patient answers the screening questions."""
    _screening[:] = [path]


def screening_path() -> str:
    """That page's path, or "" when no portal is installed."""
    return _screening[0]() if _screening else ""
