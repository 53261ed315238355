"""Issue 13, point 5: the adverse events that alert are a setting; follow-ups are dated entries
(what was done, outcome) on an open event; a doctor closes an event, and who and when is kept."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from goodskin.actors import Actor
from goodskin.roles import Role
from messaging.models import Message
from patients.models import AuditEntry
from tests.concurrency import contend
from tests.factories import PatientFactory, screen
from tests.treatments.conftest import as_doctor, make_plan
from tests.treatments.test_adverse_events import event_data, home_of, report
from treatments import services
from treatments.admin import ClinicSettingsForm
from treatments.models import AdverseEvent, AdverseEventFollowUp, ClinicSettings
from treatments.selectors import get_clinic_settings

TODAY = timezone.localdate
committing = pytest.mark.django_db(transaction=True)


def open_event(plan, doctor, *, type_="thrombophlebitis", days_ago=10) -> AdverseEvent:
    return services.report_adverse_event(
        plan=plan,
        data={
            "type": type_,
            "onset_on": TODAY() - timedelta(days=days_ago),
            "severity": "moderate",
        },
        by=as_doctor(doctor),
    )


def follow_up_data(on, action="Compression and NSAIDs", outcome="Less tender", **changes):
    return {
        "follow_up-on": on.isoformat(),
        "follow_up-action": action,
        "follow_up-outcome": outcome,
        **changes,
    }


def close_data(on, outcome="Resolved with compression"):
    return {"close-resolved_on": on.isoformat(), "close-outcome": outcome}


def url(name, event, patient_pk=None):
    return reverse(f"treatments:{name}", args=[patient_pk or event.plan.patient_id, event.pk])


# --- which events alert ---------------------------------------------------------------------


def test_it_alerts_on_thrombophlebitis_by_default(client, doctor, plan):
    client.force_login(doctor)
    assert report(client, plan, event_data("thrombophlebitis")).status_code == 302
    assert Message.objects.filter(topic_id=AdverseEvent.objects.get().pk).count() == 1
    assert "Superficial thrombophlebitis" in home_of(client)


def test_it_alerts_on_a_suspected_dvt_by_default(client, doctor, plan):
    client.force_login(doctor)
    report(client, plan, event_data("suspected_dvt"))
    assert Message.objects.count() == 1
    assert "Suspected deep vein thrombosis" in home_of(client)


def test_a_type_taken_off_the_setting_no_longer_alerts(client, doctor, plan):
    clinic = get_clinic_settings()
    clinic.alerting_event_types.remove("thrombophlebitis")
    clinic.save()
    client.force_login(doctor)
    assert report(client, plan, event_data("thrombophlebitis")).status_code == 302
    assert AdverseEvent.objects.get().alerted_at is None
    assert not Message.objects.exists()
    assert "Superficial thrombophlebitis" not in home_of(client)


def test_a_type_added_to_the_setting_alerts(client, doctor, plan):
    clinic = get_clinic_settings()
    clinic.alerting_event_types.append("trapped_blood")
    clinic.save()
    client.force_login(doctor)
    report(client, plan, event_data("trapped_blood"))
    assert Message.objects.count() == 1
    assert "Trapped blood" in home_of(client)


def test_an_alert_already_sent_stays_on_the_home_when_its_type_is_taken_off(client, doctor, plan):
    client.force_login(doctor)
    report(client, plan, event_data("thrombophlebitis"))
    ClinicSettings.objects.update(alerting_event_types=["dvt"])
    assert "Superficial thrombophlebitis" in home_of(client)


def test_the_event_page_names_the_types_that_alert(client, doctor, plan):
    ClinicSettings.objects.all().delete()
    get_clinic_settings()
    ClinicSettings.objects.update(alerting_event_types=["dvt", "thrombophlebitis"])
    client.force_login(doctor)
    page = client.get(reverse("treatments:event_create", args=[plan.patient_id, plan.pk]))
    text = page.content.decode()
    assert "Superficial thrombophlebitis, Deep vein thrombosis" in text
    assert "Pulmonary embolism" not in text.split("<form")[0]


def test_the_admin_form_keeps_only_known_types(db):
    clinic = get_clinic_settings()
    form = ClinicSettingsForm({"alerting_event_types": ["dvt", "ulcer", "dvt"]}, instance=clinic)
    assert form.is_valid(), form.errors
    assert form.save().alerting_event_types == ["dvt", "ulcer"]
    bad = ClinicSettingsForm({"alerting_event_types": ["dvt", "sunburn"]}, instance=clinic)
    assert not bad.is_valid()
    assert "alerting_event_types" in bad.errors


def test_the_data_migration_sets_the_defaults_on_the_existing_row(db):
    ClinicSettings.objects.all().delete()
    ClinicSettings.objects.create(alerting_event_types=[])
    migration = importlib.import_module("treatments.migrations.0006_adverse_event_follow_ups")
    migration.default_alerting_types(apps, None)
    types = set(ClinicSettings.objects.get().alerting_event_types)
    assert {"thrombophlebitis", "suspected_dvt", "dvt", "allergic", "ulcer"} <= types
    assert "visual_neuro" in types and "bruising" not in types


# --- follow-ups -----------------------------------------------------------------------------


def test_follow_ups_are_listed_in_date_order(client, doctor, plan):
    event = open_event(plan, doctor)
    client.force_login(doctor)
    for days_ago, action in ((2, "Third visit"), (8, "First visit"), (5, "Second visit")):
        response = client.post(
            url("event_follow_up", event),
            follow_up_data(TODAY() - timedelta(days=days_ago), action),
        )
        assert response.status_code == 302
    page = client.get(url("event", event)).content.decode()
    positions = [page.index(a) for a in ("First visit", "Second visit", "Third visit")]
    assert positions == sorted(positions)
    assert [f.action for f in AdverseEventFollowUp.objects.all()] == [
        "First visit", "Second visit", "Third visit"
    ]  # fmt: skip
    assert AdverseEventFollowUp.objects.filter(by=doctor).count() == 3


def test_a_follow_up_is_audited(client, doctor, plan):
    event = open_event(plan, doctor)
    client.force_login(doctor)
    client.post(url("event_follow_up", event), follow_up_data(TODAY()))
    entry = AuditEntry.objects.filter(action="create", subject=f"adverse event:{event.pk}")
    entry = entry.order_by("pk").last()
    assert entry.details["follow_up"] == AdverseEventFollowUp.objects.get().pk
    assert "NSAIDs" not in str(entry.details)  # clinical text stays out of the audit trail


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"days_before_onset": 1}, "before the event began"),
        ({"action": "   "}, "This field is required"),
        ({"outcome": ""}, "This field is required"),
        ({"days_after_today": 1}, "can&#x27;t be in the future"),
        ({"on": "31/31/2025"}, "Enter a valid date"),
    ],
)
def test_a_bad_follow_up_gets_a_message_and_saves_nothing(client, doctor, plan, changes, message):
    event = open_event(plan, doctor, days_ago=10)
    on = TODAY()
    if "days_before_onset" in changes:
        on = event.onset_on - timedelta(days=changes.pop("days_before_onset"))
    if "days_after_today" in changes:
        on = TODAY() + timedelta(days=changes.pop("days_after_today"))
    data = follow_up_data(on, **{f"follow_up-{k}": v for k, v in changes.items()})
    client.force_login(doctor)
    response = client.post(url("event_follow_up", event), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AdverseEventFollowUp.objects.exists()


def test_a_closed_event_takes_no_follow_up(client, doctor, plan):
    event = open_event(plan, doctor)
    services.close_adverse_event(
        event=event, resolved_on=TODAY(), outcome="Gone", by=as_doctor(doctor)
    )
    client.force_login(doctor)
    response = client.post(url("event_follow_up", event), follow_up_data(TODAY()))
    assert response.status_code == 200
    assert "This event is closed" in response.content.decode()
    assert not AdverseEventFollowUp.objects.exists()
    assert "Add a follow-up" not in client.get(url("event", event)).content.decode()


def test_a_double_posted_follow_up_is_saved_once(client, doctor, plan):
    event = open_event(plan, doctor)
    client.force_login(doctor)
    data = follow_up_data(
        TODAY(), **{"follow_up-form_token": "b0d1b6c2-1e3f-4a5b-8c7d-9e0f1a2b3c4d"}
    )
    client.post(url("event_follow_up", event), data)
    response = client.post(url("event_follow_up", event), data, follow=True)
    assert "already saved" in response.content.decode()
    assert AdverseEventFollowUp.objects.count() == 1


# --- closing --------------------------------------------------------------------------------


def test_a_doctor_closes_an_event_and_who_and_when_is_kept(client, doctor, other_doctor, plan):
    event = open_event(plan, doctor, type_="dvt")
    client.force_login(other_doctor)  # any doctor of the clinic may close it
    response = client.post(url("event_close", event), close_data(TODAY(), "Duplex clear"))
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.resolved_on == TODAY() and event.outcome == "Duplex clear"
    assert event.closed_by == other_doctor and event.closed_at is not None
    page = client.get(url("event", event)).content.decode()
    assert "Closed by" in page and "Duplex clear" in page
    assert "Close the event" not in page
    client.force_login(doctor)
    assert "Deep vein thrombosis" in home_of(client)  # closed, not yet seen by its doctor


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (lambda event: close_data(event.onset_on - timedelta(days=1)), "resolve before it began"),
        (lambda event: close_data(TODAY(), "  "), "This field is required"),
        (lambda event: close_data(TODAY() + timedelta(days=2)), "in the future"),
    ],
)
def test_a_bad_close_gets_a_message_and_changes_nothing(client, doctor, plan, data, message):
    event = open_event(plan, doctor)
    client.force_login(doctor)
    response = client.post(url("event_close", event), data(event))
    assert response.status_code == 200
    assert message in response.content.decode()
    event.refresh_from_db()
    assert event.resolved_on is None and event.closed_by is None


def test_an_event_is_closed_once(doctor, other_doctor, plan):
    event = open_event(plan, doctor)
    services.close_adverse_event(
        event=event, resolved_on=TODAY(), outcome="Gone", by=as_doctor(doctor)
    )
    with pytest.raises(services.TreatmentError, match="already closed"):
        services.close_adverse_event(
            event=event, resolved_on=TODAY(), outcome="Mine", by=as_doctor(other_doctor)
        )
    event.refresh_from_db()
    assert event.closed_by == doctor and event.outcome == "Gone"


def test_resolving_on_the_edit_page_records_who_closed_it_and_clearing_reopens(
    client, doctor, plan
):
    client.force_login(doctor)
    report(client, plan, event_data("pe"))
    event = AdverseEvent.objects.get()
    client.post(url("event", event), event_data("pe", resolved_on=TODAY().isoformat()))
    event.refresh_from_db()
    assert event.closed_by == doctor and event.closed_at is not None
    client.post(url("event", event), event_data("pe", resolved_on=""))
    event.refresh_from_db()
    assert event.resolved_on is None and event.closed_by is None and event.closed_at is None


# --- who may ------------------------------------------------------------------------------


def test_only_doctors_add_follow_ups_or_close(client, doctor, front_desk, plan):
    event = open_event(plan, doctor)
    client.force_login(front_desk)
    assert client.post(url("event_follow_up", event), follow_up_data(TODAY())).status_code == 403
    assert client.post(url("event_close", event), close_data(TODAY())).status_code == 403
    desk = Actor(user=front_desk, role=Role.FRONT_DESK, ip="127.0.0.1")
    with pytest.raises(services.TreatmentError):
        services.add_follow_up(
            event=event, data={"on": TODAY(), "action": "a", "outcome": "b"}, by=desk
        )
    with pytest.raises(services.TreatmentError):
        services.close_adverse_event(event=event, resolved_on=TODAY(), outcome="x", by=desk)
    event.refresh_from_db()
    assert not AdverseEventFollowUp.objects.exists() and event.resolved_on is None


def test_another_patients_event_is_not_found(client, doctor, plan):
    event = open_event(plan, doctor)
    other = PatientFactory()
    screen(other, sclerosant_allergy="no", untreated_varicose="no")
    make_plan(other, doctor)
    client.force_login(doctor)
    assert client.get(url("event", event, other.pk)).status_code == 404
    assert (
        client.post(url("event_follow_up", event, other.pk), follow_up_data(TODAY())).status_code
        == 404
    )
    assert client.post(url("event_close", event, other.pk), close_data(TODAY())).status_code == 404
    event.refresh_from_db()
    assert not AdverseEventFollowUp.objects.exists() and event.resolved_on is None


# --- the row locks, with two connections ------------------------------------------------


@committing
def test_a_follow_up_racing_a_close_waits_and_is_refused(plan, doctor, other_doctor):
    # add_follow_up's row lock: a close committed meanwhile is seen, so no entry lands on a
    # closed event. Without it the insert (a key-share lock only) goes through.
    event = open_event(plan, doctor)
    holder, contender, waited = contend(
        lambda: AdverseEvent.objects.filter(pk=event.pk).update(  # a close, not yet committed
            resolved_on=TODAY(), closed_at=timezone.now(), closed_by=other_doctor
        ),
        lambda: services.add_follow_up(
            event=event,
            data={"on": TODAY(), "action": "Phoned", "outcome": "Better"},
            by=as_doctor(doctor),
        ),
    )
    assert holder == 1
    assert waited
    assert isinstance(contender, services.TreatmentError), contender
    assert not AdverseEventFollowUp.objects.exists()


@committing
def test_two_doctors_closing_at_once_close_it_once(plan, doctor, other_doctor):
    # close_adverse_event's row lock: the second waits, finds it closed and changes nothing;
    # without it the second overwrites who closed it and how it ended.
    event = open_event(plan, doctor)
    holder, contender, waited = contend(
        lambda: AdverseEvent.objects.filter(pk=event.pk).update(
            resolved_on=TODAY(), outcome="First", closed_at=timezone.now(), closed_by=doctor
        ),
        lambda: services.close_adverse_event(
            event=event, resolved_on=TODAY(), outcome="Second", by=as_doctor(other_doctor)
        ),
    )
    assert holder == 1 and waited
    assert isinstance(contender, services.TreatmentError), contender
    event.refresh_from_db()
    assert (event.outcome, event.closed_by) == ("First", doctor)
