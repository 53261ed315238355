"""A patient on a phone: logs in, sees the schedule and the plan picture, downloads the
calendar feed, moves an appointment (confirming the new time), cancels one (confirming) and
undoes it. Screenshots: portal-schedule.png, portal-move.png, portal-move-confirm.png,
portal-moved.png, portal-calendar.png, portal-cancel-confirm.png, portal-cancelled.png,
portal-restored.png in test-artifacts/."""

import re
from datetime import time, timedelta

import icalendar
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goodskin.actors import Actor
from goodskin.roles import Role
from scheduling import services
from scheduling.clock import instant, zone
from scheduling.models import Appointment, Location, Room, SchedulingSettings, Status, WorkingHours
from tests.browser.steps import DEADLINE_MS, log_in, page_width
from tests.factories import PatientFactory, UserFactory, screen
from tests.treatments.conftest import chart_session, make_plan

TZ = zone("America/Los_Angeles")
PHONE = {"width": 375, "height": 800}


@pytest.fixture
def rosa(transactional_db):
    SchedulingSettings.objects.get_or_create(pk=1)
    office, _ = Location.objects.get_or_create(
        name="Goodskin Dermatology, Oregon office",
        defaults={
            "time_zone": TZ.key,
            "address": "1200 SW Main St, Portland",
            "phone": "(503) 555-0100",
        },
    )
    for name in ("Room 1", "Room 2"):
        Room.objects.get_or_create(location=office, name=name)
    desk = UserFactory(username="desk", role=Role.FRONT_DESK)
    doctor = UserFactory(
        username="dr.nguyen", first_name="Linh", last_name="Nguyen", role=Role.DOCTOR
    )
    for weekday in range(7):
        WorkingHours.objects.create(
            doctor=doctor, location=office, weekday=weekday, starts=time(8), ends=time(17)
        )
    user = UserFactory(
        username="rosa@example.org", email="rosa@example.org", first_name="Rosa", role=Role.PATIENT
    )
    record = PatientFactory(
        portal_user=user,
        legal_first_name="Rosa",
        legal_last_name="Quintana",
        email="rosa@example.org",
    )
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(
        record, doctor, sessions=4, areas=["R-thigh-anterior", "R-calf-posterior", "L-calf-medial"]
    )
    chart_session(plan, doctor, treated_on=timezone.localdate() - timedelta(days=30), areas=None)
    day = timezone.localdate() + timedelta(days=7)
    services.book_appointment(
        patient=record,
        doctor=doctor,
        kind="session",
        plan=plan,
        session_number=2,
        starts_at=instant(day, time(10), TZ),
        by=Actor(user=desk, role=Role.FRONT_DESK),
    )
    return record


def test_a_patient_sees_the_schedule_downloads_the_feed_and_moves_a_visit(
    page: Page, live_server, rosa, screenshot
):
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "rosa@example.org")
    expect(page).to_have_url(f"{live_server.url}/portal/")
    expect(page.get_by_role("heading", name="Coming up")).to_be_visible()
    expect(page.locator("#progress-picture svg").first).to_be_visible()
    expect(page.get_by_text("Session 1 of 4 done.")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    screenshot("portal-schedule")

    page.get_by_role("link", name="Add to my phone's calendar").click()
    page.get_by_role("button", name="Make my calendar link").click()
    feed_url = page.get_by_role("textbox", name="Your calendar link")
    expect(feed_url).to_have_value(re.compile(r"^http"))
    screenshot("portal-calendar")
    feed = page.request.get(feed_url.input_value(), timeout=DEADLINE_MS)
    assert feed.ok, feed.status
    events = icalendar.Calendar.from_ical(feed.body()).walk("VEVENT")
    assert [str(e["STATUS"]) for e in events] == ["CONFIRMED"]

    page.goto(f"{live_server.url}/portal/")
    page.locator("main").get_by_role("link", name="Details", exact=True).first.click()
    expect(page.get_by_role("link", name="Move to another time")).to_be_visible()
    screenshot("portal-appointment")
    page.get_by_role("link", name="Move to another time").click()
    expect(page.get_by_role("heading", name="Choose a new time")).to_be_visible()
    screenshot("portal-move")
    page.locator("label.btn").nth(3).click()
    page.get_by_role("button", name="Move my appointment").click()
    expect(page.get_by_role("heading", name="Move your appointment to this time?")).to_be_visible()
    screenshot("portal-move-confirm")
    page.get_by_role("button", name="Yes, move it").click()
    expect(page.get_by_text("Your appointment is moved.")).to_be_visible()
    screenshot("portal-moved")
    moved = Appointment.objects.get(patient=rosa, status=Status.BOOKED)
    assert moved.version == 2


def test_a_patient_on_a_phone_cancels_after_confirming_and_undoes_it(
    page: Page, live_server, rosa, screenshot
):
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "rosa@example.org")
    page.locator("main").get_by_role("link", name="Details", exact=True).first.click()
    page.get_by_role("link", name="Cancel this appointment").click()
    expect(page.get_by_role("heading", name="Cancel this appointment?")).to_be_visible()
    expect(page.get_by_text("For 5 minutes you can undo it")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    screenshot("portal-cancel-confirm")
    assert Appointment.objects.get(patient=rosa).status == Status.BOOKED  # asked, not done
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_text("Your appointment is cancelled.")).to_be_visible()
    undo = page.get_by_role("button", name="Undo the cancellation")
    expect(undo).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    screenshot("portal-cancelled")
    assert Appointment.objects.get(patient=rosa).status == Status.CANCELLED
    undo.click()
    expect(page.get_by_text("Your appointment is booked again, as it was.")).to_be_visible()
    expect(page.get_by_role("button", name="Undo the cancellation")).to_have_count(0)
    expect(page.get_by_role("link", name="Cancel this appointment")).to_be_visible()
    screenshot("portal-restored")
    restored = Appointment.objects.get(patient=rosa)
    assert (restored.status, restored.version) == (Status.BOOKED, 3)
