import pytest
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from tests.browser.steps import log_in, open_page, page_width
from tests.factories import UserFactory

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def desk_user(transactional_db):
    return UserFactory(username="fiona", first_name="Fiona", role=Role.FRONT_DESK)


def test_it_logs_the_front_desk_in_to_its_home(page: Page, live_server, desk_user, screenshot):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server.url, "fiona", start="/")
    expect(page).to_have_url(f"{live_server.url}/desk/")
    expect(page.get_by_role("heading", name="Good to see you, Fiona")).to_be_visible()
    expect(page.get_by_role("link", name="Front desk")).to_be_visible()
    # Bootstrap and the clinic's stylesheet really loaded: the navbar has the brand colour
    # (waited for: the page shows before its stylesheets have arrived).
    expect(page.locator("nav.gs-navbar")).to_have_css("background-color", "rgb(31, 111, 120)")
    screenshot("frontdesk-home-desktop")


def test_it_fits_a_phone_screen_without_sideways_scrolling(
    page: Page, live_server, desk_user, screenshot
):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    screenshot("login-phone")
    assert page_width(page) <= PHONE["width"]
    log_in(page, live_server.url, "fiona", start="/")
    expect(page).to_have_url(f"{live_server.url}/desk/")
    assert page_width(page) <= PHONE["width"]
    screenshot("frontdesk-home-phone")


def test_it_shows_a_clear_message_for_a_wrong_password(
    page: Page, live_server, desk_user, screenshot
):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("fiona")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    screenshot("login-wrong-password")


def test_it_pauses_logins_after_five_wrong_passwords_and_says_what_to_do(
    page: Page, live_server, desk_user, screenshot
):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    for _ in range(5):
        page.get_by_label("Username").fill("fiona")
        page.get_by_label("Password").fill("not-the-password")
        # The next attempt must be typed into the page this one brings back, not this one.
        open_page(page, page.get_by_role("button", name="Log in"))
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    expect(page.get_by_role("link", name="Set a new password")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    screenshot("login-locked-out")
