"""Issue 16 point 3, issue 18 point 4: every staff page writes its days and times one way,
goodskin.when's, in the reader's language: no ISO date, no 24-hour clock in English, in
Spanish, no date written the English way.

Not a sample of pages: each role starts from every address of the app that takes no number
and from a patient with something in every part of the record, and follows every link it is
shown (two addresses of each shape, so that a list of a hundred rows is not read a hundred
times). The visible text of each page is what is checked: addresses and form values keep
their machine form.
"""

import html
import re
from collections import Counter, deque
from datetime import timedelta

import pytest
from django.urls import reverse

from goodskin import when
from goodskin.roles import Role
from scheduling import services
from scheduling.models import Kind
from tests.english import visible
from tests.goodskin.test_access import PUBLIC, app_urls
from tests.patients.rich_record import make_rich_record
from tests.scheduling.conftest import MONDAY, at, desk_actor, other_doctor

__all__ = ["other_doctor"]

# The search box's help shows what may be typed in it ("e.g. 1975-03-14"): that one is an
# example of input, not a date the page writes.
ISO_DAY = re.compile(r"(?<!e\.g\. )(?<!ej\., )\b\d{4}-\d{2}-\d{2}\b")
# A clock time with no AM/PM after it, as English pages don't write one.
CLOCK_24H = re.compile(r"\b\d{1,2}:\d{2}\b(?!\s*(?:AM|PM|a\.m\.|p\.m\.))", re.IGNORECASE)
# A date not written the Spanish way: a weekday in English, or a month before its day
# ("Nov 30", "noviembre 30": Spanish writes "30 de noviembre", "lun 30 nov, 9:00"). Names
# alone are not looked for: a note or a message typed in English may hold them.
# Whole month names and their abbreviations only: a name such as "Martin 1" is no date.
ENGLISH_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
SPANISH_MONTHS = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
    "|ene|feb|abr|may|jun|jul|ago|sept|sep|oct|nov|dic"  # "mar" is also martes: not here
)
NOT_SPANISH_DATE = re.compile(
    r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),"
    rf"|\b(?:{ENGLISH_MONTHS})\.?\s+\d{{1,2}}\b(?!:)"
    rf"|\b(?:{SPANISH_MONTHS})\.?\s+\d{{1,2}}\b(?!:)"
)
HREF = re.compile(r'href="(/[^"#]*)')
# Files for other programs, not pages; and the addresses that end the session.
# django-axes's own records in the admin are named by their model's __str__, a UTC timestamp
# the app does not write.
NOT_PAGES = re.compile(r"\.(?:json|pdf|ics|csv)$|/export/|/logout/|^/static/|^/admin/axes/")
PER_SHAPE = 2
SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}


@pytest.fixture
def clinic(now, hours, patient, front_desk, doctor, other_doctor):
    """A working Monday: the rich record's patient (plans, charts, amendments, adverse events,
    moved and cancelled visits, messages) has a review today as well."""
    rich = make_rich_record(
        user=patient, front_desk=front_desk, doctor=doctor, other_doctor=other_doctor
    )
    services.book_appointment(
        patient=rich.patient,
        doctor=doctor,
        kind=Kind.REVIEW,
        starts_at=at(MONDAY, 9),
        by=desk_actor(front_desk),
    )
    return rich


def starts(rich) -> list[str]:
    patient, plan = rich.patient, rich.chart.plan
    # The addresses that take no number: the same whatever number is put in.
    fixed = [
        path
        for (name, path), (_, other) in zip(app_urls("1"), app_urls("2"), strict=True)
        if path == other and name not in PUBLIC
    ]
    return [
        *fixed,
        "/admin/",
        reverse("patients:detail", args=[patient.pk]),
        reverse("treatments:plan", args=[patient.pk, plan.pk]),
        reverse("treatments:chart", args=[patient.pk, rich.chart.pk]),
        reverse("scheduling:appointment", args=[rich.moved.pk]),
        reverse("scheduling:appointment", args=[rich.cancelled.pk]),
        reverse("scheduling:week") + "?date=" + (MONDAY + timedelta(days=4)).isoformat(),
    ]


