"""Issue 17, point 5: the screening form fits a laptop screen (each question on one line with
its answer and note), "No to every question still unknown" fills in the rest, and a yes stands
out. Screenshot: test-artifacts/screening-laptop.png."""

import pytest
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from patients.models import ScreeningAnswer
from tests.browser.steps import log_in, page_width
from tests.factories import PatientFactory, UserFactory

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def patient(transactional_db):
    UserFactory(username="desk.kim", first_name="Kim", last_name="Ortiz", role=Role.FRONT_DESK)
    return PatientFactory(legal_first_name="María", legal_last_name="García")


def test_the_screening_fits_a_laptop_and_no_to_the_rest_fills_it_in(
    page: Page, live_server, screenshot, patient
):
    page.set_viewport_size(LAPTOP)
    log_in(page, live_server.url, "desk.kim")
    page.goto(f"{live_server.url}/patients/{patient.pk}/screening/")
    page.locator("label[for='id_infection_0']").click()  # yes
    page.get_by_role("button", name="No to every question still unknown").click()
    expect(page.get_by_text("now says “no”")).to_be_visible()
    rows = page.locator(".gs-screening-row")
    assert rows.count() >= 20
    heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert max(heights) < 60, heights  # one line each: nothing wraps
    assert page_width(page) <= LAPTOP["width"]
    expect(page.locator("[data-attention]")).to_have_count(1)
    screenshot("screening-laptop")
    page.get_by_role("button", name="Save screening").click()
    expect(page.get_by_text("Screening saved")).to_be_visible()
    answers = dict(ScreeningAnswer.objects.values_list("question", "answer"))
    assert answers.pop("infection") == "yes" and set(answers.values()) == {"no"}
