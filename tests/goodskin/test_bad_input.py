"""The inputs the outside testers sent (issue 14, point 7): each answers a clear refusal, never
a 500, and nothing is stored that should have been refused."""

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from patients.models import Patient, PortalInvitation
from scheduling import services
from scheduling.models import Appointment, Kind, TimeOff
from tests.factories import PatientFactory
from tests.scheduling.conftest import MONDAY, at, desk_actor

TUESDAY = MONDAY + timedelta(days=1)
EXTREMES = ["0001-01-01", "9999-12-31"]


@pytest.fixture
def visit(now, hours, front_desk, doctor, record):
    return services.book_appointment(
        patient=record,
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(TUESDAY, 9),
        by=desk_actor(front_desk),
    )


def pages_with_a_date(visit, plan, day: str) -> list[tuple[str, str, dict]]:
    """(method, url, data) of every page the testers sent a date to."""
    return [
        ("get", reverse("scheduling:day"), {"date": day}),
        ("get", reverse("scheduling:week"), {"date": day}),
        (
            "get",
            reverse("scheduling:slots"),
            {"kind": "consultation", "first_day": day, "last_day": day},
        ),
        (
            "post",
            reverse("scheduling:book", args=[visit.patient.pk]),
            {"kind": "consultation", "doctor": visit.doctor_id, "date": day, "time": "09:00"},
        ),
        (
            "post",
            reverse("scheduling:move", args=[visit.pk]),
            {"date": day, "time": "09:00", "version": visit.version},
        ),
        (
            "post",
            reverse("scheduling:time_off"),
            {"doctor": visit.doctor_id, "date": day, "starts": "09:00", "ends": "10:00"},
        ),
        (
            "post",
            reverse("scheduling:book_series", args=[plan.pk]),
            {"date_1": day, "time_1": "09:00", "action": "book"},
        ),
    ]


@pytest.mark.parametrize("day", EXTREMES)
def test_it_answers_a_date_in_year_1_or_9999_without_a_500(client, visit, plan, front_desk, day):
    client.force_login(front_desk)
    appointments, blocks = Appointment.objects.count(), TimeOff.objects.count()
    for method, url, data in pages_with_a_date(visit, plan, day):
        response = getattr(client, method)(url, data)
        assert response.status_code in (200, 302), (url, response.status_code)
    assert (Appointment.objects.count(), TimeOff.objects.count()) == (appointments, blocks)


@pytest.mark.parametrize("day", EXTREMES)
@pytest.mark.parametrize("page", ["scheduling:day", "scheduling:my_day"])
def test_it_shows_today_for_a_day_page_link_out_of_range(client, now, hours, doctor, page, day):
    client.force_login(doctor)
    response = client.get(reverse(page), {"date": day})
    assert response.context["day"] == MONDAY


def test_it_refuses_time_off_on_the_last_day_of_9999_with_a_message(client, now, hours, doctor):
    client.force_login(doctor)
    data = {"doctor": doctor.pk, "date": "9999-12-31", "starts": "09:00", "ends": "10:00"}
    response = client.post(reverse("scheduling:time_off"), data)
    assert response.status_code == 200
    assert "Check the year" in response.content.decode()
    assert not TimeOff.objects.exists()


@pytest.mark.parametrize(
    "path", ["/portal/calendar/abc%00def.ics", "/patients/?q=a%00b", "/login/?next=%00"]
)
def test_it_answers_a_nul_in_a_path_or_parameter_with_400(client, db, path):
    assert client.get(path).status_code == 400


def test_it_refuses_a_nul_in_a_posted_field_with_a_message(client, front_desk):
    client.force_login(front_desk)
    response = client.post(reverse("patients:create"), {"legal_first_name": "A\x00"})
    assert response.status_code == 200
    assert "legal_first_name" in response.context["form"].errors
    assert not Patient.objects.exists()


