"""A message that never reached its patient, as the front desk meets it: on the home page, on
the patient's record, and gone once sent again. Screenshots: test-artifacts/desk-given-up.png,
desk-given-up-375.png, patient-messages-given-up.png."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from messaging import sending as outbox
from messaging.models import Message, MessageStatus
from scheduling import reminders
from tests.browser.steps import log_in, open_page
from tests.factories import PatientFactory, UserFactory


@pytest.fixture
def given_up(transactional_db):
    UserFactory(username="desk.kim", first_name="Kim", last_name="Ortiz", role=Role.FRONT_DESK)
    patient = PatientFactory(
        legal_first_name="Rosa", legal_last_name="Delgado", email="", consent_email=True
    )
    now = timezone.now()
    row = Message.objects.create(
        key="browser:touch-up",
        patient=patient,
        kind=reminders.TOUCH_UP,
        channel="email",
        due_at=now,
        give_up_at=now + timedelta(days=30),
    )
    outbox.send_batch(10)  # no address: given up at once
    row.refresh_from_db()
    assert row.status == MessageStatus.FAILED
    return row


def test_the_front_desk_sees_a_message_that_never_arrived_and_sends_it_again(
    page: Page, live_server, given_up, screenshot
):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "desk.kim")
    card = page.locator("#given-up")
    expect(card.get_by_role("heading")).to_have_text("1 message did not reach its patient")
    expect(card.get_by_text("no email address")).to_be_visible()
    screenshot("desk-given-up")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot("desk-given-up-375")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The address is fixed on the record, then the message goes out again from its page.
    type(given_up.patient).objects.filter(pk=given_up.patient_id).update(email="rosa@example.org")
    open_page(page, card.get_by_role("link", name="Rosa Delgado"))
    expect(page.get_by_role("heading", name="Messages to Rosa Delgado")).to_be_visible()
    screenshot("patient-messages-given-up")
    open_page(page, page.locator("#given-up").get_by_role("button", name="Send again"))
    expect(page.get_by_text("The message will go out again within a few minutes.")).to_be_visible()
    expect(page.locator("#given-up")).to_have_count(0)
    assert Message.objects.get(pk=given_up.pk).status == MessageStatus.PENDING
