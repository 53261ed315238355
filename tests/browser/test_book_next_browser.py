"""Issue 15, point 3, on a phone: a patient halfway through a plan books the next session from
their schedule. Screenshots: portal-book-next.png, portal-booked-next.png."""

import pytest
from playwright.sync_api import Page, expect

from scheduling.models import Appointment, Status
from tests.browser.steps import log_in, page_width
from tests.browser.test_portal_browser import PHONE, rosa  # noqa: F401 - the fixture


@pytest.mark.usefixtures("rosa")
def test_a_patient_books_the_next_session_from_the_schedule(page: Page, live_server, screenshot):
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "rosa@example.org")
    page.get_by_role("link", name="Book my next session").click()
    expect(page.get_by_role("heading", name="Book session 3 of 4")).to_be_visible()
    first_time = page.locator("label.btn").first
    chosen = first_time.inner_text()
    first_time.click()
    assert page_width(page) <= PHONE["width"]
    screenshot("portal-book-next")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Your session is booked.")).to_be_visible()
    expect(page.get_by_text(chosen).first).to_be_visible()
    screenshot("portal-booked-next")
    booked = Appointment.objects.get(session_number=3)
    assert booked.status == Status.BOOKED
