"""Where a portal invitation sends the patient. The portal app sits at the top and patients
cannot name its pages: the portal registers its welcome page here when it starts."""

from collections.abc import Callable

_welcome: list[Callable[[str], str]] = []


def register_welcome(path_for: Callable[[str], str]) -> None:
    """`path_for(token)` is the path of the page that opens the account."""
    _welcome[:] = [path_for]


def welcome_path(token: str) -> str:
    if not _welcome:
        raise LookupError("no portal is installed to welcome the patient")
    return _welcome[0](token)
