"""Issue 14, point 1: two-step login. Staff (TWO_FACTOR_ROLES) set up an authenticator app at
their first login and give its code at every login; patients may turn it on; ten one-time
recovery codes; an administrator (for staff) or the front desk (for a patient) resets a lost
phone, audited; the session key changes at the second step.

The test settings switch the requirement off for the rest of the suite (which logs staff in
with force_login); every test here turns it on."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from goodskin import two_factor
from goodskin.actors import Actor
from goodskin.roles import Role
from patients.models import AuditAction, AuditEntry
from tests.concurrency import contend
from tests.factories import PASSWORD, PatientFactory, UserFactory
from tests.goodskin.test_access import PUBLIC, app_urls

STEP = timedelta(seconds=30)  # one TOTP step: a new code


@pytest.fixture(autouse=True)
def staff_need_it(settings):
    settings.TWO_FACTOR_ROLES = ["admin", "doctor", "front_desk"]


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key):06d}"


def log_in(client, user, next_url: str = "") -> object:
    data = {"username": user.username, "password": PASSWORD}
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, data)


def enrol(client, clock, user) -> tuple[TOTPDevice, list[str]]:
    """Log in with the password and set the app up; returns the device and recovery codes."""
    log_in(client, user)
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=user)
    client.post(reverse("two_factor_setup"), {"code": code(device)})
    page = client.get(reverse("two_factor_codes")).content.decode()
    codes = re.findall(r'<li class="col">(\w+)</li>', page)
    clock.shift(STEP)
    return device, codes


def security_entries(**where):
    return list(AuditEntry.objects.filter(action=AuditAction.SECURITY, **where).order_by("id"))


def test_a_staff_login_goes_on_to_setting_up_the_app(client, front_desk):
    response = log_in(client, front_desk, reverse("scheduling:day"))
    assert response.status_code == 302
    # The password was right: the next page asks for the app before anything else.
    first = client.get(response.url)
    assert first.status_code == 302
    assert first.url.startswith(reverse("two_factor_setup") + "?next=")
    page = client.get(first.url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "<svg" in text and "Scan this code" in text
    device = TOTPDevice.objects.get(user=front_desk, confirmed=False)
    secret = two_factor.spaced_secret(device)
    assert secret in text
    # The page opened again shows the same secret, not a new one.
    assert secret in client.get(first.url).content.decode()
    assert TOTPDevice.objects.filter(user=front_desk).count() == 1


def test_setting_up_needs_the_apps_code_then_shows_ten_recovery_codes_once(client, clock, doctor):
    log_in(client, doctor)
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=doctor)
    wrong = client.post(reverse("two_factor_setup"), {"code": "000000"})
    assert "That code is not right." in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    clock.shift(STEP)  # past the wrong code's pause
    key_before = client.session.session_key
    done = client.post(
        reverse("two_factor_setup") + "?next=/doctor/", {"code": code(device), "next": "/doctor/"}
    )
    assert done.status_code == 302
    assert done.url.startswith(reverse("two_factor_codes"))
    assert client.session.session_key != key_before  # a new key at the second step
    device.refresh_from_db()
    assert device.confirmed
    page = client.get(done.url).content.decode()
    codes = re.findall(r'<li class="col">(\w+)</li>', page)
    assert len(codes) == 10 == len(set(codes))
    assert set(codes) == set(StaticToken.objects.values_list("token", flat=True))
    assert 'href="/doctor/"' in page
    # Shown once: the page opened again goes to the two-step login page, without them.
    again = client.get(reverse("two_factor_codes"))
    assert again.status_code == 302 and again.url == reverse("two_factor_manage")
    assert client.get(reverse("doctor_home")).status_code == 200
    (entry,) = security_entries()
    assert (entry.user, entry.subject, entry.details) == (
        doctor,
        f"account:{doctor.pk}",
        {"two_factor": "turned on"},
    )


def test_the_next_login_asks_for_the_code_and_changes_the_session_key(client, clock, doctor):
    device, _ = enrol(client, clock, doctor)
    client.post(reverse("logout"))
    log_in(client, doctor)
    asked = client.get(reverse("doctor_home"))
    assert asked.url == reverse("two_factor") + "?next=%2Fdoctor%2F"
    assert client.get(reverse("scheduling:day")).status_code == 302
    wrong = client.post(reverse("two_factor"), {"code": "123456"})
    assert "That code is not right." in wrong.content.decode()
    clock.shift(STEP)
    key = client.session.session_key
    passed = client.post(reverse("two_factor"), {"code": code(device), "next": "/doctor/"})
    assert passed.status_code == 302 and passed.url == "/doctor/"
    assert client.session.session_key != key
    assert client.get(reverse("doctor_home")).status_code == 200


def test_a_code_opens_one_session_only(client, clock, doctor):
    from django.test import Client

    device, _ = enrol(client, clock, doctor)
    first, second = Client(), Client()
    log_in(first, doctor)
    log_in(second, doctor)
    now = code(device)
    assert first.post(reverse("two_factor"), {"code": now}).status_code == 302
    again = second.post(reverse("two_factor"), {"code": now})
    assert again.status_code == 200  # the page again, with its error
    assert second.get(reverse("doctor_home")).status_code == 302


def test_a_recovery_code_works_once(client, clock, front_desk):
    _, codes = enrol(client, clock, front_desk)
    client.post(reverse("logout"))
    log_in(client, front_desk)
    used = client.post(reverse("two_factor"), {"code": codes[0].upper()}, follow=True)
    assert "You used a recovery code; 9 are left." in used.content.decode()
    assert client.get(reverse("frontdesk_home")).status_code == 200
    client.post(reverse("logout"))
    clock.shift(STEP)
    log_in(client, front_desk)
    refused = client.post(reverse("two_factor"), {"code": codes[0]})
    assert "That code is not right." in refused.content.decode()
    assert client.get(reverse("frontdesk_home")).status_code == 302
    assert [e.details for e in security_entries()] == [
        {"two_factor": "turned on"},
        {"two_factor": "recovery code used"},
    ]


def test_wrong_codes_make_even_the_right_one_wait(client, clock, doctor):
    device, _ = enrol(client, clock, doctor)
    client.post(reverse("logout"))
    log_in(client, doctor)
    for pause in (1, 2, 4, 8):  # seconds: each wrong code doubles the pause before the next
        wrong = client.post(reverse("two_factor"), {"code": "999999"})
        assert "That code is not right." in wrong.content.decode()
        clock.shift(timedelta(seconds=pause - 1))
        refused = client.post(reverse("two_factor"), {"code": code(device)})
        assert "Too many wrong codes. Wait a minute" in refused.content.decode()
        clock.shift(timedelta(seconds=1))
    assert client.get(reverse("doctor_home")).status_code == 302
    clock.shift(STEP)
    assert client.post(reverse("two_factor"), {"code": code(device)}).status_code == 302
    assert client.get(reverse("doctor_home")).status_code == 200


def test_a_password_alone_cannot_add_a_second_app(client, clock, doctor):
    enrol(client, clock, doctor)
    client.post(reverse("logout"))
    log_in(client, doctor)
    response = client.get(reverse("two_factor_setup"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor"))
    client.post(reverse("two_factor_setup"), {"code": "123456"})
    assert TOTPDevice.objects.filter(user=doctor).count() == 1
    assert client.post(reverse("two_factor_new_codes")).status_code == 302
    assert StaticToken.objects.filter(device__user=doctor).count() == 10


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.DOCTOR, Role.ADMIN])
def test_every_page_waits_for_the_second_step(client, db, role):
    """Each page of the app, and the admin, as a staff member who gave only the password:
    the code page, nothing else (the public pages and the steps' own pages excepted)."""
    user = UserFactory(username=f"two-{role}", role=role)
    record = PatientFactory()
    exempt = PUBLIC | {
        "logout",
        "keep_alive",
        "two_factor",
        "two_factor_setup",
        "two_factor_codes",
    }
    log_in(client, user)
    for name, path in [*app_urls(str(record.pk)), ("admin", "/admin/")]:
        if name in exempt:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 302, (name, method)
            assert response.url.startswith(reverse("two_factor_setup")), (name, method)
    hx = client.get(reverse("home"), headers={"HX-Request": "true"})
    assert hx.status_code == 204
    assert hx.headers["HX-Redirect"].startswith(reverse("two_factor_setup"))


def test_the_code_pages_send_nobody_to_another_site(client, clock, doctor):
    device, _ = enrol(client, clock, doctor)
    client.post(reverse("logout"))
    log_in(client, doctor)
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post(reverse("two_factor"), {"code": "1", "next": target})
        assert 'value="/"' in response.content.decode(), target
    response = client.post(
        reverse("two_factor"), {"code": code(device), "next": "https://evil.example/"}
    )
    assert response.url == "/"


def test_a_patient_logs_in_with_a_password_until_they_turn_it_on(client, clock, patient):
    log_in(client, patient)
    assert client.get(reverse("portal:schedule")).status_code == 200
    manage = client.get(reverse("two_factor_manage")).content.decode()
    assert "Turn on two-step login" in manage
    device, _ = enrol(client, clock, patient)
    assert client.get(reverse("portal:schedule")).status_code == 200
    client.post(reverse("logout"))
    log_in(client, patient)
    assert client.get(reverse("portal:schedule")).url.startswith(reverse("two_factor"))
    client.post(reverse("two_factor"), {"code": code(device)})
    assert client.get(reverse("portal:schedule")).status_code == 200
    # Off again, with a current code: the next login is the password alone.
    clock.shift(STEP)
    wrong = client.post(reverse("two_factor_manage"), {"code": "000000"})
    assert "That code is not right." in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=patient).exists()
    clock.shift(STEP)
    assert client.post(reverse("two_factor_manage"), {"code": code(device)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=patient).exists()
    assert not StaticDevice.objects.filter(user=patient).exists()
    client.post(reverse("logout"))
    log_in(client, patient)
    assert client.get(reverse("portal:schedule")).status_code == 200
    assert [e.details["two_factor"] for e in security_entries()] == ["turned on", "turned off"]


def test_staff_cannot_turn_it_off(client, clock, doctor):
    device, _ = enrol(client, clock, doctor)
    page = client.get(reverse("two_factor_manage")).content.decode()
    assert "can't be turned off" in page
    refused = client.post(reverse("two_factor_manage"), {"code": code(device)})
    assert "Your role needs two-step login" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=doctor, confirmed=True).exists()


