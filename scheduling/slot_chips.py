"""The free-time page's buttons, one per free time, written once in Python rather than through a
template include each: the two weeks of an unhurried clinic are some hundreds of them, and the
include was most of the page's time (bench/scheduling.py, "free-time page"). The HTML is the
one the include wrote; every value is escaped by format_html."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext

from goodskin import when

BOOK = (
    '<a class="btn btn-sm btn-outline-primary gs-slot" href="{}">{}'
    '<span class="visually-hidden"> {} {}, {}{}</span></a>'
)
SHOW = '<span class="badge text-bg-light border gs-slot">{}</span>'


def write(
    slots, *, tz, patient=None, kind: str = "", plan=None, many_offices: bool = False
) -> dict:
    """{free time: its button}: a "Book" link for `patient` (the booking form with
    the kind, doctor, day, time and office chosen), or the time alone when no patient is
    chosen. Times in `tz`, words in the active language."""
    book = reverse("scheduling:book", args=[patient.pk]) if patient is not None else ""
    label, names, chips = gettext("Book"), {}, {}
    with timezone.override(tz):
        for slot in slots:
            shown = when.time_of(slot.starts_at)
            if patient is None:
                chips[slot] = format_html(SHOW, shown)
                continue
            local = timezone.localtime(slot.starts_at)
            query = {
                "kind": kind,
                "doctor": slot.doctor.pk,
                "date": f"{local:%Y-%m-%d}",
                "time": f"{local:%H:%M}",
                "location": slot.location.pk,
            }
            if plan is not None:
                query["plan"] = plan.pk
            if slot.doctor.pk not in names:
                names[slot.doctor.pk] = slot.doctor.get_full_name() or slot.doctor.username
            office = f", {slot.location.name}" if many_offices else ""
            chips[slot] = format_html(
                BOOK,
                f"{book}?{urlencode(query)}",
                shown,
                label,
                when.brief_day(slot.starts_at),
                names[slot.doctor.pk],
                office,
            )
    return chips
