"""Issue 17, point 1: the front desk books a plan's whole series starting from the search box in
the navigation bar, in at most 5 clicks (pressing Enter counts as one), with a typo in the name.
Screenshots: test-artifacts/series-from-record-record.png, series-from-record-booked.png."""

from playwright.sync_api import Page, expect

from scheduling.models import Appointment, Kind
from tests.browser.steps import log_in, open_page
from tests.browser.test_schedule_browser import plan  # noqa: F401 - the fixture

CLICKS_ALLOWED = 5


def test_the_desk_books_the_series_from_the_record_in_five_clicks(
    page: Page,
    live_server,
    screenshot,
    plan,  # noqa: F811
):
    the_plan, _colleague = plan
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "desk.kim")
    clicks = 0

    def click(locator) -> None:
        nonlocal clicks
        clicks += 1
        open_page(page, locator)

    # A typo in the search box of the navigation bar ("Garrcia" for "García").
    page.locator("#navbar-search").fill("Maria Garrcia")
    clicks += 1
    with page.expect_navigation():
        page.locator("#navbar-search").press("Enter")
    click(page.get_by_role("link", name="María García").first)
    expect(page.get_by_role("heading", name="Appointments")).to_be_visible()
    screenshot("series-from-record-record")
    click(page.get_by_role("link", name="Book the series"))
    expect(page.get_by_role("heading", name="Proposed times")).to_be_visible()
    click(page.get_by_role("button", name="Book all"))
    expect(page.get_by_text("4 sessions are booked.")).to_be_visible()
    screenshot("series-from-record-booked")

    assert clicks <= CLICKS_ALLOWED, clicks
    booked = Appointment.objects.filter(plan=the_plan, kind=Kind.SESSION, status="booked")
    assert sorted(booked.values_list("session_number", flat=True)) == [1, 2, 3, 4]