def test_it_answers_a_ten_thousand_character_username_with_the_login_error(client, db):
    response = client.post(reverse("login"), {"username": "a" * 10_000, "password": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.parametrize("target", ["foo", "foo\nbar", "https://evil.example/", "//evil.example"])
def test_it_goes_back_to_the_appointment_for_a_next_it_cannot_use(client, visit, doctor, target):
    client.force_login(doctor)
    url = reverse("scheduling:status", args=[visit.pk])
    response = client.post(url, {"status": "checked_in", "version": visit.version, "next": target})
    assert response.status_code == 302
    assert response.url == reverse("scheduling:appointment", args=[visit.pk])


@pytest.mark.parametrize("version", ["abc", "-1", "0", "1e9", "", " 1", "99999999999"])
def test_it_refuses_a_portal_cancel_with_a_malformed_version(client, visit, version):
    visit.patient.portal_user = client_user = _portal_user(visit.patient)
    visit.patient.save(update_fields=["portal_user"])
    client.force_login(client_user)
    response = client.post(reverse("portal:cancel", args=[visit.pk]), {"version": version})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == "booked"


@pytest.mark.parametrize("version", ["abc", "-1", "1e9", "", "99999999999"])
def test_it_refuses_a_staff_cancel_with_a_malformed_version(client, visit, front_desk, version):
    client.force_login(front_desk)
    data = {"cancelled_by": "patient", "reason": "Ill", "version": version}
    response = client.post(reverse("scheduling:cancel", args=[visit.pk]), data)
    assert response.status_code == 200
    assert "This page is out of date" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == "booked"


def _portal_user(patient):
    from tests.factories import UserFactory

    return UserFactory(username=f"p{patient.pk}", role="patient")


REGISTRATION = {
    "legal_first_name": "Ana",
    "legal_last_name": "Silva",
    "date_of_birth": "1980-04-02",
    "sex": "female",
    "state": "OR",
    "reminder_channel": "email",
    "email": "ana@example.org",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("legal_first_name", "Ana\u202eavlis"),
        ("legal_last_name", "Sil\u2066va"),
        ("preferred_name", "A\u200fna"),
        ("legal_first_name", "Ana\tMaria"),
        ("notes", "x" * 5001),
        ("legal_first_name", "x" * 101),
        ("date_of_birth", "0001-01-01"),
        ("date_of_birth", "9999-12-31"),
    ],
)
def test_it_refuses_a_registration_it_should_not_store(client, front_desk, field, value):
    client.force_login(front_desk)
    response = client.post(reverse("patients:create"), {**REGISTRATION, field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Patient.objects.exists()


def test_it_registers_a_patient_once_on_a_double_click(client, front_desk):
    client.force_login(front_desk)
    # "Create anyway": without it the second post would stop at the possible duplicate.
    data = {**REGISTRATION, "form_token": str(uuid.uuid4()), "create_anyway": "1"}
    for _ in range(2):
        response = client.post(reverse("patients:create"), data)
        assert response.status_code == 302
    patient = Patient.objects.get()
    assert response.url == reverse("patients:detail", args=[patient.pk])


def test_it_sends_one_invitation_on_a_double_click(client, front_desk):
    patient = PatientFactory(email="ana@example.org")
    client.force_login(front_desk)
    token = str(uuid.uuid4())
    for _ in range(2):
        client.post(reverse("patients:invite", args=[patient.pk]), {"form_token": token})
    assert PortalInvitation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_it_blocks_time_once_on_a_double_click(client, now, hours, doctor):
    client.force_login(doctor)
    data = {
        "doctor": doctor.pk,
        "date": TUESDAY.isoformat(),
        "starts": "09:00",
        "ends": "10:00",
        "form_token": str(uuid.uuid4()),
    }
    for _ in range(2):
        assert client.post(reverse("scheduling:time_off"), data).status_code == 302
    assert TimeOff.objects.count() == 1


@pytest.mark.parametrize("version", ["abc", "-1", "1e9", "", "99999999999"])
def test_it_refuses_a_patient_edit_with_a_malformed_version(client, front_desk, version):
    patient = PatientFactory(legal_first_name="Ana")
    client.force_login(front_desk)
    data = {**REGISTRATION, "legal_first_name": "Anna", "version": version}
    response = client.post(reverse("patients:edit", args=[patient.pk]), data)
    assert response.status_code == 200
    assert "This page is out of date" in response.content.decode()
    patient.refresh_from_db()
    assert (patient.legal_first_name, patient.version) == ("Ana", 1)


# The SMS provider's delivery receipts (no login, signed): whatever arrives there, signed or
# not, answers a refusal or "nothing to do", never a 500, and changes no message.
RECEIPT_TOKEN = "bad-input-auth-token"
RECEIPT_SITE = "https://clinic.example.org"
HOSTILE_RECEIPTS = [
    {"MessageSid": "SM\x00" + "0" * 31, "MessageStatus": "delivered"},
    {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered\x00"},
    {"MessageSid": "x" * 100_000, "MessageStatus": "failed", "ErrorCode": "9" * 10_000},
    {"MessageSid": "' OR 1=1 --", "MessageStatus": "failed", "ErrorCode": "<script>"},
    {"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed", "ErrorCode": "\x00"},
    {"MessageSid": "SM" + "0" * 32, "MessageStatus": "ünïcödé", "ErrorCode": "٣٠٠٠٦"},
    {"MessageStatus": "delivered"},
    {"Unexpected": "field"},
]


def signed(params: dict[str, str]) -> str:
    from twilio.request_validator import RequestValidator

    url = RECEIPT_SITE + reverse("messaging:sms_status")
    return RequestValidator(RECEIPT_TOKEN).compute_signature(url, params)


@pytest.fixture
def receipts_on(settings):
    settings.TWILIO_AUTH_TOKEN = RECEIPT_TOKEN
    settings.SITE_URL = RECEIPT_SITE
    return reverse("messaging:sms_status")


@pytest.mark.parametrize("params", HOSTILE_RECEIPTS)
@pytest.mark.parametrize("sign", [True, False])
def test_a_hostile_delivery_receipt_never_answers_a_500(client, db, receipts_on, params, sign):
    from urllib.parse import urlencode

    from messaging.models import Message

    signature = signed(params) if sign else "forged"
    response = client.post(
        receipts_on,
        urlencode(params),
        "application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == (204 if sign else 403)
    assert not Message.objects.exclude(delivery_status="").exists()


@pytest.mark.parametrize(
    ("body", "content_type", "headers"),
    [
        (b"\xff\xfe\x00garbage=\xc3\x28", "application/x-www-form-urlencoded", {}),
        (b'{"MessageSid": "SM1"}', "application/json", {}),
        (b"--x\r\nbroken multipart", "multipart/form-data; boundary=x", {}),
        (
            b"MessageSid=SM1",
            "application/x-www-form-urlencoded",
            {"X-Twilio-Signature": "é" * 5000},
        ),
        (b"a=1&" * 5000, "application/x-www-form-urlencoded", {"X-Twilio-Signature": "x"}),
    ],
)
def test_a_malformed_delivery_receipt_is_refused(
    client, db, receipts_on, body, content_type, headers
):
    response = client.post(receipts_on, body, content_type, headers=headers)
    assert response.status_code in (400, 403)
