"""Issue 17, point 3, end to end: the front desk cancels a visit; the waitlist task offers the
freed time to the two patients waiting (two offers at once); each offer email arrives in a real
SMTP server on loopback; the first patient's link books the time on a phone, the second's says
it went, and a "the time went" email follows. Screenshots: waitlist-offer.png,
waitlist-booked.png, waitlist-gone.png, waitlist-desk.png."""

import re
from datetime import time, timedelta
from email import message_from_bytes, policy

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goodskin.roles import Role
from messaging import sending
from scheduling import clock, services
from scheduling.models import (
    Appointment,
    Kind,
    Location,
    Room,
    SchedulingSettings,
    WorkingHours,
)
from scheduling.services import waitlist
from tests.browser.conftest import ARTIFACTS
from tests.browser.steps import log_in, open_page, page_width
from tests.browser.test_portal_browser import PHONE
from tests.factories import PatientFactory, UserFactory
from tests.messaging.realparts import Mailbox, SMTPServer
from tests.scheduling.conftest import TZ, desk_actor, waking_all_day  # noqa: F401

pytestmark = pytest.mark.usefixtures("waking_all_day")

LINK = re.compile(r"/portal/waitlist/offer/[^/\s]+/")


class KeepingMailbox(Mailbox):
    """The loopback server's mailbox, keeping each message's recipients and text."""

    def __init__(self):
        super().__init__()
        self.messages: list[tuple[tuple[str, ...], str, str]] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        body = parsed.get_body(preferencelist=("plain",)).get_content()
        self.messages.append((tuple(envelope.rcpt_tos), str(parsed["Subject"]), body))
        return await super().handle_DATA(server, session, envelope)

    def to(self, address: str) -> list[tuple[str, str]]:
        return [(subject, body) for to, subject, body in self.messages if address in to]


@pytest.fixture
def smtp(settings):
    server = SMTPServer()
    server.mailbox = KeepingMailbox()
    server.controller.handler = server.mailbox
    with server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
            "127.0.0.1",
            server.port,
            10,
        )
        yield server.mailbox


@pytest.fixture
def clinic(transactional_db, settings):
    settings.WAITLIST_OFFERS_AT_ONCE = 2
    SchedulingSettings.objects.get_or_create(pk=1)
    office, _ = Location.objects.get_or_create(
        name="Goodskin Dermatology, Oregon office", defaults={"time_zone": TZ.key}
    )
    office.address = "1200 SW Main St, Portland OR"
    office.save()
    for name in ("Room 1", "Room 2"):
        Room.objects.get_or_create(location=office, name=name)
    doctor = UserFactory(username="dr.nguyen", last_name="Nguyen", role=Role.DOCTOR)
    for weekday in range(7):
        WorkingHours.objects.create(
            doctor=doctor, location=office, weekday=weekday, starts=time(8), ends=time(17)
        )
    desk = UserFactory(username="desk.kim", first_name="Kim", role=Role.FRONT_DESK)
    day = timezone.localdate() + timedelta(days=3)
    taken = services.book_appointment(
        patient=PatientFactory(legal_first_name="Paula", legal_last_name="Reyes"),
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=clock.instant(day, time(10), TZ),
        by=desk_actor(desk),
    )
    waiting = []
    for first, email in (("Ana", "ana@example.org"), ("Berta", "berta@example.org")):
        patient = PatientFactory(legal_first_name=first, legal_last_name="Lopez", email=email)
        wish = waitlist.Wish(kind=Kind.CONSULTATION, not_before=timezone.localdate())
        waiting.append(waitlist.add_to_waitlist(patient=patient, wish=wish, by=desk_actor(desk)))
    return {"taken": taken, "waiting": waiting, "doctor": doctor}


def run_the_worker() -> None:
    """What the waitlist task and the dispatcher do each minute."""
    waitlist.offer_openings()
    sending.send_batch(20)


def test_a_cancelled_time_is_filled_from_the_waitlist(
    page: Page, live_server, screenshot, clinic, smtp
):
    taken = clinic["taken"]
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "desk.kim")
    # A third patient joins from her record, after the two already waiting.
    carla = PatientFactory(legal_first_name="Carla", legal_last_name="Ruiz")
    page.goto(f"{live_server.url}/patients/{carla.pk}/")
    open_page(page, page.get_by_role("link", name="Add to waitlist"))
    page.get_by_label("Tuesday").uncheck()
    page.get_by_label("Afternoons (from noon)").check()
    screenshot("waitlist-add")
    open_page(page, page.get_by_role("button", name="Add to waitlist"))
    expect(page.get_by_text("Carla Ruiz is on the waitlist.")).to_be_visible()
    expect(page.get_by_text("waiting since")).to_be_visible()

    page.goto(f"{live_server.url}/appointments/{taken.pk}/")
    page.get_by_role("radio", name="The clinic").check()
    page.get_by_label("Reason").fill("The doctor is needed in surgery")
    open_page(page, page.get_by_role("button", name="Cancel the appointment"))

    run_the_worker()
    [(subject, ana_mail)] = smtp.to("ana@example.org")
    [(_subject, berta_mail)] = smtp.to("berta@example.org")
    assert subject == "A time has become free for you"
    assert "1200 SW Main St" in ana_mail

    # Berta opens her link first, on her own phone, and waits a moment.
    # Each patient on a phone of their own: no login, a browser of their own.
    berta = page.context.browser.new_context(viewport=PHONE).new_page()
    berta.set_viewport_size(PHONE)
    berta.goto(live_server.url + LINK.search(berta_mail)[0])
    expect(berta.get_by_role("button", name="Book this time")).to_be_visible()

    desk = page
    page = page.context.browser.new_context(viewport=PHONE).new_page()
    page.goto(live_server.url + LINK.search(ana_mail)[0])
    expect(page.get_by_role("heading", name="A time has become free for you")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=ARTIFACTS / "waitlist-offer.png", full_page=True)
    open_page(page, page.get_by_role("button", name="Book this time"))
    expect(page.get_by_role("heading", name="Your time is booked")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "waitlist-booked.png", full_page=True)
    booked = Appointment.objects.get(patient=clinic["waiting"][0].patient)
    assert booked.starts_at == taken.starts_at and booked.status == "booked"

    # Berta accepts second: she is told the time went, and nothing is booked for her.
    open_page(berta, berta.get_by_role("button", name="Book this time"))
    expect(berta.get_by_role("heading", name="This time is no longer free")).to_be_visible()
    expect(berta.get_by_text("You stay on the waitlist")).to_be_visible()
    berta.screenshot(path=ARTIFACTS / "waitlist-gone.png", full_page=True)
    assert not Appointment.objects.filter(patient=clinic["waiting"][1].patient).exists()
    run_the_worker()
    subjects = [subject for subject, _body in smtp.to("berta@example.org")]
    assert subjects == ["A time has become free for you", "The time we offered you has been taken"]
    assert smtp.duplicates() == 0

    desk.goto(f"{live_server.url}/schedule/waitlist/")
    freed = desk.locator("article").filter(has_text="Berta Lopez")
    expect(freed.get_by_text("Accepted: booked")).to_be_visible()
    expect(freed.get_by_text("Went to someone else")).to_be_visible()
    screenshot("waitlist-desk")
    for phone in (page, berta):
        phone.context.close()