def test_new_recovery_codes_replace_the_old_ones(client, clock, doctor):
    _, old = enrol(client, clock, doctor)
    response = client.post(reverse("two_factor_new_codes"))
    assert response.url == reverse("two_factor_codes")
    page = client.get(response.url).content.decode()
    new = re.findall(r'<li class="col">(\w+)</li>', page)
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)


def test_an_administrator_resets_a_lost_phone_and_it_is_audited(
    client, clock, doctor, clinic_admin
):
    from django.test import Client

    enrol(client, clock, doctor)
    admin = Client()
    enrol(admin, clock, clinic_admin)
    changelist = reverse("admin:auth_user_changelist")
    response = admin.post(
        changelist, {"action": "reset_two_factor", "_selected_action": [doctor.pk]}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=doctor).exists()
    assert not StaticDevice.objects.filter(user=doctor).exists()
    entry = security_entries(details__two_factor="reset")[0]
    assert (entry.user, entry.role, entry.subject) == (
        clinic_admin,
        Role.ADMIN,
        f"account:{doctor.pk}",
    )
    # The doctor's open session asks for the step again; their next login sets it up again.
    assert client.get(reverse("doctor_home")).url.startswith(reverse("two_factor_setup"))
    client.post(reverse("logout"))
    log_in(client, doctor)
    assert client.get(reverse("doctor_home")).url.startswith(reverse("two_factor_setup"))


