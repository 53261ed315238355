"""The guards of the serious adverse-event alert: each test commits and fails when the guard
it names is removed."""

import pytest
from django.utils import timezone

from messaging.models import Message
from patients.models import AuditEntry
from tests.concurrency import contend
from tests.treatments.conftest import as_doctor
from treatments import alerts, services
from treatments.models import AdverseEvent

committing = pytest.mark.django_db(transaction=True)


def serious(plan, doctor) -> AdverseEvent:
    return services.report_adverse_event(
        plan=plan,
        data={"type": "dvt", "onset_on": timezone.localdate(), "severity": "severe"},
        by=as_doctor(doctor),
    )


@committing
def test_an_event_whose_alert_cannot_be_queued_is_not_saved(plan, doctor, monkeypatch):
    # report_adverse_event's transaction: the event, its audit entry and its alert commit
    # together, so an event on record always has its alert on the way.
    def broken(event):
        raise RuntimeError("the outbox refused")

    monkeypatch.setattr(alerts, "serious_event_recorded", broken)
    audited = AuditEntry.objects.count()
    with pytest.raises(RuntimeError):
        serious(plan, doctor)
    assert not AdverseEvent.objects.exists()
    assert AuditEntry.objects.count() == audited
    assert not Message.objects.exists()


@committing
def test_seen_pressed_twice_at_once_is_recorded_once(plan, doctor):
    # acknowledge_adverse_event's row lock: the second press waits for the first and finds
    # the event acknowledged (one audit entry, the first time kept).
    event = serious(plan, doctor)
    first = timezone.now()
    audited = AuditEntry.objects.count()
    holder, contender, waited = contend(
        lambda: AdverseEvent.objects.filter(pk=event.pk).update(  # the first press
            acknowledged_at=first, acknowledged_by=doctor
        ),
        lambda: services.acknowledge_adverse_event(event_id=event.pk, by=as_doctor(doctor)),
    )
    assert holder == 1
    assert isinstance(contender, AdverseEvent), contender
    assert waited
    assert AuditEntry.objects.count() == audited
    event.refresh_from_db()
    assert event.acknowledged_at == first
