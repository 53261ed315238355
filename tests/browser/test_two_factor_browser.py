"""Issue 14, point 1, in a browser: the front desk's first login sets up the app from the QR
code and shows the recovery codes; the next login asks for a code, and a recovery code works."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from tests.browser.steps import log_in, page_width
from tests.factories import UserFactory

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def desk_user(transactional_db, settings):
    settings.TWO_FACTOR_ROLES = ["admin", "doctor", "front_desk"]
    return UserFactory(username="fiona", first_name="Fiona", role=Role.FRONT_DESK)


def current_code(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key):06d}"


def test_the_first_login_sets_up_the_app_and_the_next_asks_for_a_code(
    page: Page, live_server, desk_user, screenshot
):
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "fiona", start="/")
    expect(page.get_by_role("heading", name="Set up two-step login")).to_be_visible()
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr).to_be_visible()
    box = qr.locator("svg").bounding_box()
    assert box is not None and box["width"] >= 150  # big enough for a phone's camera
    # No menu to wander off to before the second step.
    expect(page.get_by_role("link", name="Today")).to_have_count(0)
    assert page_width(page) <= PHONE["width"]
    screenshot("two-factor-setup-phone")
    page.get_by_role("textbox", name="Code").fill(current_code(desk_user))
    page.get_by_role("button", name="Turn on two-step login").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    screenshot("two-factor-codes-phone")
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page).to_have_url(f"{live_server.url}/desk/")

    page.get_by_role("button", name="Log out").first.click()
    log_in(page, live_server.url, "fiona", start="/")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_text("Lost your phone?").click()
    screenshot("two-factor-verify-phone")
    page.get_by_role("textbox", name="Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{live_server.url}/desk/")
    expect(page.get_by_text("You used a recovery code; 9 are left.")).to_be_visible()
