from django.core import mail
from django.urls import reverse

from tests.factories import PatientFactory
from tests.portal.test_welcome import invite, open_account


def test_it_shows_the_invitation_as_sent_then_accepted(client, front_desk):
    patient = PatientFactory()
    link = invite(client, front_desk, patient)
    client.force_login(front_desk)
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Sent" in page
    client.logout()
    open_account(client, link)
    client.force_login(front_desk)
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Accepted" in page


def test_it_needs_an_email_address_to_invite(client, front_desk):
    patient = PatientFactory(email="")
    client.force_login(front_desk)
    response = client.post(reverse("patients:invite", args=[patient.pk]), follow=True)
    assert "Add the patient&#x27;s email address first." in response.content.decode()
    assert mail.outbox == []