def test_the_admin_lists_no_devices(client, clock, clinic_admin):
    enrol(client, clock, clinic_admin)
    index = client.get("/admin/").content.decode()
    assert "otp_totp" not in index and "otp_static" not in index
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_the_front_desk_resets_a_patients_two_step_login(client, clock, front_desk, patient):
    from django.test import Client

    record = PatientFactory(portal_user=patient)
    enrol(Client(), clock, patient)
    enrol(client, clock, front_desk)
    page = client.get(reverse("patients:detail", args=[record.pk])).content.decode()
    assert "Two-step login is on for this account." in page
    url = reverse("patients:reset_two_factor", args=[record.pk])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    assert not TOTPDevice.objects.filter(user=patient).exists()
    entry = security_entries(details__two_factor="reset")[0]
    assert (entry.user, entry.patient, entry.subject) == (
        front_desk,
        record,
        f"account:{patient.pk}",
    )
    # The patient's next login is the password alone (it is optional for patients).
    other = Client()
    log_in(other, patient)
    assert other.get(reverse("portal:schedule")).status_code == 200


def test_only_staff_reset_a_patients_two_step_login(client, patient, settings):
    settings.TWO_FACTOR_ROLES = []
    record = PatientFactory(portal_user=patient)
    client.force_login(patient)
    assert client.post(reverse("patients:reset_two_factor", args=[record.pk])).status_code in (
        403,
        404,
    )
    no_account = PatientFactory()
    client.force_login(UserFactory(username="desk2", role=Role.FRONT_DESK))
    url = reverse("patients:reset_two_factor", args=[no_account.pk])
    assert client.post(url).status_code == 404


def request_for(user):
    request = RequestFactory().post("/accounts/two-factor/")
    request.user = user
    request.session = SessionStore()
    request.session.create()
    return request


