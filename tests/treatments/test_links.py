"""Links the upper apps put on lower apps' pages (goodskin.links): the patient's record and a
plan's summary show them for the roles they are for."""

from django.urls import reverse

from tests.treatments.conftest import as_doctor, make_plan
from treatments.models import PlanStatus
from treatments.services import set_plan_status


def page(client, user, url) -> str:
    client.force_login(user)
    return client.get(url).content.decode()


def test_the_record_links_to_the_patients_messages_and_treatment(
    client, front_desk, doctor, record
):
    url = reverse("patients:detail", args=[record.pk])
    desk = page(client, front_desk, url)
    assert f'href="{reverse("messaging:patient", args=[record.pk])}"' in desk
    assert f'href="{reverse("treatments:patient", args=[record.pk])}"' in desk
    assert "Treatment plans" in desk
    assert "Consultations, plans and charts" in page(client, doctor, url)


def test_an_active_plans_summary_offers_to_book_its_sessions(client, front_desk, doctor, record):
    plan = make_plan(record, doctor)
    url = reverse("treatments:plan", args=[record.pk, plan.pk])
    book = f'href="{reverse("scheduling:book_series", args=[plan.pk])}"'
    assert book in page(client, front_desk, url)
    set_plan_status(plan=plan, status=PlanStatus.STOPPED, reason="Moved away", by=as_doctor(doctor))
    assert book not in page(client, front_desk, url)
