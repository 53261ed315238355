"""The free-time page's buttons, one per free time, written once in Python rather than through a
template include each: the two weeks of an unhurried clinic are some hundreds of them, and the
include was most of the page's time (bench/scheduling.py, "free-time page"). The HTML is the
one the include wrote; every value is escaped by format_html."""

from html import escape  # Django's escape less its lazy-text wrapper: these are plain str
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from goodskin import when

BOOK = (
    '<a class="btn btn-sm btn-outline-primary gs-slot" href="{href}">{shown}'
    '<span class="visually-hidden"> {label} {day}, {name}{office}</span></a>'
)
SHOW = '<span class="badge text-bg-light border gs-slot">{}</span>'


def write(
    slots, *, tz, patient=None, kind: str = "", plan=None, many_offices: bool = False
) -> list:
    """Each free time's button, in the order of `slots`: a "Book" link for `patient` (the
    booking form with the kind, doctor, day, time and office chosen), or the time alone when
    no patient is chosen. Times in `tz`, words in the active language. (A list, not a dict
    by free time: hashing a free time hashes its doctor, room and office rows.) What repeats
    (a doctor's name, an office's, a day's words, the link's fixed part) is written once."""
    if patient is None:  # the time alone, each distinct clock time written once
        shown: dict[tuple[int, int], SafeString] = {}
        chips = []
        with timezone.override(tz):
            for slot in slots:
                local = timezone.localtime(slot.starts_at)
                clock = (local.hour, local.minute)
                if clock not in shown:
                    shown[clock] = format_html(SHOW, when.time_of(local))
                chips.append(shown[clock])
        return chips
    # The booking form's address with the kind, doctor, day, time, office (and plan) chosen,
    # as urlencode writes it: only the kind and the time's colon need quoting.
    book = reverse("scheduling:book", args=[patient.pk])
    plan_query = f"&plan={plan.pk}" if plan is not None else ""
    head = f"{book}?{urlencode({'kind': kind})}&doctor="
    label, chips = escape(gettext("Book")), []
    names: dict[int, str] = {}
    offices: dict[int, str] = {}
    days: dict = {}
    times: dict[tuple[int, int], str] = {}
    with timezone.override(tz):
        for slot in slots:
            local = timezone.localtime(slot.starts_at)
            doctor, office = slot.doctor, slot.location
            if doctor.pk not in names:
                names[doctor.pk] = escape(doctor.get_full_name() or doctor.username)
            if office.pk not in offices:
                offices[office.pk] = escape(f", {office.name}") if many_offices else ""
            day = local.date()
            if day not in days:
                days[day] = escape(when.brief_day(day))
            href = (
                f"{head}{doctor.pk}&date={day:%Y-%m-%d}&time={local:%H}%3A{local:%M}"
                f"&location={office.pk}{plan_query}"
            )
            clock = (local.hour, local.minute)
            if clock not in times:
                times[clock] = escape(when.time_of(local))
            chips.append(
                mark_safe(  # every part escaped above or here
                    BOOK.format(
                        href=escape(href),
                        shown=times[clock],
                        label=label,
                        day=days[day],
                        name=names[doctor.pk],
                        office=offices[office.pk],
                    )
                )
            )
    return chips


ROW = (
    '<div class="d-flex flex-wrap align-items-center gap-1 py-1 gs-slot-row">'
    '<span class="small text-body-secondary me-1 gs-slot-doctor">{}{}</span>{}{}</div>'
)
OFFICE = ' <span class="badge text-bg-light border gs-slot-office">{}</span>'
MORE = (
    '<details class="d-inline-block gs-more"><summary class="btn btn-sm btn-link px-1">{}'
    '</summary><div class="d-flex flex-wrap gap-1 mt-1">{}</div></details>'
)
DAY = (
    '<section class="card mb-2"><div class="card-body py-2"><h2 class="h6 mb-1">{} '
    '<span class="badge text-bg-light">{}</span></h2>{}</div></section>'
)


def write_days(by_doctor, *, many_offices: bool) -> SafeString:
    """The page's free times: a card a day, a row a doctor (and office) with the first
    times and the rest behind "more", as the template wrote them, from views._by_doctor's
    (day, count, DoctorDay rows)."""
    names: dict[int, str] = {}
    days = []
    for day, count, rows in by_doctor:
        written = []
        for row in rows:
            doctor = row.doctor
            if doctor.pk not in names:
                names[doctor.pk] = doctor.get_full_name() or doctor.username
            more = ""
            if row.more:
                n = len(row.more)
                more = format_html(
                    MORE,
                    ngettext("%(n)s more", "%(n)s more", n) % {"n": n},
                    mark_safe("".join(row.more_chips)),  # each written by format_html
                )
            written.append(
                format_html(
                    ROW,
                    names[doctor.pk],
                    format_html(OFFICE, row.location.name) if many_offices else "",
                    mark_safe("".join(row.shown_chips)),  # each written by format_html
                    more,
                )
            )
        days.append(format_html(DAY, when.day(day), count, mark_safe("".join(written))))
    return mark_safe("".join(days))
