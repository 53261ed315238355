"""An administrator opens a second office with a room and a doctor's hours; the front desk
then finds its free times with the office filter. Screenshots: test-artifacts/offices.png,
office.png, free-times-two-offices.png (and office-375.png)."""

from datetime import time

import pytest
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from scheduling.clock import zone
from scheduling.models import Location, Room, SchedulingSettings, WorkingHours
from tests.browser.steps import log_in, open_page
from tests.factories import UserFactory

TZ = zone("America/Los_Angeles")


@pytest.fixture
def clinic(transactional_db):
    SchedulingSettings.objects.get_or_create(pk=1)
    office, _ = Location.objects.get_or_create(
        name="Goodskin Dermatology, Oregon office", defaults={"time_zone": TZ.key}
    )
    Room.objects.get_or_create(location=office, name="Room 1")
    UserFactory(username="boss", first_name="Ada", last_name="Admin", role=Role.ADMIN)
    UserFactory(username="desk.kim", first_name="Kim", last_name="Ortiz", role=Role.FRONT_DESK)
    doctor = UserFactory(username="dr.nguyen", first_name="Linh", last_name="Nguyen",
                         role=Role.DOCTOR)  # fmt: skip
    for weekday in (0, 2, 4):
        WorkingHours.objects.create(
            doctor=doctor, location=office, weekday=weekday, starts=time(8), ends=time(17)
        )
    return office


def test_an_administrator_opens_a_second_office_and_the_desk_books_there(
    page: Page, live_server, clinic, screenshot
):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "boss")  # lands on the Django admin, which links the offices
    open_page(page, page.get_by_role("link", name="Offices, their rooms"))
    open_page(page, page.get_by_role("link", name="Add an office"))
    page.get_by_label("Name").fill("East office")
    page.get_by_label("Address").fill("1 East St, Salem, OR 97301")
    page.get_by_label("Phone").fill("503-555-0100")
    page.get_by_label("Touch-up session").uncheck()
    open_page(page, page.get_by_role("button", name="Add the office"))
    expect(page.get_by_text("The office is added.")).to_be_visible()

    page.locator("#room-add").get_by_label("Room").fill("East 1")
    open_page(page, page.get_by_role("button", name="Add the room"))
    expect(page.get_by_text("The room is added.")).to_be_visible()

    hours = page.locator("#hours-add")
    hours.get_by_label("Doctor").select_option(label="Linh Nguyen")
    hours.get_by_label("Day").select_option(label="Monday")
    hours.get_by_label("From (office time)").fill("08:00")
    hours.get_by_label("Until (office time)").fill("12:00")
    open_page(page, hours.get_by_role("button", name="Add"))
    # Monday at the Oregon office is taken by her own hours there: refused, with a message.
    expect(page.get_by_text("a doctor's hours can't overlap")).to_be_visible()
    hours = page.locator("#hours-add")
    hours.get_by_label("Day").select_option(label="Tuesday")
    open_page(page, hours.get_by_role("button", name="Add"))
    expect(page.get_by_text("The hours are added.")).to_be_visible()
    expect(page.get_by_role("cell", name="Tuesday")).to_be_visible()
    screenshot("office")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot("office-375")
    page.set_viewport_size({"width": 1280, "height": 900})
    open_page(page, page.get_by_role("link", name="Offices").first)
    expect(page.get_by_role("link", name="East office")).to_be_visible()
    screenshot("offices")
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server.url, "desk.kim")
    open_page(page, page.get_by_role("link", name="Free times"))
    open_page(page, page.get_by_role("button", name="Search"))
    page.get_by_label("Office").select_option(label="East office")
    open_page(page, page.get_by_role("button", name="Search"))
    rows = page.locator(".gs-slot-row")
    expect(rows.first).to_be_visible()
    expect(page.locator(".gs-slot-office").first).to_have_text("East office")
    assert set(page.locator(".gs-slot-office").all_inner_texts()) == {"East office"}
    expect(page.locator("h2", has_text="Tuesday").first).to_be_visible()
    screenshot("free-times-two-offices")

    open_page(page, page.get_by_role("link", name="Today"))
    page.locator(".gs-office-filter").get_by_label("Office").select_option(label="East office")
    open_page(page, page.locator(".gs-office-filter").get_by_role("button", name="Show"))
    expect(page.locator("#office-filter")).to_have_value(
        str(Location.objects.get(name="East office").pk)
    )
    screenshot("day-view-one-office")
