"""Shared set-up for the treatments tests: a screened patient, a consultation and a plan, made
through the services so every test starts from data the app itself could have written."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from goodskin.actors import Actor
from goodskin.roles import Role
from patients.selectors import screening_summary
from tests.factories import PatientFactory, UserFactory, screen
from treatments import services


def as_doctor(user) -> Actor:
    return Actor(user=user, role=Role.DOCTOR, ip="127.0.0.1")


CONSULTATION = {
    "ceap_right": "C1",
    "ceap_left": "C1",
    "vessels_right": ["spider"],
    "vessels_left": ["spider", "reticular"],
    "decision": "eligible",
    "varicose_override": False,
    "varicose_override_reason": "",
    "notes": "",
}


def complete_screening(patient) -> None:
    """Answer "no" to every question the screening left open, as the doctor does at
    consultation before deciding."""
    missing = screening_summary(patient).missing
    if missing:
        screen(patient, **{q.key: "no" for q in missing})


def make_consultation(patient, doctor, *, complete=True, **changes):
    if complete:
        complete_screening(patient)
    data = {**CONSULTATION, "held_on": timezone.localdate() - timedelta(days=60), **changes}
    acknowledged = data.pop("acknowledged", [])
    return services.record_consultation(
        patient=patient, data=data, acknowledged=acknowledged, by=as_doctor(doctor)
    )


def make_plan(patient, doctor, *, consultation=None, areas=None, sessions=4, start=True):
    return services.create_plan(
        patient=patient,
        consultation=consultation or make_consultation(patient, doctor),
        areas=areas or ["R-thigh-anterior", "L-calf-medial"],
        sessions=sessions,
        interval_weeks=4,
        hose_days=14,
        start=start,
        notes="",
        by=as_doctor(doctor),
    )


def area(region="R-thigh-anterior", **changes) -> dict:
    return {
        "region": region,
        "vessel_type": "spider",
        "agent": "polidocanol",
        "concentration": Decimal("0.5"),
        "form": "liquid",
        "volume_ml": Decimal("2"),
        "injections": 8,
        **changes,
    }


def chart_session(plan, doctor, *, treated_on=None, areas=None, sign=True, visit="session"):
    return services.record_session(
        plan=plan,
        treated_on=treated_on or timezone.localdate() - timedelta(days=30),
        areas=areas or [area()],
        immediate_reactions="Mild redness",
        compression="Support hose for 14 days",
        notes="Went well",
        sign=sign,
        by=as_doctor(doctor),
        visit=visit,
    )


def two_sessions(plan, doctor):
    """Two charted sessions four weeks apart, the last two weeks ago; returns its day."""
    first = timezone.localdate() - timedelta(weeks=6)
    chart_session(plan, doctor, treated_on=first, areas=[area("R-thigh-anterior"), area("L-foot")])
    chart_session(plan, doctor, treated_on=first + timedelta(weeks=4), areas=[area("L-foot")])
    return first + timedelta(weeks=4)


@pytest.fixture
def record(db):
    """A patient record with a complete screening that allows treatment."""
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    complete_screening(patient)
    return patient


@pytest.fixture
def plan(record, doctor):
    return make_plan(record, doctor)


@pytest.fixture
def other_doctor(db):
    return UserFactory(username="dr.other", role=Role.DOCTOR, email="dr.other@example.org")