SETUP_KEY = re.compile(r'<p [^>]*id="two-factor-secret"[^>]*>[^<]*</p>')


def walk(client, first: list[str], **headers) -> dict[str, str]:
    """{address: visible text} of every page reached from `first` by following links."""
    queue, seen, shapes, pages = deque(first), set(), Counter(), {}
    while queue:
        url = html.unescape(queue.popleft())
        shape = re.sub(r"\d+", "#", url)
        if url in seen or NOT_PAGES.search(url.split("?")[0]) or shapes[shape] >= PER_SHAPE:
            continue
        seen.add(url)
        shapes[shape] += 1
        response = client.get(url, **headers)
        assert response.status_code != 500, url
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        page = response.content.decode()
        # The two-step setup's key is random letters and digits: once it held "F7PM", a time.
        pages[url] = visible(SETUP_KEY.sub("", page))
        queue.extend(HREF.findall(page))
    return pages


def found(pages: dict[str, str], pattern: re.Pattern) -> list[tuple[str, str]]:
    """(address, the words around it) of each match, for a failure that says where."""
    return [
        (url, text[max(0, m.start() - 40) : m.end() + 40])
        for url, text in pages.items()
        for m in pattern.finditer(text)
    ]


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.DOCTOR, Role.ADMIN])
def test_it_writes_no_iso_date_or_24_hour_time_on_any_staff_page(
    client, clinic, users_by_role, role
):
    client.force_login(users_by_role[role])
    pages = walk(client, starts(clinic))
    assert len(pages) > (20 if role != Role.ADMIN else 3)
    assert found(pages, ISO_DAY) == []
    assert found(pages, CLOCK_24H) == []


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.DOCTOR])
def test_it_writes_every_staff_page_s_dates_in_spanish_for_a_spanish_reader(
    client, clinic, users_by_role, role
):
    client.force_login(users_by_role[role])
    pages = walk(client, starts(clinic), **SPANISH)
    assert len(pages) > 20
    assert found(pages, ISO_DAY) == []
    assert found(pages, NOT_SPANISH_DATE) == []
    assert found(pages, re.compile(r"\d\s*(?:AM|PM)\b")) == []


def page_text(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return visible(response.content.decode())


def key_pages(rich) -> dict[str, str]:
    patient, plan = rich.patient, rich.chart.plan
    return {
        "day": reverse("scheduling:day") + f"?date={MONDAY.isoformat()}",
        "record": reverse("patients:detail", args=[patient.pk]),
        "plan": reverse("treatments:plan", args=[patient.pk, plan.pk]),
    }


def test_it_writes_the_key_pages_dates_with_when_in_english(client, clinic, front_desk, doctor):
    urls = key_pages(clinic)
    client.force_login(front_desk)
    day = page_text(client, urls["day"])
    assert "Monday, November 30, 2026" in day and "9:00 AM–9:15 AM" in day
    record = page_text(client, urls["record"])
    assert when.birthday(clinic.patient.date_of_birth) in record
    assert "Friday, December 4, 2026 · 11:00 AM" in record  # the moved review
    client.force_login(doctor)
    plan = page_text(client, urls["plan"])
    assert "Session 1 · November 16, 2026" in plan


def test_it_writes_the_key_pages_dates_in_spanish(client, clinic, front_desk, doctor):
    urls = key_pages(clinic)
    client.force_login(front_desk)
    day = page_text(client, urls["day"], **SPANISH)
    assert "lunes, 30 de noviembre de 2026" in day and "9:00–9:15" in day
    record = page_text(client, urls["record"], **SPANISH)
    assert "viernes, 4 de diciembre de 2026 · 11:00" in record
    client.force_login(doctor)
    plan = page_text(client, urls["plan"], **SPANISH)
    assert "16 de noviembre de 2026" in plan
