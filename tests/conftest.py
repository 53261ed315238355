import pytest

from goodskin.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def front_desk(db):
    return UserFactory(username="fiona", role=Role.FRONT_DESK)


@pytest.fixture
def doctor(db):
    return UserFactory(username="dr.lee", role=Role.DOCTOR)


@pytest.fixture
def patient(db):
    return UserFactory(username="pat", role=Role.PATIENT)


@pytest.fixture
def clinic_admin(db):
    return UserFactory(username="boss", role=Role.ADMIN)


@pytest.fixture
def users_by_role(front_desk, doctor, patient, clinic_admin):
    return {
        Role.FRONT_DESK: front_desk,
        Role.DOCTOR: doctor,
        Role.PATIENT: patient,
        Role.ADMIN: clinic_admin,
    }
