"""Issue 16, point 3: a day and a time are written one way everywhere, in each language, by
goodskin.when: the portal's pages, the messages and the calendar feed show the same instant
in the same words."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from goodskin import when
from messaging import sending
from messaging.models import Message
from scheduling import feed_services, services
from tests.factories import PatientFactory
from tests.scheduling.conftest import MONDAY, at, desk_actor

UTC = ZoneInfo("UTC")
# 17:30 UTC on December 7, 2026 is 9:30 AM in Oregon.
INSTANT = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Monday, December 7, 2026 at 9:30 AM"),
        ("en-us", "Monday, December 7, 2026 at 9:30 AM"),
        ("es", "lunes, 7 de diciembre de 2026, 9:30"),
    ],
)
def test_it_writes_a_day_and_time_in_the_clinics_zone_and_the_active_language(language, expected):
    with translation.override(language):
        assert when.day_and_time(INSTANT) == expected


@pytest.mark.parametrize(
    ("function", "english", "spanish"),
    [
        (when.day, "Monday, December 7, 2026", "lunes, 7 de diciembre de 2026"),
        (when.short_day, "Monday, December 7", "lunes, 7 de diciembre"),
        (when.time_of, "9:30 AM", "9:30"),
        (when.short_day_and_time, "Monday, December 7 at 9:30 AM", "lunes, 7 de diciembre, 9:30"),
        (when.brief, "Mon Dec 7 at 9:30 AM", "lun 7 dic, 9:30"),
        (when.month, "December 2026", "diciembre de 2026"),
        (when.month_day, "December 7", "7 de diciembre"),
        (when.birthday, "December 7, 2026", "7 de diciembre de 2026"),
    ],
)
def test_each_function_has_an_english_and_a_spanish_form(function, english, spanish):
    with translation.override("en"):
        assert function(INSTANT) == english
    with translation.override("es"):
        assert function(INSTANT) == spanish


def test_a_plain_date_is_written_as_it_is():
    with translation.override("es"):
        assert when.day(date(2026, 12, 7)) == "lunes, 7 de diciembre de 2026"


def test_an_afternoon_time_is_written_on_a_24_hour_clock_in_spanish():
    with translation.override("es"):
        assert when.time_of(INSTANT + timedelta(hours=6, minutes=5)) == "15:35"


def test_it_follows_the_current_zone_a_message_about_another_office_sets():
    with timezone.override(ZoneInfo("America/New_York")), translation.override("en"):
        assert when.time_of(INSTANT) == "12:30 PM"


def test_the_day_the_clocks_go_back_shows_the_local_hour():
    # November 1, 2026: 1:30 AM happens twice in Oregon; 9:30 UTC is the second, in PST.
    with translation.override("en"):
        assert when.day_and_time(datetime(2026, 11, 1, 9, 30, tzinfo=UTC)) == (
            "Sunday, November 1, 2026 at 1:30 AM"
        )


def test_the_filters_write_what_the_functions_write():
    template = Template("{% load when %}{{ t|day_and_time }}|{{ t|brief }}|{{ t|time_of }}")
    with translation.override("es"):
        assert template.render(Context({"t": INSTANT})) == (
            f"{when.day_and_time(INSTANT)}|{when.brief(INSTANT)}|{when.time_of(INSTANT)}"
        )


def test_a_page_a_message_and_the_calendar_feed_write_the_same_instant_alike(
    client, now, hours, doctor, front_desk, patient
):
    rosa = PatientFactory(portal_user=patient, language="es", consent_email=True)
    visit = services.book_appointment(
        patient=rosa,
        doctor=doctor,
        kind="review",
        starts_at=at(MONDAY + timedelta(days=3), 10),
        by=desk_actor(front_desk),
    )
    with translation.override("es"):
        written = when.day_and_time(visit.starts_at)
    assert written == "jueves, 3 de diciembre de 2026, 10:00"

    client.force_login(patient)
    page = client.get(reverse("portal:appointment", args=[visit.pk])).content.decode()
    notice = sending.render(Message.objects.get(kind="change:booked", patient=rosa))
    feed = feed_services.new_calendar_feed(patient=rosa)
    ics = client.get(reverse("portal:feed", args=[feed.token])).content
    (event,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")

    assert written in page
    assert written in notice.text and written in notice.html
    assert str(event["DESCRIPTION"]).startswith(written)


@pytest.mark.parametrize("language", ["en", "es"])
def test_what_is_written_once_is_written_again_the_same_for_every_instant(language):
    """when keeps what it wrote of a clock time or a day (a page writes 30 distinct times
    300 times): each instant still reads as Django's own formatting of it would, in the
    clinic's zone across the DST change and in the language asked for."""
    from django.utils.dateformat import format as date_format

    formats = when.FORMATS[language]
    instant = datetime(2026, 10, 31, 7, 0, 59, tzinfo=UTC)
    with translation.override(language):
        for _step in range(200):
            instant += timedelta(minutes=37, seconds=13)
            local = timezone.localtime(instant)
            assert when.time_of(instant) == date_format(local, formats["time"])
            assert when.day(instant) == date_format(local, formats["day"])
            assert when.brief_day(local.date()) == date_format(local, formats["brief_day"])
