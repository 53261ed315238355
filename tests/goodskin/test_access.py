"""Every URL of the app is classified: public, open to patients, or for staff only.

The walk over the URL configuration makes a new page fail here until it is classified, so a
page can't be added without a login or with the wrong role by accident.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from goodskin.roles import Role

# Pages anyone may open.
PUBLIC = {
    "portal:feed",
    "portal:open_account",
    "portal:book",
    "portal:book_sent",
    "portal:book_confirm",
    "portal:check_in",
    "portal:waitlist_offer",
    "messaging:unsubscribe",
    "messaging:sms_status",
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "set_language",
}
# Public pages that need a secret token in the URL (tested with real tokens elsewhere).
TOKEN_PAGES = {
    "password_reset_confirm",
    "portal:open_account",
    "portal:book_confirm",
    "portal:check_in",
    "portal:waitlist_offer",
    "messaging:unsubscribe",
    "portal:feed",
}
# Two-step login: everyone's own (goodskin.two_factor_views).
TWO_FACTOR_PAGES = {
    "two_factor",
    "two_factor_setup",
    "two_factor_codes",
    "two_factor_manage",
    "two_factor_new_codes",
}
# Public addresses that only take a POST signed by an outside service (the SMS provider's
# delivery receipts: tested with real signatures in tests/messaging/test_sms_twilio.py).
SIGNED_POSTS = {"messaging:sms_status"}
# The language chooser's form posts here (tests/goodskin/test_language.py).
CHOOSER = {"set_language"}
# Pages a patient may open (besides the public ones); everything else is for staff.
PATIENT_PAGES = {
    "home",
    "portal:schedule",
    "portal:appointment",
    "portal:cancel",
    "portal:undo_cancel",
    "portal:move",
    "portal:appointment_ics",
    "portal:calendar",
    "portal:preferences",
    "password_change",
    "password_change_done",
    "logout",
    "keep_alive",
    "portal:my_record",
    "portal:my_record_json",
    "portal:my_record_pdf",
    "portal:treatment",
    "portal:plan",
    "portal:book_next",
    "portal:screening",
    "portal:waitlist",
    "portal:leave_waitlist",
    # Printouts (issue 18, point 1): the patient's own aftercare sheets and plan summaries.
    "portal:aftercare_sheet",
    "portal:aftercare_sheet_pdf",
    "portal:plan_summary",
    "portal:plan_summary_pdf",
    *TWO_FACTOR_PAGES,
}
# Pages the clinic administrator opens outside the Django admin: none with patient data.
ADMIN_PAGES = {
    "home",
    "logout",
    "password_change",
    "password_change_done",
    "keep_alive",
    *TWO_FACTOR_PAGES,
    # The offices' set-up (issue 17, point 4): offices, rooms and doctors' hours only.
    "scheduling:offices",
    "scheduling:office_new",
    "scheduling:office",
    "scheduling:room_add",
    "scheduling:room_change",
    "scheduling:hours_add",
    "scheduling:hours_edit",
    # The reports (issue 18, point 2): counts per week, no patient's row.
    "reports:index",
    "reports:report",
    "reports:csv",
}
# Pages for administrators and doctors only: the reports. The front desk books and does not
# need the clinic's figures; tests/reports/test_reports.py opens them as every role.
REPORT_PAGES = {"reports:index": [], "reports:report": ["sessions"], "reports:csv": ["sessions"]}
# Staff pages that belong to one role only.
ROLE_HOMES = {"frontdesk_home": Role.FRONT_DESK, "doctor_home": Role.DOCTOR}

SAMPLES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "x",
}


def app_urls(number: str = "1") -> list[tuple[str, str]]:
    """(name, sample path) for every named route outside the Django admin, with `number` for
    every number in it."""
    samples = {**SAMPLES, "int": number}
    found = []

    def walk(patterns, prefix, namespace):
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                if getattr(p, "app_name", None) == "admin":
                    continue
                walk(p.url_patterns, prefix + route, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                sample = re.sub(
                    r"<(?:(\w+):)?\w+>", lambda m: samples[m[1] or "str"], prefix + route
                )
                name = f"{namespace}:{p.name}" if namespace else p.name
                found.append((name, "/" + sample))

    walk(get_resolver().url_patterns, "", None)
    return found


URLS = app_urls()
PRIVATE = [(name, path) for name, path in URLS if name not in PUBLIC]
STAFF_ONLY = [(name, path) for name, path in PRIVATE if name not in PATIENT_PAGES]


def test_it_finds_the_apps_urls():
    names = {name for name, _ in URLS}
    assert {"home", "login", "healthz", "frontdesk_home", "doctor_home"} <= names


@pytest.mark.parametrize(("name", "path"), PRIVATE)
def test_it_sends_anonymous_visitors_to_login(client, db, name, path):
    response = client.get(path)
    assert response.status_code == 302, name
    assert response.url.startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(("name", "path"), STAFF_ONLY)
def test_it_keeps_patients_out_of_staff_pages(client, patient, name, path):
    client.force_login(patient)
    assert client.get(path).status_code in (403, 404), name
    assert client.post(path).status_code in (403, 404), name


@pytest.mark.parametrize(("name", "role"), ROLE_HOMES.items())
def test_it_keeps_other_roles_out_of_a_role_home(client, users_by_role, name, role):
    for other, user in users_by_role.items():
        client.force_login(user)
        expected = 200 if other == role else 403
        assert client.get(reverse(name)).status_code == expected, (name, other)


@pytest.mark.parametrize(("name", "args"), REPORT_PAGES.items())
def test_it_lets_only_administrators_and_doctors_read_the_reports(
    client, users_by_role, name, args
):
    for role, user in users_by_role.items():
        client.force_login(user)
        expected = 200 if role in (Role.ADMIN, Role.DOCTOR) else 403
        assert client.get(reverse(name, args=args)).status_code == expected, (name, role)


def test_it_keeps_non_administrators_out_of_the_admin(client, users_by_role):
    for role, user in users_by_role.items():
        client.force_login(user)
        response = client.get("/admin/")
        if role == Role.ADMIN:
            assert response.status_code == 200
        else:
            assert response.status_code == 302
            assert response.url.startswith("/admin/login/")


@pytest.mark.parametrize(
    "name",
    sorted(PUBLIC - TOKEN_PAGES - SIGNED_POSTS - CHOOSER),
)
def test_it_opens_public_pages_without_login(client, db, name):
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", sorted(SIGNED_POSTS))
def test_it_refuses_an_unsigned_post_to_a_signed_address_without_a_login(client, db, name):
    assert client.get(reverse(name)).status_code == 405
    assert client.post(reverse(name), {"MessageSid": "SM" + "0" * 32}).status_code == 403


def test_it_shows_the_administrator_no_patient_data_on_any_page(client, clinic_admin):
    """Every page of the app, with the id of a patient with a portal account, as the clinic
    administrator: the admin is their place (tests/goodskin/test_admin_privacy.py walks it)."""
    from tests.factories import PatientFactory, UserFactory

    account = UserFactory(username="ysolde.brandywine@example.net", role=Role.PATIENT)
    record = PatientFactory(
        legal_first_name="Ysolde",
        legal_last_name="Brandywine",
        phone="+15035554321",
        email="ysolde.brandywine@example.net",
        portal_user=account,
    )
    for name, path in app_urls(str(record.pk)):
        for method in ("get", "post"):
            client.force_login(clinic_admin)  # again: one of the pages is the logout
            response = getattr(client, method)(path)
            text = response.content.decode().lower()
            assert response.status_code != 500, (name, method)
            if name not in ADMIN_PAGES and name not in PUBLIC:
                assert response.status_code in (403, 404, 405), (name, method)
            for needle in ("ysolde", "brandywine", "5554321", "555-4321"):
                assert needle not in text, (name, method, needle)
