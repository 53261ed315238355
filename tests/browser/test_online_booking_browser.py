"""Issue 15, point 1, on a phone: a person new to the clinic books a consultation on the
public page and confirms it from the link in their email. Screenshots: online-book.png,
online-sent.png, online-confirm.png, online-booked.png."""

import re
from datetime import time

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from messaging import sending
from patients.models import Patient
from patients.screening import QUESTIONS
from scheduling.models import Appointment, Kind, Location, Room, SchedulingSettings, WorkingHours
from tests.browser.steps import page_width
from tests.browser.test_portal_browser import PHONE
from tests.factories import UserFactory
from tests.scheduling.conftest import TZ


@pytest.fixture
def clinic(transactional_db):
    SchedulingSettings.objects.get_or_create(pk=1)
    office, _ = Location.objects.get_or_create(
        name="Goodskin Dermatology, Oregon office", defaults={"time_zone": TZ.key}
    )
    for name in ("Room 1", "Room 2"):
        Room.objects.get_or_create(location=office, name=name)
    doctor = UserFactory(username="dr.nguyen", last_name="Nguyen", role=Role.DOCTOR)
    for weekday in range(7):
        WorkingHours.objects.create(
            doctor=doctor, location=office, weekday=weekday, starts=time(8), ends=time(17)
        )
    return doctor


def test_a_new_patient_books_a_consultation_and_confirms_it(
    page: Page, live_server, screenshot, clinic
):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/portal/book/")
    expect(page.get_by_role("heading", name="Book a consultation")).to_be_visible()
    page.locator("label.btn").first.click()
    page.get_by_label("First name (as on your ID)").fill("Marisol")
    page.get_by_label("Last name (as on your ID)").fill("Quintero")
    page.get_by_label("Date of birth").fill("1984-03-09")
    page.locator("#id_email").fill("marisol.q@example.net")
    page.locator("#id_phone").fill("+15035550142")
    for question in QUESTIONS:
        page.locator(f'input[name="{question.key}"][value="no"]').check()
    assert page_width(page) <= PHONE["width"]
    screenshot("online-book")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    screenshot("online-sent")

    sending.send_batch(10)
    (email,) = mail.outbox
    path = re.search(r"/portal/book/confirm/[^/\s]+/", email.body)[0]
    page.goto(live_server.url + path)
    expect(page.get_by_role("heading", name="Confirm your consultation")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    screenshot("online-confirm")
    page.get_by_role("button", name="Confirm my booking").click()
    expect(page.get_by_role("heading", name="Thank you: your request is confirmed")).to_be_visible()
    screenshot("online-booked")
    patient = Patient.objects.get()
    appointment = Appointment.objects.get()
    assert (appointment.patient, appointment.kind) == (patient, Kind.CONSULTATION)
