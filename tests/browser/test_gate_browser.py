"""Issue 13's browser proof: the screening changed after the plan was made; the front desk meets
the blocked check-in on the day view, the doctor overrides it on the plan's page with a reason,
and the front desk re-screens the patient and checks her in. Screenshots:
test-artifacts/gate-day-blocked.png, gate-appointment-blocked.png, gate-plan-override.png,
gate-rescreen.png, gate-checked-in.png."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from scheduling.clock import zone
from scheduling.models import Appointment, Kind, Location, Room, SchedulingSettings, Status
from tests.browser.steps import log_in, open_page
from tests.factories import PatientFactory, UserFactory, screen
from tests.treatments.conftest import complete_screening, make_plan
from treatments.models import Clearance

TZ = zone("America/Los_Angeles")


@pytest.fixture
def visit(transactional_db):
    SchedulingSettings.objects.get_or_create(pk=1)
    office, _ = Location.objects.get_or_create(
        name="Goodskin Dermatology, Oregon office", defaults={"time_zone": TZ.key}
    )
    room, _ = Room.objects.get_or_create(location=office, name="Room 1")
    UserFactory(username="desk.kim", first_name="Kim", last_name="Ortiz", role=Role.FRONT_DESK)
    doctor = UserFactory(username="dr.nguyen", first_name="Linh", last_name="Nguyen",
                         role=Role.DOCTOR)  # fmt: skip
    patient = PatientFactory(legal_first_name="María", legal_last_name="García")
    complete_screening(patient)
    plan = make_plan(patient, doctor, sessions=4)
    # Half an hour ago: today's visit in clinic time, whatever the hour the test runs (a
    # check-in may come late; only a visit of a later day can't be checked in yet).
    starts = timezone.now() - timedelta(minutes=30)
    appointment = Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        location=office,
        room=room,
        kind=Kind.SESSION,
        plan=plan,
        session_number=1,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=20),
    )
    # After the plan: the patient tells the front desk about varicose veins found elsewhere.
    screen(patient, untreated_varicose="yes")
    return appointment


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def test_the_front_desk_meets_a_blocked_check_in_and_the_doctor_overrides_it(
    page: Page, live_server, visit, screenshot
):
    appointment, plan = visit, visit.plan
    day = timezone.localtime(appointment.starts_at, TZ).date().isoformat()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "desk.kim")
    page.goto(f"{live_server.url}/schedule/day/?date={day}")
    card = page.locator("article", has=page.get_by_role("link", name="María García"))
    expect(card.get_by_text("Blocked")).to_be_visible()
    expect(card).to_contain_text("Untreated varicose veins or reflux")
    expect(card.get_by_role("button", name="Check in")).to_have_count(0)
    screenshot("gate-day-blocked")
    open_page(page, card.get_by_role("link").first)
    expect(page.get_by_role("alert").filter(has_text="Blocked")).to_be_visible()
    expect(page.get_by_role("button", name="Check in")).to_have_count(0)
    screenshot("gate-appointment-blocked")
    log_out(page)

    log_in(page, live_server.url, "dr.nguyen")
    page.goto(f"{live_server.url}/patients/{plan.patient_id}/plans/{plan.pk}/")
    expect(page.get_by_role("heading", name="Treatment is stopped for visit 1")).to_be_visible()
    page.get_by_label("Why treatment goes ahead").fill(
        "Duplex scan on 11/20 shows no reflux on the right leg; spider veins only."
    )
    screenshot("gate-plan-override")
    open_page(page, page.get_by_role("button", name="Let treatment go ahead"))
    expect(page.get_by_text("Saved: treatment may go ahead.")).to_be_visible()
    expect(page.get_by_role("heading", name="Treatment is stopped for visit 1")).to_have_count(0)
    clearance = Clearance.objects.get()
    assert (clearance.session, clearance.by.username) == (1, "dr.nguyen")
    log_out(page)

    log_in(page, live_server.url, "desk.kim")
    page.goto(f"{live_server.url}/schedule/day/?date={day}")
    card = page.locator("article", has=page.get_by_role("link", name="María García"))
    expect(card.get_by_text("Blocked")).to_have_count(0)
    open_page(page, card.get_by_role("link", name="Re-screen and check in"))
    expect(page.get_by_text("changed since the plan", exact=True)).to_be_visible()
    screenshot("gate-rescreen")
    open_page(page, page.get_by_role("button", name="Confirm the screening and check in"))
    expect(page.get_by_text("María García: screening confirmed and checked in.")).to_be_visible()
    screenshot("gate-checked-in")
    appointment.refresh_from_db()
    assert appointment.status == Status.CHECKED_IN
