"""Issue 14, point 2: the page warns before its session ends and "Stay logged in" keeps it.
Screenshot: test-artifacts/session-warning.png."""

import pytest
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from tests.browser.steps import log_in
from tests.factories import UserFactory


@pytest.fixture
def desk(transactional_db, settings):
    # Two idle minutes, warned 110 s before: the warning comes 10 s after the page loads.
    settings.STAFF_IDLE_MINUTES = 2
    settings.SESSION_WARNING_SECONDS = 110
    return UserFactory(username="desk.kim", first_name="Kim", role=Role.FRONT_DESK)


def test_the_page_warns_before_the_session_ends_and_stay_logged_in_keeps_it(
    page: Page, live_server, desk, screenshot
):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server.url, "desk.kim")
    warning = page.get_by_role("alertdialog")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("you will be logged out in one minute")
    expect(page.get_by_role("button", name="Stay logged in")).to_be_focused()
    screenshot("session-warning")
    with page.expect_response("**/accounts/keep-alive/") as answer:
        page.get_by_role("button", name="Stay logged in").click()
    assert answer.value.json()["idle"] == 120
    expect(warning).to_be_hidden()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
