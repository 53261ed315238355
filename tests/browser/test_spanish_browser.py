"""A patient on a phone switches the portal to Spanish with the chooser on the page: the
schedule is in Spanish, fits the phone, and the choice is kept on their record, so the email
about their appointment is in Spanish too. Screenshots: portal-schedule-es.png,
login-es.png and email-es.png in test-artifacts/."""

from playwright.sync_api import Page, expect

from messaging import sending
from messaging.models import Message
from tests.browser.conftest import ARTIFACTS
from tests.browser.steps import log_in, page_width
from tests.browser.test_portal_browser import PHONE, rosa

__all__ = ["rosa"]


def test_a_patient_on_a_phone_switches_the_portal_to_spanish(
    page: Page, live_server, rosa, screenshot
):
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "rosa@example.org")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change language").click()
    expect(page.get_by_role("heading", name="Próximas citas")).to_be_visible()
    expect(page.get_by_text("Sesión 1 de 4 hecha.")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert page_width(page) <= PHONE["width"]
    screenshot("portal-schedule-es")
    rosa.refresh_from_db()
    assert rosa.language == "es"

    page.get_by_role("button", name="Cerrar sesión").click()
    expect(page.get_by_role("button", name="Iniciar sesión")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    screenshot("login-es")

    # The email as a mail program shows it (on a blank page of its own: no site, no CSP).
    notice = sending.render(Message.objects.get(patient=rosa, kind="change:booked"))
    assert notice.subject.startswith("Programada: su cita del")
    mail_program = page.context.new_page()
    mail_program.set_viewport_size(PHONE)
    mail_program.set_content(notice.html)
    expect(mail_program.get_by_text("Dr(a). Linh Nguyen")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    mail_program.screenshot(path=ARTIFACTS / "email-es.png", full_page=True)
