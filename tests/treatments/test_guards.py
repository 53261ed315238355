"""Every transaction and row lock in treatments/services.py (but the adverse-event report and
its alert, which are moving to the messaging outbox) is there for a reason: each test here
commits (two connections, two threads; see tests/concurrency.py) and fails when the guard it
names is removed."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from patients import audit
from patients.models import AuditEntry
from tests.concurrency import contend
from tests.factories import screen
from tests.treatments.conftest import (
    CONSULTATION,
    as_doctor,
    chart_session,
    make_consultation,
    make_plan,
)
from treatments import services
from treatments.models import (
    AdverseEvent,
    ChartAmendment,
    Clearance,
    Consultation,
    PlanStatus,
    SessionChart,
    TreatmentPlan,
)
from treatments.selectors import agent_settings, get_clinic_settings

committing = pytest.mark.django_db(transaction=True)
TODAY = timezone.localdate


def break_audit(monkeypatch) -> None:
    """The audit insert fails, as any statement can: what was written before it must go too."""

    def fail(**kwargs):
        raise DatabaseError("audit insert failed")

    monkeypatch.setattr(audit, "record", fail)


def _sign(chart, doctor):
    return lambda: services.sign_chart(chart=chart, by=as_doctor(doctor))


# --- record_consultation, create_plan -------------------------------------------------------


@committing
def test_a_consultation_is_not_saved_without_its_audit_entry(record, doctor, monkeypatch):
    # record_consultation's transaction: the findings and their audit entry commit together.
    data = {**CONSULTATION, "held_on": TODAY()}
    break_audit(monkeypatch)
    with pytest.raises(DatabaseError):
        services.record_consultation(
            patient=record, data=data, acknowledged=[], by=as_doctor(doctor)
        )
    assert not Consultation.objects.exists()


@committing
def test_a_plan_is_not_saved_without_its_audit_entry(record, doctor, monkeypatch):
    # create_plan's transaction, likewise.
    consultation = make_consultation(record, doctor)
    break_audit(monkeypatch)
    with pytest.raises(DatabaseError):
        make_plan(record, doctor, consultation=consultation)
    assert not TreatmentPlan.objects.exists()


# --- set_plan_status ------------------------------------------------------------------------


@committing
def test_a_plan_completed_while_it_is_being_stopped_stays_completed(record, doctor):
    # set_plan_status' plan lock and its transaction (the contender runs in autocommit): the
    # stop waits for the last session's chart and finds the plan completed.
    plan = make_plan(record, doctor, sessions=2)
    chart_session(plan, doctor, treated_on=TODAY() - timedelta(days=40))
    holder, contender, waited = contend(
        lambda: chart_session(plan, doctor, treated_on=TODAY() - timedelta(days=5)),
        lambda: services.set_plan_status(
            plan=plan, status=PlanStatus.STOPPED, reason="Moved away", by=as_doctor(doctor)
        ),
    )
    assert isinstance(holder, SessionChart), holder
    assert isinstance(contender, services.TreatmentError), contender
    assert waited
    plan.refresh_from_db()
    assert (plan.status, plan.stop_reason) == (PlanStatus.COMPLETED, "")


# --- record_session -------------------------------------------------------------------------


@committing
def test_two_doctors_charting_a_plan_at_once_chart_sessions_one_and_two(record, doctor):
    # _save_chart's plan lock and record_session's transaction: the second chart waits and
    # counts the first, instead of colliding with it as a second session one. The settings
    # rows are there first: made by the holder meanwhile, they would make the contender wait
    # on them instead, and hide a missing plan lock (the guard sweep found that).
    get_clinic_settings(), agent_settings()
    plan = make_plan(record, doctor)
    holder, contender, waited = contend(
        lambda: chart_session(plan, doctor), lambda: chart_session(plan, doctor)
    )
    assert isinstance(holder, SessionChart), holder
    assert isinstance(contender, SessionChart), contender
    assert waited
    assert (holder.number, contender.number) == (1, 2)


# --- sign_chart, change_chart_text, amend_treated_area --------------------------------------


@committing
def test_a_chart_signed_twice_at_once_keeps_the_first_signature(record, doctor):
    # sign_chart's lock and its transaction: the second press waits and is refused.
    chart = chart_session(make_plan(record, doctor), doctor, sign=False)
    holder, contender, waited = contend(_sign(chart, doctor), _sign(chart, doctor))
    assert holder is None, holder
    assert isinstance(contender, services.TreatmentError), contender
    assert waited
    signed = AuditEntry.objects.filter(subject=f"chart:{chart.pk}", details__signed=True)
    assert signed.count() == 1


@committing
def test_a_note_changed_while_the_chart_is_signed_becomes_an_amendment(record, doctor):
    # change_chart_text's lock and its transaction: the change waits for the signature and
    # then keeps the earlier text, instead of editing a signed chart in place.
    chart = chart_session(make_plan(record, doctor), doctor, sign=False)
    holder, contender, waited = contend(
        _sign(chart, doctor),
        lambda: services.change_chart_text(
            chart=chart,
            field="notes",
            new_text="Went very well",
            reason="Typo",
            by=as_doctor(doctor),
        ),
    )
    assert holder is None, holder
    assert isinstance(contender, ChartAmendment), contender
    assert waited
    assert (contender.old_text, contender.new_text) == ("Went well", "Went very well")


@committing
def test_an_area_corrected_while_the_chart_is_signed_becomes_an_amendment(record, doctor):
    # amend_treated_area's lock and its transaction: the correction waits for the signature
    # and keeps the earlier value (the signature writes no area row, so nothing else waits).
    chart = chart_session(make_plan(record, doctor), doctor, sign=False)
    treated = chart.areas.get()
    holder, contender, waited = contend(
        _sign(chart, doctor),
        lambda: services.amend_treated_area(
            chart=chart,
            area=treated,
            data={"injections": 9},
            reason="Miscounted",
            by=as_doctor(doctor),
        ),
    )
    assert holder is None, holder
    assert isinstance(contender, list), contender
    assert [(a.old_text, a.new_text) for a in contender] == [("8", "9")]
    assert waited


# --- update_adverse_event -------------------------------------------------------------------


@committing
def test_an_event_does_not_resolve_before_an_onset_moved_meanwhile(record, doctor):
    # update_adverse_event's lock and its transaction: the resolution waits for the new onset
    # and is checked against it.
    plan = make_plan(record, doctor)
    event = AdverseEvent.objects.create(
        plan=plan,
        type="bruising",
        onset_on=TODAY() - timedelta(days=20),
        severity="mild",
        reported_by=doctor,
    )

    def update(**data):
        return lambda: services.update_adverse_event(event=event, data=data, by=as_doctor(doctor))

    holder, contender, waited = contend(
        update(onset_on=TODAY() - timedelta(days=5)),
        update(resolved_on=TODAY() - timedelta(days=10)),
    )
    assert isinstance(holder, AdverseEvent), holder
    assert isinstance(contender, services.TreatmentError), contender
    assert waited
    event.refresh_from_db()
    assert event.resolved_on is None


# --- clear_for_treatment --------------------------------------------------------------------


def _blocked_plan(record, doctor):
    plan = make_plan(record, doctor)
    screen(record, untreated_varicose="yes")
    return plan


def _clear(plan, doctor):
    return lambda: services.clear_for_treatment(
        plan=plan,
        keys=["untreated_varicose"],
        session=None,
        reason="Reflux treated in October.",
        by=as_doctor(doctor),
    )


@committing
def test_an_override_clicked_twice_at_once_is_saved_once(record, doctor):
    # clear_for_treatment's lock on the plan: the second click waits for the first, then finds
    # nothing left to clear.
    plan = _blocked_plan(record, doctor)
    holder, contender, waited = contend(_clear(plan, doctor), _clear(plan, doctor))
    assert isinstance(holder, list) and len(holder) == 1, holder
    assert isinstance(contender, services.TreatmentError), contender
    assert waited
    assert Clearance.objects.filter(plan=plan).count() == 1


@committing
def test_an_override_is_not_saved_without_its_audit_entry(record, doctor, monkeypatch):
    # clear_for_treatment's transaction: the clearances and their audit entry commit together.
    plan = _blocked_plan(record, doctor)
    break_audit(monkeypatch)
    with pytest.raises(DatabaseError, match="audit insert failed"):
        _clear(plan, doctor)()
    assert not Clearance.objects.exists()


# --- one active plan per patient ------------------------------------------------------------


@committing
def test_two_plans_started_at_once_leave_one_active(record, doctor):
    # The partial unique index: neither service call sees the other's uncommitted plan.
    first, second = make_consultation(record, doctor), make_consultation(record, doctor)
    holder, contender, waited = contend(
        lambda: make_plan(record, doctor, consultation=first),
        lambda: make_plan(record, doctor, consultation=second),
    )
    assert isinstance(holder, TreatmentPlan)
    assert isinstance(contender, services.TreatmentError)
    assert "already has an active plan" in str(contender)
    assert waited
    assert TreatmentPlan.objects.filter(patient=record, status=PlanStatus.ACTIVE).count() == 1


@committing
def test_two_drafts_started_at_once_leave_one_active(record, doctor):
    # The same index under set_plan_status: each locks only its own plan.
    drafts = [
        make_plan(record, doctor, consultation=make_consultation(record, doctor), start=False)
        for _ in range(2)
    ]

    def start(plan):
        return lambda: services.set_plan_status(
            plan=plan, status=PlanStatus.ACTIVE, by=as_doctor(doctor)
        )

    holder, contender, waited = contend(start(drafts[0]), start(drafts[1]))
    assert holder is None
    assert isinstance(contender, services.TreatmentError)
    assert waited
    assert TreatmentPlan.objects.filter(patient=record, status=PlanStatus.ACTIVE).count() == 1
