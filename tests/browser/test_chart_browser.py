"""A doctor charts a session by clicking areas on the leg diagram (and one with the keyboard),
then sees the plan's progress picture. Screenshots: test-artifacts/chart-session.png and
test-artifacts/plan-progress.png."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from tests.browser.steps import log_in, open_page
from tests.factories import PatientFactory, UserFactory, screen
from tests.treatments.conftest import area, chart_session, make_plan
from treatments.models import SessionChart


@pytest.fixture
def plan(transactional_db):
    doctor = UserFactory(username="dr.nguyen", first_name="Linh", last_name="Nguyen",
                         role=Role.DOCTOR)  # fmt: skip
    patient = PatientFactory(legal_first_name="María", legal_last_name="García")
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(
        patient,
        doctor,
        areas=["R-thigh-anterior", "R-thigh-lateral", "L-calf-medial", "L-knee-popliteal",
               "R-calf-posterior"],
    )  # fmt: skip
    chart_session(
        plan,
        doctor,
        treated_on=timezone.localdate() - timedelta(weeks=5),
        areas=[area("R-thigh-anterior"), area("L-calf-medial"), area("R-calf-posterior")],
    )
    return plan


def test_a_doctor_charts_a_session_on_the_leg_diagram(page: Page, live_server, plan, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "dr.nguyen")
    page.goto(f"{live_server.url}/patients/{plan.patient_id}/plans/{plan.pk}/chart/")
    expect(page.get_by_role("heading", name="Session 2 of 4")).to_be_visible()

    thigh = page.locator('[data-region="R-thigh-anterior"]')
    thigh.click()
    expect(thigh).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("checkbox", name="Right anterior thigh", exact=True)).to_be_checked()
    knee = page.locator('[data-region="L-knee-popliteal"]')
    knee.click()
    expect(knee).to_have_attribute("aria-pressed", "true")
    # The keyboard works too: focus an area and press Space, then Enter on another.
    page.locator('[data-region="R-thigh-lateral"]').focus()
    page.keyboard.press("Space")
    expect(page.locator('[data-region="R-thigh-lateral"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    page.locator('[data-region="R-calf-posterior"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator('[data-region="R-calf-posterior"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    # A second click takes an area off again.
    knee.click()
    expect(knee).to_have_attribute("aria-pressed", "false")
    expect(page.locator('[data-area-row="L-knee-popliteal"]')).to_be_hidden()

    for key, volume in (("R-thigh-anterior", "4"), ("R-thigh-lateral", "3.5"),
                        ("R-calf-posterior", "3")):  # fmt: skip
        page.locator(f'[name="area-{key}-volume_ml"]').fill(volume)
        page.locator(f'[name="area-{key}-injections"]').fill("10")
    # 10.5 mL of polidocanol: the running total warns before anything is saved.
    expect(page.locator("#volume-total")).to_contain_text("10.50")
    expect(page.locator("#volume-total [data-over]")).to_be_visible()
    page.get_by_label("Immediate reactions").fill("Mild redness along the thigh.")
    screenshot("chart-session")

    page.get_by_role("button", name="Save the chart").click()
    # Above the maximum: nothing saved until the doctor confirms the volumes.
    expect(page.locator("#volume-warnings")).to_contain_text("10.50 mL in this session")
    page.get_by_label("I confirm these volumes").check()
    page.get_by_role("button", name="Save the chart").click()
    expect(page.get_by_text("Session 2 is charted.")).to_be_visible()
    chart = SessionChart.objects.get(number=2)
    assert sorted(chart.areas.values_list("region", flat=True)) == [
        "R-calf-posterior",
        "R-thigh-anterior",
        "R-thigh-lateral",
    ]

    page.goto(f"{live_server.url}/patients/{plan.patient_id}/plans/{plan.pk}/")
    expect(page.locator('[data-area="R-thigh-anterior"]')).to_contain_text("1, 2")
    screenshot("plan-progress")

    # Signed, then corrected: the earlier volume stays in the record beside the new one.
    page.goto(f"{live_server.url}/patients/{plan.patient_id}/charts/{chart.pk}/")
    open_page(page, page.get_by_role("link", name="Amend Right anterior thigh"))
    page.get_by_label("Volume (mL)").fill("3.5")
    page.get_by_label("Reason").fill("Typed 4 for 3.5 mL.")
    screenshot("area-amend")
    page.get_by_role("button", name="Save").click()
    # 3.5 mL in 10 injections is above the usual volume per injection: confirmed, then saved.
    expect(page.locator("#volume-warnings")).to_contain_text("0.35 mL per injection")
    page.get_by_label("I confirm these volumes").check()
    screenshot("area-amend-confirm")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("[data-amendment]").first).to_contain_text("4.00")
    expect(page.locator("[data-amendment]").first).to_contain_text("3.50")
    screenshot("chart-amended")
