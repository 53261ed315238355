"""Issue 16, point 1, on a phone: a patient answers the safety check-in with "a hard, painful
or swollen leg", sees at once what to do, and the doctor's home shows the alert until a doctor
says what was done. Screenshots: check-in-ask.png, check-in-warning.png, check-in-doctor.png."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from messaging.models import Message
from tests.browser.steps import log_in, page_width
from tests.browser.test_portal_browser import PHONE
from tests.factories import PatientFactory, UserFactory, screen
from tests.treatments.conftest import make_plan
from treatments import check_ins
from treatments.models import CheckInReply


@pytest.fixture
def check_in(transactional_db):
    doctor = UserFactory(
        username="dr.okafor", first_name="Ada", last_name="Okafor", role=Role.DOCTOR
    )
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Delgado")
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return check_ins.create(
        plan=make_plan(patient, doctor),
        appointment_id=1,
        session_on=timezone.localdate() - timedelta(days=1),
        days_after=1,
        due_at=timezone.now() - timedelta(hours=1),
    )


def test_a_hard_painful_leg_tells_the_patient_what_to_do_and_alerts_the_doctor(
    page: Page, live_server, screenshot, check_in
):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + f"/portal/check-in/{check_ins.token_for(check_in.nonce)}/")
    expect(page.get_by_role("heading", name="How are your legs?")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    screenshot("check-in-ask")
    page.get_by_label("A hard, painful or swollen leg").check()
    page.get_by_label("Anything else you want to tell us (optional)").fill("Left calf, since today")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", name="Call the clinic now")).to_be_visible()
    expect(page.get_by_text("can be a blood clot in a vein")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    screenshot("check-in-warning")
    reply = CheckInReply.objects.get()
    assert reply.warning and Message.objects.filter(kind=check_ins.ALERT_KIND).exists()

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "dr.okafor")
    alerts = page.locator("#check-in-warnings")
    expect(alerts).to_contain_text("Rosa Delgado")
    expect(alerts).to_contain_text("A hard, painful or swollen leg")
    expect(alerts).to_contain_text("Left calf, since today")
    screenshot("check-in-doctor")
    alerts.get_by_label("What was done").fill("Called Rosa: ultrasound today at 3 pm.")
    alerts.get_by_role("button", name="Handled").click()
    expect(page.get_by_text("Marked as handled.")).to_be_visible()
    expect(page.locator("#check-in-warnings")).to_have_count(0)
    reply.refresh_from_db()
    assert reply.handled_note == "Called Rosa: ultrasound today at 3 pm."
