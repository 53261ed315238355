"""The patient's own details page: their record only, read only; 404 without a record, 403
for staff."""

import pytest
from django.urls import reverse

from goodskin.roles import Role
from tests.factories import PatientFactory, UserFactory


@pytest.fixture
def own_record(patient):
    return PatientFactory(portal_user=patient, legal_last_name="Quellington")


def test_it_shows_a_patient_their_own_record_read_only(client, patient, own_record):
    client.force_login(patient)
    response = client.get(reverse("portal:my_record"))
    body = response.content.decode()
    assert response.status_code == 200
    assert own_record.legal_last_name in body
    # Read only: no form but the session warning's "Stay logged in".
    assert "<form" not in body.split("</nav>")[1].split('id="session-warning"')[0]
    assert "<form" not in body.split("<main")[1]
    assert client.post(reverse("portal:my_record")).status_code in (200, 405)


def test_it_shows_another_patient_nothing_of_this_record(client, own_record):
    stranger = UserFactory(username="stranger", role=Role.PATIENT)
    PatientFactory(portal_user=stranger, legal_last_name="Zimmerman")
    client.force_login(stranger)
    body = client.get(reverse("portal:my_record")).content.decode()
    assert own_record.legal_last_name not in body
    assert "Zimmerman" in body


def test_it_answers_404_to_a_patient_user_without_a_record(client, patient):
    client.force_login(patient)
    assert client.get(reverse("portal:my_record")).status_code == 404


def test_it_keeps_staff_out_of_the_patients_own_page(client, front_desk):
    client.force_login(front_desk)
    assert client.get(reverse("portal:my_record")).status_code == 403
