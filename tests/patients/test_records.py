from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import AuditEntry, Patient
from tests.factories import PatientFactory

VALID = {
    "legal_first_name": "Rosa",
    "legal_last_name": "Álvarez",
    "preferred_name": "",
    "date_of_birth": "1980-05-17",
    "sex": "female",
    "phone": "(503) 555-0199",
    "email": "Rosa.Alvarez@Example.org",
    "address_line1": "12 Oak St",
    "city": "Portland",
    "state": "or",
    "postal_code": "97201",
    "reminder_channel": "sms",
    "consent_sms": "on",
}


def post_new(client, **changes):
    return client.post(reverse("patients:create"), {**VALID, **changes})


def test_it_registers_a_patient_with_e164_phone_and_dated_consents(client, front_desk):
    client.force_login(front_desk)
    response = post_new(client)
    patient = Patient.objects.get()
    assert response.url == reverse("patients:detail", args=[patient.pk])
    assert str(patient.phone) == "+15035550199"
    assert patient.email == "rosa.alvarez@example.org"
    assert patient.state == "OR"
    assert patient.consent_sms and not patient.consent_email
    assert patient.consent_sms_on == timezone.localdate()
    assert patient.created_by == front_desk
    assert patient.search_name == "rosa alvarez"


def test_it_lets_doctors_register_patients_too(client, doctor):
    client.force_login(doctor)
    post_new(client)
    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", "2999-01-01", "can&#x27;t be in the future"),
        ("date_of_birth", "2001-02-30", "Enter a valid date."),
        ("date_of_birth", "1850-02-03", "too long ago"),
        ("phone", "12", "Enter a valid phone number"),
        ("email", "rosa@", "Enter a valid email address."),
        ("legal_first_name", "    ", "This field is required."),
        ("legal_last_name", "", "This field is required."),
        ("sex", "robot", "Select a valid choice."),
    ],
)
def test_it_refuses_bad_input_with_a_message_and_saves_nothing(
    client, front_desk, field, value, message
):
    client.force_login(front_desk)
    response = post_new(client, **{field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Patient.objects.count() == 0


def test_it_does_not_register_the_same_form_twice(client, front_desk):
    client.force_login(front_desk)
    post_new(client)
    again = post_new(client)
    assert again.status_code == 200
    assert "This may be a patient we already have" in again.content.decode()
    assert Patient.objects.count() == 1


def test_it_edits_a_record_and_keeps_the_change_in_the_audit(client, doctor):
    patient = PatientFactory(legal_first_name="Ann")
    client.force_login(doctor)
    form = client.get(reverse("patients:edit", args=[patient.pk])).context["form"]
    data = {**{k: v for k, v in form.initial.items() if v is not None}, "legal_first_name": "Anne"}
    data["phone"] = str(patient.phone)
    data.pop("emergency_contact_phone", None)
    response = client.post(reverse("patients:edit", args=[patient.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    patient.refresh_from_db()
    assert patient.legal_first_name == "Anne"
    assert patient.version == 2
    entry = AuditEntry.objects.filter(action="change").get()
    assert entry.details["fields"]["legal_first_name"] == ["Ann", "Anne"]


def edit_data(patient, **changes) -> dict:
    data = {
        "legal_first_name": patient.legal_first_name,
        "legal_last_name": patient.legal_last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "phone": str(patient.phone),
        "email": patient.email,
        "state": patient.state,
        "reminder_channel": patient.reminder_channel,
        "version": patient.version,
    }
    if patient.consent_email:
        data["consent_email"] = "on"
    return {**data, **changes}


def test_it_tells_the_second_editor_what_changed_instead_of_overwriting(client, front_desk, doctor):
    patient = PatientFactory(legal_last_name="Stone", city="Portland")
    opened = edit_data(patient)  # both open the form at version 1
    client.force_login(doctor)
    first = client.post(
        reverse("patients:edit", args=[patient.pk]), {**opened, "legal_last_name": "Stone-Baker"}
    )
    assert first.status_code == 302
    client.force_login(front_desk)
    second = client.post(
        reverse("patients:edit", args=[patient.pk]), {**opened, "email": "new@example.org"}
    )
    body = second.content.decode()
    assert second.status_code == 200
    assert "Someone else changed this record while you were editing it." in body
    assert "Stone-Baker" in body
    patient.refresh_from_db()
    assert patient.legal_last_name == "Stone-Baker"
    assert patient.email != "new@example.org"
    # Saving again, now against the new version, goes through.
    third = client.post(
        reverse("patients:edit", args=[patient.pk]),
        {**edit_data(patient), "email": "new@example.org"},
    )
    assert third.status_code == 302
    patient.refresh_from_db()
    assert patient.email == "new@example.org"


def test_it_records_the_day_a_consent_is_withdrawn(client, front_desk):
    patient = PatientFactory(consent_email=True)
    patient.consent_email_on = timezone.localdate() - timedelta(days=30)
    patient.save()
    client.force_login(front_desk)
    data = edit_data(patient)
    data.pop("consent_email")
    assert client.post(reverse("patients:edit", args=[patient.pk]), data).status_code == 302
    patient.refresh_from_db()
    assert patient.consent_email is False
    assert patient.consent_email_on == timezone.localdate()


def test_it_answers_404_for_a_record_that_does_not_exist(client, front_desk):
    client.force_login(front_desk)
    assert client.get(reverse("patients:detail", args=[999999])).status_code == 404
    assert client.post(reverse("patients:edit", args=[999999])).status_code == 404


def test_the_front_desk_chooses_reminders_and_aftercare_advice_separately(client, front_desk):
    client.force_login(front_desk)
    post_new(client, consent_aftercare="on")  # no "consent_reminders": unticked
    patient = Patient.objects.get()
    assert (patient.consent_reminders, patient.consent_aftercare) == (False, True)
    assert patient.consent_reminders_on == patient.consent_aftercare_on == timezone.localdate()
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert 'data-consent="reminders"><span class="badge text-bg-secondary">No' in page
    assert 'data-consent="aftercare"><span class="badge text-bg-success">Yes' in page
    form = client.get(reverse("patients:edit", args=[patient.pk])).content.decode()
    assert "Wants aftercare advice in the days after each session" in form
    assert "give them the printed aftercare sheet" in form
