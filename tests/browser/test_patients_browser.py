from datetime import date

import pytest
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from tests.browser.steps import log_in, open_page, page_width
from tests.factories import PatientFactory, UserFactory, screen

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def desk(transactional_db):
    return UserFactory(username="fiona", first_name="Fiona", role=Role.FRONT_DESK)


def test_it_registers_finds_and_warns_about_a_patient(page: Page, live_server, desk, screenshot):
    existing = PatientFactory(
        legal_first_name="Catherine", legal_last_name="Anderson", date_of_birth=date(1975, 10, 19)
    )
    screen(existing, estrogen="yes", untreated_varicose="yes")
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, "fiona")
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("Legal first name").fill("Katherine")
    page.get_by_label("Legal last name").fill("Andersen")
    page.get_by_label("Date of birth").fill("1975-10-19")
    page.get_by_label("Mobile phone").fill("(503) 555-0142")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("This may be a patient we already have")).to_be_visible()
    screenshot("patient-duplicate-warning")
    page.get_by_role("link", name="This is the same person").click()
    expect(page.get_by_text("Untreated varicose veins: treat them first")).to_be_visible()
    expect(page.get_by_text("blush", exact=False).first).to_be_visible()
    screenshot("patient-detail-warnings")

    # htmx swaps in the results as the name is typed, once it is listening: after the page loads.
    open_page(page, page.get_by_role("link", name="Patients"))
    page.get_by_label("Find a patient").fill("anders cath")
    expect(page.locator("#results").get_by_role("link", name="Catherine Anderson")).to_be_visible()
    screenshot("patient-search")


def test_it_shows_the_patient_page_on_a_phone(page: Page, live_server, desk, screenshot):
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Álvarez")
    screen(patient, sclerosant_allergy="yes", estrogen="yes")
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "fiona")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    expect(page.get_by_text("Do not treat: absolute contraindication")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    screenshot("patient-detail-phone")
