"""The calendar feed says each visit's real status (a missed one is not "confirmed"), alarms
the day before a booked one, and the calendar page subscribes with one tap (webcal://), the
https address to copy below it."""

from datetime import timedelta

import icalendar
import pytest
from django.urls import reverse

from scheduling.models import Appointment, Kind, Status
from tests.factories import PatientFactory
from tests.scheduling.conftest import MONDAY, at


@pytest.fixture
def me(patient):
    return PatientFactory(portal_user=patient, legal_first_name="Rosa", consent_email=True)


def visit(me, doctor, office, days: int, status: str) -> Appointment:
    starts = at(MONDAY + timedelta(days=days), 10)
    return Appointment.objects.create(
        patient=me,
        doctor=doctor,
        location=office,
        room=office.rooms.first(),
        kind=Kind.REVIEW,
        status=status,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=15),
    )


def feed_events(client, patient) -> dict:
    client.force_login(patient)
    client.post(reverse("portal:calendar"))
    url = client.get(reverse("portal:calendar")).context["url"].split("testserver")[1]
    calendar = icalendar.Calendar.from_ical(client.get(url).content)
    return {int(str(e["UID"]).split("-")[1].split("@")[0]): e for e in calendar.walk("VEVENT")}


def test_the_feed_says_each_visits_real_status_and_marks_a_missed_one(
    client, now, hours, doctor, patient, me
):
    statuses = [
        Status.BOOKED,
        Status.CANCELLED,
        Status.NO_SHOW,
        Status.COMPLETED,
        Status.CHECKED_IN,
    ]
    made = {status: visit(me, doctor, hours, -10 + n, status) for n, status in enumerate(statuses)}
    events = feed_events(client, patient)
    said = {status: events[a.pk].get("STATUS") for status, a in made.items()}
    assert said == {
        Status.BOOKED: "CONFIRMED",
        Status.CANCELLED: "CANCELLED",
        Status.NO_SHOW: None,  # neither confirmed nor cancelled; TENTATIVE would be wrong too
        Status.COMPLETED: "CONFIRMED",
        Status.CHECKED_IN: "CONFIRMED",
    }
    assert str(events[made[Status.NO_SHOW].pk]["SUMMARY"]).startswith("Missed: ")
    assert not str(events[made[Status.COMPLETED].pk]["SUMMARY"]).startswith("Missed")


def test_a_booked_visit_has_an_alarm_the_day_before(client, now, hours, doctor, patient, me):
    booked = visit(me, doctor, hours, 3, Status.BOOKED)
    cancelled = visit(me, doctor, hours, 4, Status.CANCELLED)
    events = feed_events(client, patient)
    [alarm] = events[booked.pk].walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["TRIGGER"].dt == -timedelta(days=1)
    assert "Follow-up review" in str(alarm["DESCRIPTION"])
    assert events[cancelled.pk].walk("VALARM") == []


def test_the_calendar_page_subscribes_with_webcal_and_shows_the_address_to_copy(
    client, patient, me
):
    client.force_login(patient)
    client.post(reverse("portal:calendar"))
    page = client.get(reverse("portal:calendar"))
    token = me.calendar_feeds.get(revoked_at__isnull=True).token
    path = reverse("portal:feed", args=[token])
    body = page.content.decode()
    assert f'href="webcal://testserver{path}"' in body
    assert "Subscribe in my calendar" in body
    assert f'value="http://testserver{path}"' in body


def test_the_first_link_does_not_speak_of_an_old_one(client, patient, me):
    client.force_login(patient)
    first = client.post(reverse("portal:calendar"), follow=True).content.decode()
    assert "Your calendar link is ready." in first
    assert "old one" not in first.split("<main")[1].split("Anyone with this link")[0]
    again = client.post(reverse("portal:calendar"), follow=True).content.decode()
    assert "You have a new calendar link. The old one no longer works." in again
