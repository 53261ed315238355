"""Issue 18, point 3: the clinic's key journeys work with the keyboard alone (Tab, Shift+Tab,
Enter, Space and the arrow keys, never the mouse), and wherever the focus is, it shows.

The front desk logs in, skips to the main content, finds a patient from the navigation bar,
opens the record and books a free time; a doctor answers the screening form and charts a
session on the leg map. Each step Tabs to its control (so it is reachable in the page's order)
and checks the focus outline. Screenshots: test-artifacts/keyboard-*.png."""

import pytest
from playwright.sync_api import Locator, Page, expect

from goodskin.roles import Role
from patients.models import ScreeningAnswer
from scheduling.models import Appointment
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_accessibility_browser import logged_in, world  # noqa: F401 - the fixture
from tests.factories import PASSWORD
from treatments.models import SessionChart

# How far a control may be in the Tab order of a long page (the chart's leg map comes after
# the navigation bar and the plan's summary).
MOST_TABS = 200

# The focused element's own outline or ring, or (a radio drawn as a button) its label's, or (an
# area of the leg map) its stroke: visible means one of them is drawn.
FOCUS_SHOWN = """() => {
  let el = document.activeElement;
  if (el.matches('.btn-check')) { el = el.nextElementSibling; }
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const ring = style.boxShadow && style.boxShadow !== 'none';
  const stroke = el instanceof SVGElement && parseFloat(style.strokeWidth) >= 3;
  return outline || ring || stroke;
}"""


def is_focused(target: Locator) -> bool:
    return target.evaluate("el => el === document.activeElement")


def tab_to(page: Page, target: Locator, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until `target` has the focus, and check that it shows."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if is_focused(target):
            assert page.evaluate(FOCUS_SHOWN), f"no visible focus on {target}"
            return
    raise AssertionError(f"Tab never reaches {target}")


def enter(page: Page, key: str = "Enter") -> None:
    """Press a key that loads a new page, and wait for it."""
    with page.expect_navigation():
        page.keyboard.press(key)
    page.wait_for_load_state("load")


@pytest.fixture
def desk_page(browser, live_server, world):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def test_the_desk_logs_in_finds_a_patient_and_books_a_time_with_the_keyboard_alone(
    desk_page,
    live_server,
    world,  # noqa: F811
):
    page = desk_page
    page.goto(f"{live_server.url}/accounts/login/")
    # The login page starts in the username field (autofocus).
    assert is_focused(page.get_by_label("Username"))
    page.keyboard.type("frontdesk")
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    enter(page)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # The first Tab of a page is the skip link, shown while it has the focus; Enter on it,
    # and the next Tab is inside the page, past the navigation bar.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert is_focused(skip)
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")

    # The patient search in the navigation bar, then the record.
    tab_to(page, page.locator("#navbar-search"), backwards=True)
    page.keyboard.type("garcia")
    enter(page)
    record = page.locator("main").get_by_role("link", name="María García").first
    tab_to(page, record)
    page.screenshot(path=ARTIFACTS / "keyboard-search.png")
    enter(page)
    expect(page.get_by_role("heading", name="María García")).to_be_visible()

    # A free time for her: "Book consultation", the first free time's "Book it", then "Book".
    tab_to(page, page.get_by_role("link", name="Book consultation"))
    enter(page)
    tab_to(page, page.get_by_role("link", name="Book it"))
    page.screenshot(path=ARTIFACTS / "keyboard-free-times.png")
    enter(page)
    booked_before = Appointment.objects.filter(patient_id=world.ids["patient"]).count()
    tab_to(page, page.locator("main").get_by_role("button", name="Book", exact=True))
    enter(page)
    expect(page.locator(".alert-success").first).to_be_visible()
    assert Appointment.objects.filter(patient_id=world.ids["patient"]).count() == booked_before + 1


def test_a_doctor_answers_the_screening_and_charts_on_the_leg_map_with_the_keyboard_alone(
    browser,
    live_server,
    world,  # noqa: F811
):
    context = logged_in(browser, live_server, world.users[Role.DOCTOR])
    page = context.new_page()
    patient, plan = world.ids["patient"], world.ids["plan"]

    # Screening: Tab into a question's answers, the arrow keys choose, Enter on Save. (An
    # earlier treatment of the leg: a "yes" that stops nothing, so the chart can follow.)
    page.goto(f"{live_server.url}/patients/{patient}/screening/")
    tab_to(page, page.locator("input[name='previous_treatment_left']:checked"))
    page.keyboard.press("ArrowLeft")  # from "No" to "Yes"
    expect(page.locator("#id_previous_treatment_left_0")).to_be_checked()
    # Drawn as chosen (once the button's colour has faded in): white on the darker red.
    expect(page.locator("label[for='id_previous_treatment_left_0']")).to_have_css(
        "background-color", "rgb(176, 42, 55)"
    )
    page.screenshot(path=ARTIFACTS / "keyboard-screening.png")
    tab_to(page, page.get_by_role("button", name="Save screening"))
    enter(page)
    expect(page.get_by_text("Screening saved")).to_be_visible()
    assert ScreeningAnswer.objects.filter(
        patient_id=patient, question="previous_treatment_left", answer="yes"
    ).exists()

    # The chart: an area of the leg map taken with Space, its volume typed, saved with Enter.
    charts = SessionChart.objects.filter(plan_id=plan).count()
    page.goto(f"{live_server.url}/patients/{patient}/plans/{plan}/chart/")
    thigh = page.locator('[data-region="R-thigh-lateral"]')
    tab_to(page, thigh)
    page.keyboard.press("Space")
    expect(thigh).to_have_attribute("aria-pressed", "true")
    page.screenshot(path=ARTIFACTS / "keyboard-leg-map.png")
    tab_to(page, page.locator('[name="area-R-thigh-lateral-volume_ml"]'))
    page.keyboard.type("1.5")
    tab_to(page, page.locator('[name="area-R-thigh-lateral-injections"]'))
    page.keyboard.type("6")
    tab_to(page, page.get_by_role("button", name="Save the chart"))
    enter(page)
    page.screenshot(path=ARTIFACTS / "keyboard-charted.png", full_page=True)
    expect(page.get_by_text("is charted")).to_be_visible()
    assert SessionChart.objects.filter(plan_id=plan).count() == charts + 1
    context.close()
