"""Every report, opened as an administrator and as a doctor, on a small clinic's last weeks:
the chart is drawn, the table has its numbers, and nothing breaks the Content-Security-Policy
(the autouse fixture in conftest.py fails the test on any refusal). Screenshots:
test-artifacts/report-<report>-<role>.png, and reports-index.png."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from reports.catalogue import REPORTS
from reports.period import monday_of
from scheduling.clock import zone
from scheduling.models import Location, Room, SchedulingSettings
from tests.browser.steps import log_in, open_page
from tests.browser.test_accessibility_browser import check
from tests.factories import UserFactory
from tests.reports.conftest import build_clinic

TZ = zone("America/Los_Angeles")


@pytest.fixture
def clinic(transactional_db):
    SchedulingSettings.objects.get_or_create(pk=1)
    office, _ = Location.objects.get_or_create(
        name="Goodskin Dermatology, Oregon office", defaults={"time_zone": TZ.key}
    )
    Room.objects.get_or_create(location=office, name="Room 1")
    UserFactory(username="boss", first_name="Ada", last_name="Admin", role=Role.ADMIN)
    return build_clinic(office, monday_of(timezone.localdate()))


@pytest.mark.parametrize("username", ["boss", "dr.lee"])
def test_it_opens_every_report_with_its_chart_and_table(
    page: Page, live_server, clinic, screenshot, username
):
    role = "admin" if username == "boss" else "doctor"
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, username)
    if role == "admin":  # they land on the Django admin, which links the reports
        open_page(page, page.get_by_role("link", name="Reports: how the service is doing"))
    else:
        open_page(
            page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports")
        )
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    if role == "admin":
        screenshot("reports-index")
    problems = []
    for definition in REPORTS.values():
        open_page(page, page.get_by_role("link", name=str(definition.title)).first)
        problems += check(page, f"{definition.slug} as {role}")
        expect(page.get_by_role("heading", name=str(definition.title), level=1)).to_be_visible()
        chart = page.get_by_role("img", name=str(definition.title))
        expect(chart).to_be_visible()
        assert chart.bounding_box()["height"] > 150
        expect(page.locator("table tbody tr").first).to_be_visible()
        expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
        screenshot(f"report-{definition.slug}-{role}")
    assert not problems, "\n".join(problems)  # axe, focus and field edges, as on every page
    # The filters: the East office alone, and a period the page refuses with a message.
    page.get_by_label("Office").select_option(label="East office")
    open_page(page, page.get_by_role("button", name="Show"))
    expect(page.get_by_text(re.compile("· East office"))).to_be_visible()
    page.get_by_label("From").fill("2020-01-01")
    open_page(page, page.get_by_role("button", name="Show"))
    expect(page.get_by_text("Choose a period of at most three years")).to_be_visible()
    if role == "doctor":
        screenshot("report-refused-period")
