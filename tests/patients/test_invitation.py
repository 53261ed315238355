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


def test_a_mail_server_that_is_down_sends_nothing_and_says_so(client, front_desk, settings):
    """The link never left: the page says so, and the invitation doesn't show as sent."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    patient = PatientFactory()
    client.force_login(front_desk)
    response = client.post(reverse("patients:invite", args=[patient.pk]), follow=True)
    page = response.content.decode()
    assert "The invitation email could not be sent" in page
    assert "Expired" in page and "Sent to" not in page
    assert not patient.invitations.get().is_usable()
