"""The front desk prints the day (issue 18, point 1): in print media the navigation bar, the
buttons, the date picker and the language chooser are gone and the appointments stay, one doctor
a page. Artifacts: test-artifacts/day-print.png (the page in print media), day-print.pdf (what
Chromium prints) and week-print.png."""

import re
import subprocess
from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goodskin.actors import Actor
from goodskin.roles import Role
from scheduling import services
from scheduling.clock import instant
from scheduling.models import Kind
from tests.browser.conftest import ARTIFACTS
from tests.browser.steps import log_in
from tests.browser.test_schedule_browser import TZ, fill_the_colleagues_day
from tests.browser.test_schedule_browser import plan as plan  # the fixture
from tests.factories import PatientFactory


def hidden_in_print(locator) -> bool:
    shown = [
        item.evaluate("e => e.outerHTML.slice(0, 120)")
        for item in locator.all()
        if item.is_visible() or item.bounding_box() is not None
    ]
    assert not shown, shown
    return True


@pytest.fixture
def day(plan):
    plan, colleague = plan
    tomorrow = timezone.localdate(timezone.now(), TZ) + timedelta(days=1)
    fill_the_colleagues_day(colleague, tomorrow)
    services.book_appointment(
        patient=plan.patient,
        doctor=plan.doctor,
        kind=Kind.SESSION,
        plan=plan,
        session_number=1,
        starts_at=instant(tomorrow, time(11), TZ),
        by=Actor(user=None, role=Role.FRONT_DESK),
    )
    services.book_appointment(
        patient=PatientFactory(legal_first_name="Rosa", legal_last_name="Quintana"),
        doctor=plan.doctor,
        kind=Kind.CONSULTATION,
        starts_at=instant(tomorrow, time(10), TZ),
        by=Actor(user=None, role=Role.FRONT_DESK),
    )
    return tomorrow


def test_the_day_prints_without_navigation_or_buttons_one_doctor_a_page(
    page: Page, live_server, day, screenshot
):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "desk.kim")
    page.goto(f"{live_server.url}/schedule/day/?date={day.isoformat()}")
    main = page.get_by_role("main")
    print_button = main.get_by_role("button", name="Print")
    expect(print_button).to_be_visible()  # shown by print.js
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()

    page.emulate_media(media="print")
    expect(main.get_by_role("link", name="Rosa Quintana")).to_be_visible()
    expect(main.get_by_role("heading", name="Priya Shah")).to_be_visible()
    expect(main.get_by_role("heading", name="Linh Nguyen")).to_be_visible()
    assert hidden_in_print(page.get_by_role("navigation", name="Main"))
    assert hidden_in_print(page.locator("main .btn, main button, main form"))
    assert hidden_in_print(page.get_by_label("Date"))
    assert hidden_in_print(page.locator("#language-choice"))
    assert page.locator("main button:visible, nav:visible, input:visible").count() == 0
    # Each doctor's column is the page's width, and every one after the first starts a page.
    columns = page.locator(".gs-day-columns > section")
    assert columns.count() == 2
    widths = [columns.nth(i).bounding_box()["width"] for i in range(2)]
    assert min(widths) > 0.9 * page.locator("main").bounding_box()["width"]
    breaks = columns.evaluate_all("els => els.map(e => getComputedStyle(e).breakBefore)")
    assert breaks == ["auto", "page"]
    colour = main.get_by_role("link", name="Rosa Quintana").evaluate(
        "e => getComputedStyle(e).color"
    )
    assert colour == "rgb(0, 0, 0)"
    screenshot("day-print")

    pdf = ARTIFACTS / "day-print.pdf"
    page.pdf(path=pdf, format="Letter", print_background=False)
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True)
    pages = text.stdout.split("\f")
    assert len([p for p in pages if p.strip()]) == 2  # one doctor a page
    assert "Rosa Quintana" in pages[0] or "Rosa Quintana" in pages[1]
    for unwanted in ("Log out", "Previous", "Show", "By room", "Find a patient", "Print"):
        assert unwanted not in text.stdout, unwanted
    subprocess.run(["pdftoppm", "-png", "-r", "60", pdf, ARTIFACTS / "day-print-pdf"], check=True)


def test_the_week_prints_as_one_table(page: Page, live_server, day, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "desk.kim")
    page.goto(f"{live_server.url}/schedule/week/?date={day.isoformat()}")
    page.emulate_media(media="print")
    expect(page.get_by_role("main").get_by_text("Rosa Quintana")).to_be_visible()
    assert hidden_in_print(page.get_by_role("navigation", name="Main"))
    assert page.locator("main button:visible, main nav:visible, main .btn:visible").count() == 0
    screenshot("week-print")
    # Eight doctors' columns need the width: the week prints on landscape pages.
    pdf = ARTIFACTS / "week-print.pdf"
    page.pdf(path=pdf, prefer_css_page_size=True)
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    width, height = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups()
    assert float(width) > float(height), info


def test_the_doctors_day_prints_without_buttons(page: Page, live_server, day, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "dr.nguyen")
    page.goto(f"{live_server.url}/schedule/my-day/?date={day.isoformat()}")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Chart session 1")).to_be_visible()
    page.emulate_media(media="print")
    expect(main.get_by_role("link", name="María García")).to_be_visible()
    expect(main.get_by_role("link", name="Rosa Quintana")).to_be_visible()
    assert hidden_in_print(page.get_by_role("navigation", name="Main"))
    assert hidden_in_print(page.locator("main .btn, main button, main form, main nav"))
    expect(main.get_by_text("Dr Linh Nguyen")).to_be_visible()  # whose day, on paper only
    screenshot("my-day-print")

    # The doctor's home (today's patients, alerts, charts to sign) prints the same way.
    page.emulate_media(media="screen")
    page.goto(f"{live_server.url}/doctor/")
    expect(main.get_by_role("button", name="Print")).to_be_visible()
    page.emulate_media(media="print")
    expect(main.get_by_role("heading", name="Your patients today")).to_be_visible()
    assert hidden_in_print(page.get_by_role("navigation", name="Main"))
    assert hidden_in_print(page.locator("main .btn, main button, main form"))
    assert hidden_in_print(main.get_by_role("heading", name="Your sessions today"))
    screenshot("doctor-home-print")


def test_the_aftercare_sheet_prints_as_the_sheet_alone(page: Page, live_server, day, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "desk.kim")
    page.goto(f"{live_server.url}/schedule/day/?date={day.isoformat()}")
    nguyen = page.locator("section").filter(has=page.get_by_role("heading", name="Linh Nguyen"))
    nguyen.get_by_role("link", name=re.compile(r"^11:00 AM–")).click()
    page.get_by_role("link", name="Aftercare sheet to print").click()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    page.emulate_media(media="print")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="After your sclerotherapy session")).to_be_visible()
    expect(main.get_by_text("Warning signs")).to_be_visible()
    assert hidden_in_print(page.get_by_role("navigation", name="Main"))
    assert hidden_in_print(page.locator("main .btn, main button"))
    screenshot("aftercare-sheet-print")
