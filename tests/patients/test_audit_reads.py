"""Searches are audited: each patient a search shows (name, birth date, phone) gets an entry
with the query that found them, on the patient list and on the free-time page alike."""

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse

from goodskin.roles import Role
from patients.access import search_patients_for_user
from patients.models import AuditAction, AuditEntry
from tests.factories import PatientFactory


def searches() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditAction.SEARCH).order_by("id"))


def test_it_audits_each_patient_a_search_shows_with_the_query(client, front_desk):
    ana, anabel = (PatientFactory(legal_last_name=name) for name in ("Silva", "Silvano"))
    PatientFactory(legal_last_name="Moreau")
    client.force_login(front_desk)
    client.get(reverse("patients:list"), {"q": "silv"}, REMOTE_ADDR="10.1.2.3")
    entries = searches()
    assert {e.patient for e in entries} == {ana, anabel}
    assert {(e.user, e.role, e.subject, e.ip) for e in entries} == {
        (front_desk, "front_desk", "patient search", "10.1.2.3")
    }
    assert all(e.details == {"query": "silv"} for e in entries)


def test_it_audits_a_search_that_finds_no_one(client, doctor):
    client.force_login(doctor)
    client.get(reverse("patients:list"), {"q": "nobody"})
    (entry,) = searches()
    assert (entry.patient, entry.details) == (None, {"query": "nobody", "found": 0})


def test_it_audits_the_patients_the_free_time_search_offers(client, front_desk, doctor):
    ana, anabel = (PatientFactory(legal_last_name=name) for name in ("Silva", "Silvano"))
    client.force_login(front_desk)
    query = {"kind": "consultation", "first_day": "2026-11-30", "last_day": "2026-11-30"}
    response = client.get(reverse("scheduling:slots"), {**query, "who": "silv"})
    assert response.status_code == 200
    entries = searches()
    assert {e.patient for e in entries} == {ana, anabel}
    assert {e.subject for e in entries} == {"free times search"}


def test_it_audits_only_the_patients_a_search_shows(rf_user):
    patients = [PatientFactory(legal_last_name=f"Silva{n}") for n in range(4)]
    shown, more = search_patients_for_user(rf_user(Role.FRONT_DESK), "silva", limit=3)
    assert (len(shown), more) == (3, True)
    assert {e.patient for e in searches()} == set(shown) and set(shown) < set(patients)


@pytest.mark.parametrize("role", [Role.PATIENT, Role.ADMIN, None])
def test_it_lets_no_one_but_staff_search(rf_user, role):
    PatientFactory(legal_last_name="Silva")
    with pytest.raises(Http404):
        search_patients_for_user(rf_user(role), "silva")
    assert not searches()


@pytest.fixture
def rf_user(users_by_role):
    from django.contrib.auth.models import AnonymousUser

    def request_as(role):
        request = RequestFactory().get("/")
        request.user = users_by_role[role] if role else AnonymousUser()
        return request

    return request_as
