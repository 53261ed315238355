"""Agents are settings: their concentration ranges, foam allowed and in use, seeded with the
product labels' ranges (CLINICAL.md) and edited by an administrator; charts follow them."""

from decimal import Decimal

import pytest

from tests.treatments.conftest import area, chart_session
from treatments import services
from treatments.models import AgentSetting, SessionChart


def test_it_starts_with_the_product_labels_ranges(db):
    rows = {
        s.agent: (s.concentration_min, s.concentration_max, s.foam_allowed, s.active)
        for s in AgentSetting.objects.all()
    }
    assert rows == {
        "polidocanol": (Decimal("0.5"), Decimal(1), True, True),
        "sts": (Decimal(1), Decimal(3), True, True),
        "saline": (Decimal("11.7"), Decimal("23.4"), False, True),
        "glycerin": (Decimal(72), Decimal(72), False, True),
    }


def test_it_refuses_a_concentration_outside_a_range_narrowed_in_settings(doctor, plan):
    AgentSetting.objects.filter(agent="polidocanol").update(concentration_max=Decimal("0.75"))
    with pytest.raises(services.TreatmentError, match="for this agent is 0.5–0.75 %"):
        chart_session(plan, doctor, areas=[area(concentration=Decimal(1))])
    assert not SessionChart.objects.exists()
    assert chart_session(plan, doctor, areas=[area(concentration=Decimal("0.75"))])


def test_it_refuses_foam_once_settings_disallow_it(doctor, plan):
    AgentSetting.objects.filter(agent="sts").update(foam_allowed=False)
    sts_foam = area(agent="sts", concentration=Decimal(1), form="foam")
    with pytest.raises(services.TreatmentError, match="not used as foam"):
        chart_session(plan, doctor, areas=[sts_foam])


def test_it_refuses_an_agent_no_longer_in_use(doctor, plan):
    AgentSetting.objects.filter(agent="saline").update(active=False)
    saline = area(agent="saline", concentration=Decimal(20))
    with pytest.raises(services.TreatmentError, match="not in use at the clinic"):
        chart_session(plan, doctor, areas=[saline])


def test_an_empty_table_is_filled_with_the_defaults(doctor, plan):
    AgentSetting.objects.all().delete()
    assert chart_session(plan, doctor, areas=[area()])
    assert AgentSetting.objects.count() == 4


def test_an_administrator_narrows_a_range_and_a_reversed_one_is_refused(client, clinic_admin):
    setting = AgentSetting.objects.get(agent="polidocanol")
    client.force_login(clinic_admin)
    url = f"/admin/treatments/agentsetting/{setting.pk}/change/"
    data = {"agent": "polidocanol", "foam_allowed": "on", "active": "on"}
    reversed_range = {**data, "concentration_min": "1", "concentration_max": "0.5"}
    assert client.post(url, reversed_range).status_code == 200  # the form says why, no 500
    response = client.post(url, {**data, "concentration_min": "0.5", "concentration_max": "0.8"})
    assert response.status_code == 302
    setting.refresh_from_db()
    assert setting.concentration_max == Decimal("0.8")
