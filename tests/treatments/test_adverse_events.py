"""Adverse events: the taxonomy; one of a type the clinic's settings name alerts the treating
doctor through the outbox (within a minute, retried while the mail server is down, never a
failed page) and stays on their home page until it is resolved and they have acknowledged it."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from messaging import sending
from messaging.models import Message, MessageStatus
from tests.messaging.realparts import SMTPServer, free_port
from tests.messaging.test_outbox_real import override_email
from tests.treatments.conftest import as_doctor, chart_session, make_plan
from treatments import alerts, services
from treatments.models import AdverseEvent, AdverseEventType, default_alerting_types


def event_data(type_="dvt", **changes) -> dict:
    return {
        "type": type_,
        "onset_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "severity": "severe",
        "region": "L-calf-posterior",
        "management": "Duplex scan booked today.",
        "follow_up_needed": "on",
        "resolved_on": "",
        **changes,
    }


def report(client, plan, data):
    url = reverse("treatments:event_create", args=[plan.patient_id, plan.pk])
    return client.post(url, data)


def test_the_default_alerting_types_are_those_of_the_issue_and_those_that_alerted_before():
    assert set(default_alerting_types()) == {
        "thrombophlebitis", "suspected_dvt", "dvt", "allergic", "ulcer", "visual_neuro",
        "pe", "infection",
    }  # fmt: skip
    assert len(AdverseEventType.choices) == 13


@pytest.mark.parametrize("type_", default_alerting_types())
def test_a_serious_event_emails_the_treating_doctor_through_the_outbox(
    client, doctor, other_doctor, record, type_
):
    plan = make_plan(record, other_doctor)
    client.force_login(doctor)  # a colleague records it; the treating doctor is told
    assert report(client, plan, event_data(type_)).status_code == 302
    assert mail.outbox == []  # queued with the event, sent by the dispatcher
    assert sending.send_batch(10)["sent"] == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [other_doctor.email]
    assert record.legal_last_name not in mail.outbox[0].body
    assert AdverseEvent.objects.get().alerted_at is not None


def test_a_common_event_sends_no_email(client, doctor, plan):
    client.force_login(doctor)
    report(client, plan, event_data("bruising", severity="mild"))
    sending.send_batch(10)
    assert mail.outbox == []
    assert not Message.objects.exists()
    assert AdverseEvent.objects.get().follow_up_needed


def home_of(client) -> str:
    return client.get(reverse("doctor_home")).content.decode()


def test_a_serious_event_shows_on_the_doctors_home_until_resolved_and_seen(client, doctor, plan):
    chart = chart_session(plan, doctor)
    client.force_login(doctor)
    report(client, plan, event_data("pe", chart=chart.pk))
    event = AdverseEvent.objects.get()
    home = home_of(client)
    assert "Serious adverse events to follow up" in home
    assert "Pulmonary embolism" in home and "alert email on its way" in home
    url = reverse("treatments:event", args=[plan.patient_id, event.pk])
    response = client.post(url, event_data("pe", resolved_on=timezone.localdate().isoformat()))
    assert response.status_code == 302
    assert "Pulmonary embolism" in home_of(client)  # resolved, but not acknowledged yet
    seen = reverse("treatments:event_acknowledge", args=[plan.patient_id, event.pk])
    assert client.post(seen).status_code == 302
    assert "Pulmonary embolism" not in home_of(client)
    event.refresh_from_db()
    assert event.acknowledged_by == doctor


def test_acknowledged_before_it_went_out_the_alert_is_withdrawn(client, doctor, plan):
    client.force_login(doctor)
    report(client, plan, event_data("dvt"))
    event = AdverseEvent.objects.get()
    client.post(reverse("treatments:event_acknowledge", args=[plan.patient_id, event.pk]))
    assert "Deep vein thrombosis" in home_of(client)  # still unresolved
    assert sending.send_batch(10)["sent"] == 0
    assert mail.outbox == []
    assert Message.objects.get().status == MessageStatus.CANCELLED


def test_only_the_treating_doctor_acknowledges(client, doctor, other_doctor, front_desk, plan):
    client.force_login(doctor)
    report(client, plan, event_data("dvt"))
    event = AdverseEvent.objects.get()
    seen = reverse("treatments:event_acknowledge", args=[plan.patient_id, event.pk])
    client.force_login(other_doctor)
    response = client.post(seen, follow=True)
    assert "Only the treating doctor" in response.content.decode()
    client.force_login(front_desk)
    assert client.post(seen).status_code == 403
    assert client.get(seen).status_code in (403, 405)
    event.refresh_from_db()
    assert event.acknowledged_at is None
    with pytest.raises(services.TreatmentError):
        services.acknowledge_adverse_event(event_id=event.pk, by=as_doctor(other_doctor))


def test_with_the_mail_server_down_the_event_is_saved_and_the_alert_arrives_later(
    client, doctor, other_doctor, record
):
    """A real SMTP server on loopback: first not listening, then up."""
    plan = make_plan(record, other_doctor)
    client.force_login(doctor)
    port = free_port()
    with override_email(port):
        assert report(client, plan, event_data("dvt")).status_code == 302  # never a 500
        assert sending.send_batch(10)["retry"] == 1
    alert = Message.objects.get(kind=alerts.AlertKind.SERIOUS_EVENT)
    assert alert.status == MessageStatus.PENDING and alert.last_error
    Message.objects.filter(pk=alert.pk).update(due_at=timezone.now())  # its next try is due
    with SMTPServer(port=port) as server, override_email(port):
        assert sending.send_batch(10)["sent"] == 1
        assert sending.send_batch(10)["sent"] == 0
    assert server.mailbox.count() == 1
    assert AdverseEvent.objects.get().alerted_at is not None
    client.force_login(other_doctor)
    assert "alert emailed" in home_of(client)


def test_a_colleagues_home_does_not_show_it(client, doctor, other_doctor, plan):
    client.force_login(doctor)
    report(client, plan, event_data("dvt"))
    client.force_login(other_doctor)
    assert "Deep vein thrombosis" not in client.get(reverse("doctor_home")).content.decode()


def test_it_refuses_a_resolution_before_the_onset_and_an_unknown_area(client, doctor, plan):
    client.force_login(doctor)
    today = timezone.localdate()
    bad = event_data(
        onset_on=today.isoformat(), resolved_on=(today - timedelta(days=3)).isoformat()
    )
    assert "resolve before it began" in report(client, plan, bad).content.decode()
    assert "does not exist" in report(client, plan, event_data(region="L-wing")).content.decode()
    assert not AdverseEvent.objects.exists()
    assert not Message.objects.exists()


def test_a_double_posted_event_is_saved_and_emailed_once(client, doctor, plan):
    client.force_login(doctor)
    data = event_data(form_token="a0d1b6c2-1e3f-4a5b-8c7d-9e0f1a2b3c4d")
    report(client, plan, data)
    report(client, plan, data)
    sending.send_batch(10)
    assert AdverseEvent.objects.count() == 1
    assert len(mail.outbox) == 1
