"""'Today' is the clinic's day everywhere, not only inside a request.

Between 4 pm and midnight in Oregon, UTC is already on the next day. When the default zone was
UTC, a Celery task, a command or a test outside a request took that next day for today, while the
page the front desk had just posted recorded the clinic's day. These run at such an hour."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from tests.factories import PatientFactory
from tests.patients.test_records import edit_data

UTC = ZoneInfo("UTC")
# 01:30 UTC on 30 November is 17:30 on 29 November in Oregon.
EVENING = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
CLINIC_DAY = date(2026, 11, 29)


def test_outside_a_request_today_is_the_clinics_day():
    with time_machine.travel(EVENING, tick=False):
        assert timezone.localdate() == CLINIC_DAY
        assert timezone.localtime().hour == 17


@pytest.mark.django_db
def test_a_page_and_the_code_around_it_agree_on_the_day(client, front_desk):
    patient = PatientFactory(consent_email=True, consent_email_on=date(2026, 10, 1))
    data = edit_data(patient)
    data.pop("consent_email")
    with time_machine.travel(EVENING, tick=False):
        client.force_login(front_desk)
        response = client.post(reverse("patients:edit", args=[patient.pk]), data)
        assert response.status_code == 302
        patient = Patient.objects.get(pk=patient.pk)
        assert patient.consent_email_on == CLINIC_DAY == timezone.localdate()


@pytest.mark.django_db
def test_a_date_lookup_outside_a_request_uses_the_clinics_day():
    # A visit at 17:30 in Oregon is on the 29th, though UTC says the 30th.
    patient = PatientFactory()
    Patient.objects.filter(pk=patient.pk).update(created_at=EVENING)
    assert Patient.objects.filter(pk=patient.pk, created_at__date=CLINIC_DAY).exists()
