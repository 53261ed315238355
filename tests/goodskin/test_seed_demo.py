from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from goodskin.roles import Role, role_of


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--allow-production", *args, stdout=out)
    return out.getvalue()


def test_it_creates_demo_users_for_every_role(db):
    seed()
    roles = [role_of(u) for u in get_user_model().objects.all()]
    assert roles.count(Role.FRONT_DESK) == 1
    assert roles.count(Role.DOCTOR) == 2
    assert roles.count(Role.PATIENT) == 5
    assert roles.count(Role.ADMIN) == 1


def test_it_prints_logins_that_work(client, db):
    output = seed()
    line = next(line for line in output.splitlines() if "frontdesk" in line)
    username, password = line.split()[-2:]
    # Through the login page: the lockout backend needs the request.
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_it_is_idempotent_and_prints_passwords_once(db):
    seed()
    output = seed()
    assert get_user_model().objects.count() == 9
    assert "already exist" in output
    assert "frontdesk" not in output


def test_it_prints_new_passwords_on_request(db):
    seed()
    assert "frontdesk" in seed("--reset-passwords")


def test_it_refuses_to_seed_a_production_database(db):
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", stdout=StringIO())


def test_it_adds_patients_that_show_each_warning_and_a_near_duplicate_pair(db):
    from patients.models import Patient
    from patients.selectors import possible_duplicates, screening_summary

    seed()
    patients = list(Patient.objects.all())
    summaries = [screening_summary(p) for p in patients]
    assert any(s.estrogen for s in summaries)
    assert any(s.untreated_varicose for s in summaries)
    assert any(s.blocks_plan for s in summaries)
    kathy = Patient.objects.get(legal_first_name="Katherine")
    matches = possible_duplicates(
        first_name=kathy.legal_first_name,
        last_name=kathy.legal_last_name,
        date_of_birth=kathy.date_of_birth,
        phone="",
        email="",
        exclude_id=kathy.pk,
    )
    assert [m.legal_first_name for m in matches] == ["Catherine"]
    assert Patient.objects.filter(portal_user__isnull=False).count() == 5
    seed()
    assert Patient.objects.count() == len(patients)


def test_it_fills_a_week_for_both_doctors_with_a_series_in_progress(db):
    from scheduling.models import Appointment, Kind
    from scheduling.services import remaining_sessions
    from treatments.models import PlanStatus, TreatmentPlan

    seed()
    appointments = Appointment.objects.select_related("doctor")
    assert {a.doctor.username for a in appointments} == {"dr.nguyen", "dr.patel"}
    assert appointments.count() >= 20
    sessions = appointments.filter(kind=Kind.SESSION)
    assert sessions.exists()
    for plan in TreatmentPlan.objects.filter(status=PlanStatus.ACTIVE):
        assert remaining_sessions(plan) == []
    count = appointments.count()
    seed()
    assert Appointment.objects.count() == count


def test_a_seed_that_fails_half_way_leaves_nothing(db, monkeypatch):
    """All or nothing: demo users whose passwords were never printed would be locked out of
    the demo (a second run prints no password for an account that exists)."""
    from scheduling import demo

    def broken(stdout):
        raise RuntimeError("the calendar could not be filled")

    monkeypatch.setattr(demo, "seed", broken)
    with pytest.raises(RuntimeError):
        seed()
    assert not get_user_model().objects.exists()
