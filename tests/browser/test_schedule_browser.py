"""The front desk books a plan's whole series from the series page, then looks at the day and the
week. Screenshots: test-artifacts/book-series.png, day-view.png, week-view.png (and the same at
375 px wide, *-375.png)."""

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goodskin.actors import Actor
from goodskin.roles import Role
from scheduling import services
from scheduling.clock import instant, zone
from scheduling.models import Appointment, Kind, Location, Room, SchedulingSettings, WorkingHours
from tests.browser.steps import log_in
from tests.factories import PatientFactory, UserFactory, screen
from tests.treatments.conftest import make_plan

TZ = zone("America/Los_Angeles")


def every_day(doctor, office) -> None:
    for weekday in range(7):
        WorkingHours.objects.create(
            doctor=doctor, location=office, weekday=weekday, starts=time(8), ends=time(17)
        )


@pytest.fixture
def plan(transactional_db):
    SchedulingSettings.objects.get_or_create(pk=1)
    # The migration's office, made again when an earlier transactional test flushed it.
    office, _ = Location.objects.get_or_create(
        name="Goodskin Dermatology, Oregon office", defaults={"time_zone": TZ.key}
    )
    for name in ("Room 1", "Room 2"):
        Room.objects.get_or_create(location=office, name=name)
    UserFactory(username="desk.kim", first_name="Kim", last_name="Ortiz", role=Role.FRONT_DESK)
    doctor = UserFactory(username="dr.nguyen", first_name="Linh", last_name="Nguyen",
                         role=Role.DOCTOR)  # fmt: skip
    colleague = UserFactory(username="dr.shah", first_name="Priya", last_name="Shah",
                            role=Role.DOCTOR)  # fmt: skip
    every_day(doctor, office)
    every_day(colleague, office)
    patient = PatientFactory(legal_first_name="María", legal_last_name="García")
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return make_plan(patient, doctor, sessions=4), colleague


def fill_the_colleagues_day(colleague, day) -> None:
    desk = Actor(user=None, role=Role.FRONT_DESK)
    for hour, kind in ((9, Kind.CONSULTATION), (11, Kind.REVIEW), (14, Kind.TOUCH_UP)):
        services.book_appointment(
            patient=PatientFactory(),
            doctor=colleague,
            kind=kind,
            starts_at=instant(day, time(hour), TZ),
            by=desk,
        )


def test_the_front_desk_books_a_series_and_sees_the_day(page: Page, live_server, plan, screenshot):
    plan, colleague = plan
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "desk.kim")
    page.goto(f"{live_server.url}/patients/{plan.patient_id}/plans/{plan.pk}/")
    page.goto(f"{live_server.url}/plans/{plan.pk}/book-series/")
    expect(page.get_by_role("heading", name="Proposed times")).to_be_visible()
    expect(page.get_by_label("Date of session 4")).not_to_have_value("")
    page.get_by_role("button", name="Check again").click()
    expect(page.get_by_text("Free", exact=True)).to_have_count(4)
    screenshot("book-series")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot("book-series-375")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Book all").click()
    expect(page.get_by_text("4 sessions are booked.")).to_be_visible()
    sessions = list(Appointment.objects.filter(plan=plan).order_by("starts_at"))
    assert [a.session_number for a in sessions] == [1, 2, 3, 4]

    first_day = timezone.localtime(sessions[0].starts_at, TZ).date()
    fill_the_colleagues_day(colleague, first_day)
    page.goto(f"{live_server.url}/schedule/day/?date={first_day.isoformat()}")
    expect(page.get_by_role("link", name="María García")).to_be_visible()
    expect(page.get_by_role("heading", name="Priya Shah")).to_be_visible()
    screenshot("day-view")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot("day-view-375")

    page.set_viewport_size({"width": 1280, "height": 900})
    # The day's own link to its week (the navbar's "Week" is this week's, and the series starts
    # tomorrow: next week, on a Sunday).
    page.get_by_role("main").get_by_role("link", name="Week", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/schedule/week/\?date={first_day.isoformat()}$"))
    expect(page.get_by_role("link", name="María García")).to_be_visible()
    screenshot("week-view")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot("week-view-375")


def test_the_front_desk_finds_a_free_time_and_opens_an_appointment(
    page: Page, live_server, plan, screenshot
):
    plan, colleague = plan
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "desk.kim")
    tomorrow = timezone.localdate(timezone.now(), TZ).toordinal() + 1
    day = type(timezone.localdate()).fromordinal(tomorrow)
    page.goto(
        f"{live_server.url}/schedule/slots/?kind=review&first_day={day.isoformat()}"
        f"&last_day={day.isoformat()}&patient={plan.patient_id}"
    )
    page.get_by_role("link", name="Book").first.click()
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_text("The appointment is booked.")).to_be_visible()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    screenshot("appointment")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot("appointment-375")


def test_the_front_desk_finds_free_times_for_a_patient_named_in_the_search(
    page: Page, live_server, plan, screenshot
):
    PatientFactory(legal_first_name="María", legal_last_name="Garcés")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "desk.kim")
    tomorrow = (timezone.localtime(timezone.now(), TZ) + timedelta(days=1)).date()
    page.goto(f"{live_server.url}/schedule/slots/?first_day={tomorrow}&last_day={tomorrow}")
    page.get_by_label("Patient").fill("maría garc")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Which patient?")).to_be_visible()
    screenshot("free-times-which-patient")
    page.get_by_role("link", name="María García").click()
    expect(page.get_by_text("Booking for María García.")).to_be_visible()
    expect(page.get_by_role("link", name="Book").first).to_be_visible()
    screenshot("free-times")


def test_the_front_desk_sees_a_closed_day_on_the_day_and_the_week(
    page: Page, live_server, plan, screenshot
):
    from scheduling.models import ClosedDay

    plan, colleague = plan
    day = (timezone.localtime(timezone.now(), TZ) + timedelta(days=1)).date()
    ClosedDay.objects.create(day=day, reason="Staff training")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "desk.kim")
    page.goto(f"{live_server.url}/schedule/day/?date={day.isoformat()}")
    expect(page.get_by_role("note")).to_have_text("The clinic is closed: Staff training")
    screenshot("day-view-closed")
    page.goto(f"{live_server.url}/schedule/week/?date={day.isoformat()}")
    expect(page.locator(".gs-week .gs-closed")).to_have_text("The clinic is closed: Staff training")
    screenshot("week-view-closed")
