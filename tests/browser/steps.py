"""Steps several browser tests take. Each one waits for the page it leads to, with one generous
deadline: on a busy machine (load 10 on two cores) pages come several times slower than idle."""

from playwright.sync_api import Locator, Page, expect

from tests.factories import PASSWORD

# For every wait (Playwright's actions, navigations and `expect`, whose own default is 5 s): the
# slowest page, a patient's move page, took 8 s at load 8 and 46 s at load 17 on two cores.
DEADLINE_MS = 90_000


def log_in(page: Page, base_url: str, username: str, *, start: str = "/accounts/login/") -> None:
    page.goto(f"{base_url}{start}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # The click can return before the login's response has come back, and a goto straight after
    # cancels it (the session cookie never arrives). Only a signed-in page has "Log out".
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def open_page(page: Page, link_or_button: Locator) -> None:
    """Click something that loads a new page, and wait until that page has loaded (its
    scripts too, htmx included): typing into it earlier could reach the old page, or a field
    that htmx is not yet listening to."""
    with page.expect_event("framenavigated", predicate=lambda frame: frame == page.main_frame):
        link_or_button.click()
    page.wait_for_load_state("load")


def page_width(page: Page) -> int:
    """The page's width once its stylesheets have loaded (before that it can be wider)."""
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth")
