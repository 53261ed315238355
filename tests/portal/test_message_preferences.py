"""The patient chooses in the portal which messages they get: appointment reminders and
aftercare advice separately, besides the channel, and is told the warning signs come anyway
(issue 13, point 8)."""

import pytest
from django.urls import reverse

from patients.models import AuditEntry
from tests.factories import PatientFactory


@pytest.fixture
def me(patient):
    return PatientFactory(portal_user=patient, email="rosa@example.org", consent_email=True)


def test_the_preferences_offer_reminders_and_aftercare_as_two_choices(client, patient, me):
    client.force_login(patient)
    page = client.get(reverse("portal:preferences")).content.decode()
    assert 'name="consent_reminders"' in page and 'name="consent_aftercare"' in page
    assert "Send me appointment reminders" in page
    assert "Send me aftercare advice in the days after each session" in page
    assert "one message with the warning signs to watch for" in page


def test_a_patient_turns_off_reminders_and_keeps_aftercare_advice(client, patient, me):
    client.force_login(patient)
    response = client.post(
        reverse("portal:preferences"),
        {
            "email": "rosa@example.org",
            "state": "OR",
            "reminder_channel": "email",
            "consent_email": "on",
            "consent_aftercare": "on",
            "version": me.version,
        },
    )
    assert response.status_code == 302
    me.refresh_from_db()
    assert (me.consent_reminders, me.consent_aftercare, me.consent_email) == (False, True, True)
    change = AuditEntry.objects.filter(patient=me, action="change").latest("at")
    assert change.details["fields"]["consent_reminders"] == ["True", "False"]
    record = client.get(reverse("portal:my_record")).content.decode()
    assert "Appointment reminders" in record and "Aftercare advice" in record
