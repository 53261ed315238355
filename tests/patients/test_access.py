"""Every patient URL against every role and against ids that are not one's own."""

import pytest
from django.urls import reverse

from goodskin.roles import Role
from tests.factories import PatientFactory

# (url name, method) of every page that takes a patient id.
PATIENT_URLS = [
    ("patients:detail", "get"),
    ("patients:edit", "get"),
    ("patients:screening", "get"),
    ("patients:screening_history", "get"),
    ("patients:merge", "get"),
    ("patients:invite", "post"),
    ("patients:export", "get"),
    ("patients:export_pdf", "get"),
]
ALLOWED = {
    "patients:detail": {Role.FRONT_DESK, Role.DOCTOR},
    "patients:edit": {Role.FRONT_DESK, Role.DOCTOR},
    "patients:screening": {Role.FRONT_DESK, Role.DOCTOR},
    "patients:screening_history": {Role.DOCTOR},
    "patients:merge": {Role.DOCTOR},
    "patients:invite": {Role.FRONT_DESK, Role.DOCTOR},
    "patients:export": {Role.FRONT_DESK, Role.DOCTOR},
    "patients:export_pdf": {Role.FRONT_DESK, Role.DOCTOR},
}


@pytest.fixture
def own_record(patient):
    return PatientFactory(portal_user=patient, legal_last_name="Quellington")


@pytest.mark.parametrize(("name", "method"), PATIENT_URLS)
def test_it_opens_patient_pages_only_to_the_roles_that_need_them(
    client, users_by_role, own_record, name, method
):
    other = PatientFactory(email="", legal_last_name="Wraxford")  # no email: nothing is sent
    for role, user in users_by_role.items():
        client.force_login(user)
        response = getattr(client, method)(reverse(name, args=[other.pk]))
        if role in ALLOWED[name]:
            assert response.status_code in (200, 302), (name, role)
        else:
            assert response.status_code in (403, 404), (name, role)
            assert other.legal_last_name not in response.content.decode()


@pytest.mark.parametrize(("name", "method"), PATIENT_URLS)
def test_it_answers_404_to_a_patient_even_for_their_own_id(
    client, patient, own_record, name, method
):
    client.force_login(patient)
    response = getattr(client, method)(reverse(name, args=[own_record.pk]))
    assert response.status_code in (403, 404)


@pytest.mark.parametrize(("name", "method"), PATIENT_URLS)
def test_it_answers_404_for_an_id_that_does_not_exist(client, doctor, name, method):
    client.force_login(doctor)
    assert getattr(client, method)(reverse(name, args=[987654])).status_code == 404


@pytest.mark.parametrize(("name", "method"), PATIENT_URLS)
def test_it_sends_anonymous_visitors_to_login(client, own_record, name, method):
    response = getattr(client, method)(reverse(name, args=[own_record.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
