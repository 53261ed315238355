"""Adverse events: the taxonomy, serious ones email the treating doctor at once and stay on
their home page until resolved."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.treatments.conftest import chart_session, make_plan
from treatments.models import SERIOUS_TYPES, AdverseEvent, AdverseEventType


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


def test_the_serious_types_are_those_of_the_issue():
    assert {str(t) for t in SERIOUS_TYPES} == {
        "allergic", "dvt", "pe", "ulcer", "visual_neuro", "infection"
    }  # fmt: skip
    assert len(AdverseEventType.choices) == 12


@pytest.mark.parametrize("type_", sorted(SERIOUS_TYPES))
def test_a_serious_event_emails_the_treating_doctor_at_once(
    client, doctor, other_doctor, record, type_
):
    plan = make_plan(record, other_doctor)
    client.force_login(doctor)  # a colleague records it; the treating doctor is told
    assert report(client, plan, event_data(type_)).status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [other_doctor.email]
    assert record.legal_last_name not in mail.outbox[0].body
    assert AdverseEvent.objects.get().alerted_at is not None


def test_a_common_event_sends_no_email(client, doctor, plan):
    client.force_login(doctor)
    report(client, plan, event_data("bruising", severity="mild"))
    assert mail.outbox == []
    assert AdverseEvent.objects.get().follow_up_needed


def test_a_serious_event_shows_on_the_doctors_home_until_resolved(client, doctor, plan):
    chart = chart_session(plan, doctor)
    client.force_login(doctor)
    report(client, plan, event_data("pe", chart=chart.pk))
    event = AdverseEvent.objects.get()
    home = client.get(reverse("doctor_home")).content.decode()
    assert "Serious adverse events to follow up" in home
    assert "Pulmonary embolism" in home
    url = reverse("treatments:event", args=[plan.patient_id, event.pk])
    response = client.post(url, event_data("pe", resolved_on=timezone.localdate().isoformat()))
    assert response.status_code == 302
    assert "Pulmonary embolism" not in client.get(reverse("doctor_home")).content.decode()


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
    assert mail.outbox == []


def test_a_double_posted_event_is_saved_and_emailed_once(client, doctor, plan):
    client.force_login(doctor)
    data = event_data(form_token="a0d1b6c2-1e3f-4a5b-8c7d-9e0f1a2b3c4d")
    report(client, plan, data)
    report(client, plan, data)
    assert AdverseEvent.objects.count() == 1
    assert len(mail.outbox) == 1
