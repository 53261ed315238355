"""A serious adverse event as the treating doctor meets it: on the home page with how its alert
email fared, until they press "I have seen this" and the event is resolved. Screenshots:
test-artifacts/doctor-alert.png, doctor-alert-375.png."""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from messaging import sending
from tests.browser.steps import log_in, open_page, page_width
from tests.factories import PatientFactory, UserFactory, screen
from tests.treatments.conftest import as_doctor, make_plan
from treatments import services


@pytest.fixture
def serious_event(transactional_db):
    doctor = UserFactory(
        username="dr.okafor", first_name="Ada", last_name="Okafor", role=Role.DOCTOR
    )
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Delgado")
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    event = services.report_adverse_event(
        plan=make_plan(patient, doctor),
        data={"type": "dvt", "onset_on": timezone.localdate(), "severity": "severe"},
        by=as_doctor(doctor),
    )
    sending.send_batch(10)  # the alert goes out, as the dispatcher would send it
    return event


def test_the_doctor_sees_the_alert_until_they_have_seen_it(
    page: Page, live_server, serious_event, screenshot
):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "dr.okafor")
    alert = page.locator("#serious-events")
    expect(alert.get_by_text("Deep vein thrombosis")).to_be_visible()
    expect(alert.get_by_text("alert emailed")).to_be_visible()
    expect(alert.get_by_text("New")).to_be_visible()
    screenshot("doctor-alert")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page_width(page) <= 375
    screenshot("doctor-alert-375")
    page.set_viewport_size({"width": 1280, "height": 900})

    open_page(page, alert.get_by_role("button", name="I have seen this"))
    expect(page.get_by_text("Marked as seen.")).to_be_visible()
    # Seen, but not resolved yet: still listed, without the button.
    expect(page.locator("#serious-events").get_by_text("Deep vein thrombosis")).to_be_visible()
    expect(page.get_by_role("button", name="I have seen this")).to_have_count(0)
