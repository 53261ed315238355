"""The agent menus offer the agents in use (AgentSetting.active). An area charted with an agent
the clinic no longer uses keeps it on its correction page, so correcting another value does
not change the agent unseen; no area can be switched to such an agent."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.treatments.conftest import area, as_doctor, chart_session
from tests.treatments.test_area_amendments import form_data, page_text, url_for, values
from tests.treatments.test_charts import chart_data, post_chart
from treatments import services
from treatments.models import AgentSetting, ChartAmendment, SessionChart


def offered(html: str, name: str) -> list[str]:
    """The option values of the first select called `name`."""
    select = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def chart_page(client, plan) -> str:
    url = reverse("treatments:chart_create", args=[plan.patient_id, plan.pk])
    return client.get(url).content.decode()


def test_the_chart_form_offers_only_agents_in_use(client, doctor, plan):
    client.force_login(doctor)
    html = chart_page(client, plan)
    assert offered(html, "area-L-foot-agent") == ["polidocanol", "sts", "saline", "glycerin"]
    AgentSetting.objects.filter(agent__in=["saline", "glycerin"]).update(active=False)
    html = chart_page(client, plan)
    assert offered(html, "area-L-foot-agent") == ["polidocanol", "sts"]
    assert "Hypertonic saline" not in html


def test_the_chart_form_starts_on_an_agent_in_use(client, doctor, plan):
    AgentSetting.objects.filter(agent="polidocanol").update(active=False)
    client.force_login(doctor)
    html = chart_page(client, plan)
    assert '<option value="sts" selected>' in html
    assert "polidocanol" not in offered(html, "area-L-foot-agent")


def test_a_chart_posted_with_an_agent_no_longer_in_use_says_so_and_saves_nothing(
    client, doctor, plan
):
    AgentSetting.objects.filter(agent="sts").update(active=False)
    client.force_login(doctor)
    data = chart_data(
        **{"area-R-thigh-anterior-agent": "sts", "area-R-thigh-anterior-concentration": "1"}
    )
    response = post_chart(client, plan, data)
    assert response.status_code == 200
    assert "This agent is not in use at the clinic. Choose one from the list." in page_text(
        response
    )
    assert not SessionChart.objects.exists()


def agent_reads(send) -> int:
    with CaptureQueriesContext(connection) as queries:
        send()
    return sum('FROM "treatments_agentsetting"' in q["sql"] for q in queries)


def test_the_chart_form_reads_the_agent_settings_once_for_all_its_rows(client, doctor, plan):
    client.force_login(doctor)
    url = reverse("treatments:chart_create", args=[plan.patient_id, plan.pk])
    assert agent_reads(lambda: client.get(url)) == 1
    # Posted: once for the form's 30 rows, once in the service that saves (its own check).
    refused = chart_data(**{"area-R-thigh-anterior-volume_ml": "4"})
    assert agent_reads(lambda: post_chart(client, plan, refused)) == 2
    assert agent_reads(lambda: post_chart(client, plan, chart_data())) == 2
    assert SessionChart.objects.count() == 1


@pytest.fixture
def saline_chart(plan, doctor):
    """A chart with a saline area, charted while the clinic used saline; it no longer does."""
    saline = area(agent="saline", concentration=Decimal(20), volume_ml=Decimal(2), injections=8)
    chart = chart_session(plan, doctor, areas=[saline])
    AgentSetting.objects.filter(agent__in=["saline", "glycerin"]).update(active=False)
    return chart


def test_the_correction_page_keeps_an_agent_no_longer_in_use_on_its_area(
    client, doctor, saline_chart
):
    client.force_login(doctor)
    html = client.get(url_for(saline_chart)).content.decode()
    assert offered(html, "agent") == ["polidocanol", "sts", "saline"]
    assert '<option value="saline" selected>Hypertonic saline (no longer in use)</option>' in html


def test_correcting_another_value_keeps_the_agent_no_longer_in_use(client, doctor, saline_chart):
    treated = saline_chart.areas.get()
    client.force_login(doctor)
    response = client.post(url_for(saline_chart), form_data(treated, volume_ml="1.5"))
    assert response.status_code == 302
    assert values(treated)["agent"] == "saline"
    assert values(treated)["volume_ml"] == Decimal("1.5")
    assert ChartAmendment.objects.get().field == "area:R-thigh-anterior:volume_ml"


def test_no_area_is_switched_to_an_agent_no_longer_in_use(client, doctor, plan, saline_chart):
    chart = chart_session(plan, doctor, areas=[area()])
    treated = chart.areas.get()
    unchanged = values(treated)
    with pytest.raises(services.TreatmentError, match="Glycerin is not in use at the clinic"):
        services.amend_treated_area(
            chart=chart,
            area=treated,
            data={"agent": "glycerin", "concentration": Decimal(72)},
            reason="Wrong agent",
            by=as_doctor(doctor),
        )
    client.force_login(doctor)
    data = form_data(treated, agent="saline", concentration="20")
    response = client.post(url_for(chart), data)
    assert response.status_code == 200
    assert "This agent is not in use at the clinic" in page_text(response)
    assert values(treated) == unchanged
    assert not ChartAmendment.objects.filter(chart=chart).exists()
