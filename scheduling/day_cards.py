"""The day view's appointment cards, written once in Python rather than by the template's loop:
a day of eight doctors is a hundred cards, and the loop was a third of the page's time once the
eligibility gate read less (bench/scheduling.py, "day view"). The HTML is the one the template
wrote; every value goes through escape()."""

from dataclasses import astuple, dataclass
from html import escape  # Django's escape less its lazy-text wrapper: these are plain str
from urllib.parse import quote

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from .selectors import Card, Column


@dataclass(frozen=True)
class Fields:
    """What a card's status form carries of the page it is on, as HTML: the form token's
    field, the field of the address to come back to, and that address as a link's query."""

    form_head: str
    here_field: str
    back: str


def fields(here: str, csrf_token: str) -> Fields:
    """The Fields of the page at address `here` (where a status change returns) with the form
    token `csrf_token`."""
    return Fields(
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">',
        f'<input type="hidden" name="next" value="{escape(here)}">',
        escape(f"?next={quote(here, safe='/')}"),  # as the urlencode filter writes it
    )


# Where each of a page's Fields goes, in cards written to be kept (day_page): NUL characters,
# which no stored text, address or escaped value holds (PostgreSQL refuses NUL in text, the
# middleware refuses it in an address).
MARKS = Fields("\x00form\x00", "\x00here\x00", "\x00back\x00")


def put(html: str, page: Fields) -> str:
    """`html` written with MARKS, with this page's Fields in their place."""
    for mark, value in zip(astuple(MARKS), astuple(page), strict=True):
        html = html.replace(mark, value)
    return html


def write(
    columns: list[Column], *, by_room: bool, page: Fields
) -> list[tuple[Column, list[SafeString]]]:
    """Each column with its cards' HTML, in order. `page`: the Fields of the page they are on
    (fields()), or MARKS where each page puts its own (day_page)."""
    words = {
        "late": escape(gettext("Late cancellation")),
        "online": escape(gettext("Online")),
        "blocked": escape(gettext("Blocked")),
        "ask_doctor": escape(gettext("Only a doctor can let treatment go ahead.")),
        "rescreen": escape(gettext("Re-screen and check in")),
    }
    return [
        (
            column,
            [
                mark_safe(_card(card, by_room, words, page.form_head, page.here_field, page.back))
                for card in column.appointments
            ],
        )
        for column in columns
    ]


def _card(card: Card, by_room: bool, words: dict, form_head: str, here_field: str, back: str):
    status = escape(card.status)
    badges = ""
    if card.late_cancel:
        badges += f' <span class="badge text-bg-warning">{words["late"]}</span>'
    if card.online:
        badges += f' <span class="badge text-bg-info">{words["online"]}</span>'
    beside = card.doctor_name if by_room else card.room_name
    parts = [
        f'<article class="card gs-appt gs-appt-{status} mb-2"><div class="card-body p-2">'
        '<div class="d-flex justify-content-between align-items-start gap-2">'
        f'<a class="fw-semibold text-decoration-none" href="{escape(card.url)}">'
        f"{escape(card.times)}</a>"
        f'<span class="badge gs-status gs-status-{status}">{escape(card.status_label)}</span>'
        f"{badges}</div>"
        f'<div><a href="{escape(card.patient_url)}">{escape(card.patient_name)}</a></div>'
        f'<div class="small text-body-secondary">{escape(card.what)} · {escape(beside)}</div>'
    ]
    if card.notes:
        parts.append(f'<div class="small fst-italic">{escape(card.notes)}</div>')
    if card.blocked:
        parts.append(
            '<div class="small text-danger-emphasis bg-danger-subtle rounded px-1 mt-1" '
            f"data-blocked><strong>{words['blocked']}</strong>: {escape(card.blocked)}. "
            f"{words['ask_doctor']}</div>"
        )
    rescreen = ""
    if card.rescreen_url:
        rescreen = (
            f'<a class="btn btn-sm btn-outline-primary" href="{escape(card.rescreen_url)}'
            f'{back}">{words["rescreen"]}</a>'
        )
    if card.buttons:
        buttons = "".join(
            f'<button type="submit" name="status" value="{escape(value)}" '
            f'class="btn btn-sm {escape(style)}">{escape(label)}</button>'
            for value, label, style in card.buttons
        )
        parts.append(
            f'<form method="post" action="{escape(card.status_url)}" '
            'class="d-flex flex-wrap gap-1 mt-2">'
            f'{form_head}<input type="hidden" name="version" value="{card.version:d}">'
            f"{here_field}{rescreen}{buttons}</form>"
        )
    elif rescreen:
        parts.append(f'<div class="mt-2">{rescreen}</div>')
    parts.append("</div></article>")
    return "".join(parts)


WEEK_ITEM = (
    '<a class="gs-week-item gs-appt-{status}" href="{url}"><span class="fw-semibold">{starts}'
    '</span> {name}<span class="d-block small text-body-secondary">{what} · {label}{online}'
    "</span></a>"
)
NOTHING = '<span class="text-body-secondary small">—</span>'


def write_week(rows) -> list[tuple[object, list[SafeString]]]:
    """Each of the week's rows (selectors.WeekRow) with its cells' HTML, a doctor a cell: the
    week view's five hundred appointments, written as the template wrote them."""
    online = f" · {escape(gettext('Online'))}"
    return [
        (
            row,
            [
                mark_safe(  # every value escaped here
                    "".join(
                        WEEK_ITEM.format(
                            status=escape(card.status),
                            url=escape(card.url),
                            starts=escape(card.starts),
                            name=escape(card.patient_name),
                            what=escape(card.what),
                            label=escape(card.status_label),
                            online=online if card.online else "",
                        )
                        for card in cell
                    )
                    or NOTHING
                )
                for cell in row.cells
            ],
        )
        for row in rows
    ]
