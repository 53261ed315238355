"""A clinic just installed, before an administrator sets up its location and rooms: every page
opens for every staff role (with the clinic's time zone from the settings), and the free-time
search says there is nothing free instead of answering 500."""

import pytest

from patients.models import Patient
from scheduling.models import Location
from tests.factories import PatientFactory
from tests.goodskin.test_access import app_urls


@pytest.fixture
def no_location(db):
    # Emptied here as a transactional test's flush would leave the migration's office.
    from scheduling.models import Room

    Room.objects.all().delete()
    Location.objects.all().delete()


@pytest.mark.parametrize("role", ["front_desk", "doctor"])
def test_every_page_opens_before_the_clinic_has_a_location(client, request, no_location, role):
    client.force_login(request.getfixturevalue(role))
    record = PatientFactory()
    for name, path in app_urls(str(record.pk)):
        if name == "logout":
            continue
        response = client.get(path)
        assert response.status_code != 500, (name, path)
    params = {"kind": "consultation", "first_day": "2026-11-30", "last_day": "2026-12-01"}
    assert client.get("/schedule/slots/", params).status_code == 200
    assert Patient.objects.filter(pk=record.pk).exists()