@pytest.mark.django_db(transaction=True)
def test_one_recovery_code_sent_twice_at_once_lets_one_in(doctor):
    """The device row is locked: without the lock both requests find the code before either
    deletes it, and both pass."""
    from django.db import connection

    TOTPDevice.objects.create(user=doctor, name="app", confirmed=True)
    device = StaticDevice.objects.create(user=doctor, name="codes", confirmed=True)
    StaticToken.objects.create(device=device, token="abcd2345")
    connection.close()

    def use():
        return two_factor.verify(request_for(doctor), code="abcd2345")

    holder, contender, waited = contend(use, use, pause=(two_factor, "_audit"))
    assert isinstance(holder, two_factor.Verified)
    assert isinstance(contender, two_factor.TwoFactorError), contender
    assert waited


@pytest.mark.django_db(transaction=True)
def test_one_app_code_sent_twice_at_once_lets_one_in(doctor):
    """The device row is locked: without the lock both requests check the code against the
    last step used before either records it, and both pass."""
    from django.db import connection

    device = TOTPDevice.objects.create(user=doctor, name="app", confirmed=True)
    now = code(device)
    connection.close()

    def use():
        return two_factor.verify(request_for(doctor), code=now)

    holder, contender, waited = contend(use, use, pause=(two_factor, "_refusal"))
    assert isinstance(holder, two_factor.Verified)
    assert isinstance(contender, two_factor.TwoFactorError), contender
    assert waited


@pytest.mark.django_db(transaction=True)
def test_setting_up_in_two_tabs_at_once_confirms_one_app(doctor):
    """The pending device is locked: without the lock both tabs confirm it and the second
    replaces the first's recovery codes after they were shown."""
    from django.db import connection

    device = TOTPDevice.objects.create(user=doctor, name="app", confirmed=False)
    now = code(device)
    connection.close()

    def confirm():
        return two_factor.confirm_enrolment(request_for(doctor), code=now)

    holder, contender, waited = contend(confirm, confirm, pause=(two_factor, "_refusal"))
    assert len(holder) == 10
    assert isinstance(contender, two_factor.TwoFactorError), contender
    assert waited
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(holder)


def broken_audit(**kwargs):
    raise RuntimeError("the audit log is unreachable")


def test_new_recovery_codes_that_cannot_be_audited_keep_the_old_ones(doctor, monkeypatch):
    """All or nothing: the old codes are not thrown away for new ones nobody will see."""
    device = StaticDevice.objects.create(user=doctor, name="codes", confirmed=True)
    StaticToken.objects.create(device=device, token="keepme22")
    monkeypatch.setattr(two_factor, "_audit", broken_audit)
    with pytest.raises(RuntimeError):
        two_factor.renew_recovery_codes(request_for(doctor))
    assert list(StaticToken.objects.values_list("token", flat=True)) == ["keepme22"]


def test_a_reset_that_cannot_be_audited_removes_nothing(doctor, clinic_admin, monkeypatch):
    """A reset is never done without its audit entry."""
    TOTPDevice.objects.create(user=doctor, name="app", confirmed=True)
    monkeypatch.setattr(two_factor, "_audit", broken_audit)
    with pytest.raises(RuntimeError):
        two_factor.reset(account=doctor, by=Actor(user=clinic_admin, role=Role.ADMIN))
    assert TOTPDevice.objects.filter(user=doctor).exists()


def test_turning_off_that_cannot_be_audited_keeps_it_on(patient, monkeypatch):
    device = TOTPDevice.objects.create(user=patient, name="app", confirmed=True)
    monkeypatch.setattr(two_factor, "_audit", broken_audit)
    with pytest.raises(RuntimeError):
        two_factor.turn_off(request_for(patient), code=code(device))
    assert TOTPDevice.objects.filter(user=patient).exists()


@pytest.mark.django_db(transaction=True)
def test_turning_off_twice_at_once_turns_it_off_once(patient):
    """The device row is locked: without the lock the second request checks the same code
    against the device as it was, passes, writes the deleted device back and audits a second
    'turned off'."""
    from django.db import connection

    device = TOTPDevice.objects.create(user=patient, name="app", confirmed=True)
    now = code(device)
    connection.close()

    def off():
        return two_factor.turn_off(request_for(patient), code=now)

    holder, contender, waited = contend(off, off, pause=(two_factor, "_refusal"))
    assert holder is None
    assert isinstance(contender, two_factor.TwoFactorError), contender
    assert waited
    assert not TOTPDevice.objects.filter(user=patient).exists()
    assert len(security_entries(details__two_factor="turned off")) == 1
