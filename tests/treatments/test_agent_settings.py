"""Agents are settings: their concentration ranges, foam allowed, their maximum per session and
in use, seeded with the product labels' numbers (CLINICAL.md) and edited by an administrator;
charts follow them."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

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


def test_each_agent_starts_with_at_most_10_ml_per_session(db):
    """CLINICAL.md: polidocanol and STS at most 10 mL per session; saline and glycerin have no
    number there and keep the 10 mL every agent was held to before."""
    maxima = dict(AgentSetting.objects.values_list("agent", "session_max_ml"))
    assert maxima == dict.fromkeys(["polidocanol", "sts", "saline", "glycerin"], Decimal(10))


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
    data = {"agent": "polidocanol", "foam_allowed": "on", "active": "on", "session_max_ml": "10"}
    reversed_range = {**data, "concentration_min": "1", "concentration_max": "0.5"}
    assert client.post(url, reversed_range).status_code == 200  # the form says why, no 500
    response = client.post(url, {**data, "concentration_min": "0.5", "concentration_max": "0.8"})
    assert response.status_code == 302
    setting.refresh_from_db()
    assert setting.concentration_max == Decimal("0.8")


def sts(volume_ml, injections=20, **changes) -> dict:
    return area(
        agent="sts", concentration=Decimal(1), volume_ml=volume_ml, injections=injections, **changes
    )


def test_each_agent_warns_above_its_own_maximum(doctor, plan):
    AgentSetting.objects.filter(agent="sts").update(session_max_ml=Decimal(4))
    with pytest.raises(services.VolumesNotConfirmed) as refused:
        chart_session(plan, doctor, areas=[sts(Decimal(5))])  # 0.25 mL per injection
    assert refused.value.warnings == [
        "Sodium tetradecyl sulfate (STS): 5.00 mL in this session, more than the most of 4.00 mL."
    ]
    assert not SessionChart.objects.exists()
    # The same 5 mL of polidocanol is within its own maximum of 10 mL.
    chart = chart_session(plan, doctor, areas=[area(volume_ml=Decimal(5), injections=20)])
    assert not chart.volumes_confirmed


def test_two_agents_each_under_their_maximum_need_no_confirmation(doctor, plan):
    """12 mL in the session, but 6 of each agent: no agent is over its 10 mL."""
    areas = [area(volume_ml=Decimal(6), injections=24), sts(Decimal(6), 24, region="L-foot")]
    chart = chart_session(plan, doctor, areas=areas)
    assert not chart.volumes_confirmed and chart.volume_warnings == ""


def test_foam_counts_every_agent_together(doctor, plan):
    """The foam maximum is the session's: 6 mL of polidocanol foam and 6 of STS foam pass it."""
    areas = [
        area(volume_ml=Decimal(6), injections=24, form="foam"),
        sts(Decimal(6), 24, region="L-foot", form="foam"),
    ]
    with pytest.raises(services.VolumesNotConfirmed) as refused:
        chart_session(plan, doctor, areas=areas)
    assert refused.value.warnings == [
        "Foam: 12.00 mL in this session, more than the most of 10.00 mL."
    ]


def test_an_administrator_sets_an_agents_maximum_and_zero_is_refused(client, clinic_admin):
    setting = AgentSetting.objects.get(agent="sts")
    client.force_login(clinic_admin)
    url = f"/admin/treatments/agentsetting/{setting.pk}/change/"
    data = {
        "agent": "sts",
        "concentration_min": "1",
        "concentration_max": "3",
        "foam_allowed": "on",
    }
    data["active"] = "on"
    response = client.post(url, {**data, "session_max_ml": "0"})
    assert response.status_code == 200  # the form says why, no 500
    assert "greater than or equal to 0.01" in response.content.decode()
    assert client.post(url, {**data, "session_max_ml": "6.5"}).status_code == 302
    setting.refresh_from_db()
    assert setting.session_max_ml == Decimal("6.5")


def test_the_list_of_agents_edits_each_maximum(client, clinic_admin):
    client.force_login(clinic_admin)
    html = client.get("/admin/treatments/agentsetting/").content.decode()
    assert html.count('name="form-0-session_max_ml"') == 1
    assert "Most per session (mL)" in html


def test_the_table_refuses_a_maximum_of_zero(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        AgentSetting.objects.filter(agent="sts").update(session_max_ml=0)
