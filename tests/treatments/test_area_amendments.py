"""Correcting a treated area of a chart: on a signed chart every changed value is an amendment
that keeps the earlier value, the new one, the reason, who and when; the values obey the rules
of a new chart; bad input saves nothing; only doctors reach the page, and only through the
patient and the chart the area belongs to."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from goodskin.actors import Actor
from goodskin.roles import Role
from patients.models import AuditEntry
from tests.factories import PatientFactory, UserFactory, screen
from tests.treatments.conftest import area, as_doctor, chart_session, make_plan
from treatments import services
from treatments.models import ChartAmendment, TreatedArea

VALUES = ("vessel_type", "agent", "concentration", "form", "volume_ml", "injections")


@pytest.fixture
def chart(plan, doctor):
    return chart_session(plan, doctor, areas=[area(volume_ml=Decimal(4), injections=20)])


@pytest.fixture
def unsigned(plan, doctor):
    return chart_session(
        plan, doctor, areas=[area(volume_ml=Decimal(4), injections=20)], sign=False
    )


def url_for(chart, treated=None, patient_pk=None):
    treated = treated or chart.areas.get()
    return reverse(
        "treatments:area_amend", args=[patient_pk or chart.plan.patient_id, chart.pk, treated.pk]
    )


def form_data(treated: TreatedArea, reason="Volume misread from the syringe", **changes) -> dict:
    """The page's form as it opens (the area's current values), with `changes` typed in."""
    data = {name: str(getattr(treated, name)) for name in VALUES}
    return {**data, "shown": services.area_fingerprint(treated), "reason": reason, **changes}


def values(treated: TreatedArea) -> dict:
    treated.refresh_from_db()
    return {name: getattr(treated, name) for name in VALUES}


def area_changes(chart):
    return AuditEntry.objects.filter(action="change", subject=f"chart:{chart.pk}")


def page_text(response) -> str:
    """The page as a reader sees it: tags dropped, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_it_amends_a_volume_keeping_the_old_and_new_value_the_reason_who_and_when(
    client, doctor, chart
):
    treated = chart.areas.get()
    client.force_login(doctor)
    before = timezone.now()
    response = client.post(url_for(chart), form_data(treated, volume_ml="3.5"))
    assert response.status_code == 302
    assert response.url == reverse("treatments:chart", args=[chart.plan.patient_id, chart.pk])
    amendment = ChartAmendment.objects.get()
    assert amendment.field == "area:R-thigh-anterior:volume_ml"
    assert (amendment.old_text, amendment.new_text) == ("4.00", "3.50")
    assert amendment.reason == "Volume misread from the syringe"
    assert amendment.by == doctor
    assert before <= amendment.at <= timezone.now()
    assert values(treated)["volume_ml"] == Decimal("3.50")


def test_two_changed_values_make_two_amendments_with_readable_values(client, doctor, chart):
    treated = chart.areas.get()
    client.force_login(doctor)
    client.post(url_for(chart), form_data(treated, agent="sts", concentration="1"))
    rows = {a.field: (a.old_text, a.new_text) for a in ChartAmendment.objects.all()}
    assert rows == {
        "area:R-thigh-anterior:agent": (
            "Polidocanol (Asclera)",
            "Sodium tetradecyl sulfate (STS)",
        ),
        "area:R-thigh-anterior:concentration": ("0.50", "1"),
    }


def test_the_audit_entry_names_the_changed_values_but_not_what_they_are(client, doctor, chart):
    treated = chart.areas.get()
    client.force_login(doctor)
    client.post(url_for(chart), form_data(treated, volume_ml="3.5", injections="15"))
    entry = area_changes(chart).get()
    amendments = sorted(ChartAmendment.objects.values_list("pk", flat=True))
    assert (entry.user, entry.role, entry.patient_id) == (doctor, "doctor", chart.plan.patient_id)
    assert entry.details == {
        "area": treated.pk,
        "fields": ["volume_ml", "injections"],
        "amendments": amendments,
        "volumes_confirmed": False,
    }
    assert "3.5" not in str(entry.details) and "Volume misread" not in str(entry.details)


def test_the_page_opens_with_the_current_values(client, doctor, chart):
    client.force_login(doctor)
    html = client.get(url_for(chart)).content.decode()
    assert 'name="volume_ml" value="4.00"' in html
    assert 'name="injections" value="20"' in html
    assert '<option value="polidocanol" selected>' in html


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"concentration": "5"}, "the concentration for this agent is 0.5–1 %"),
        (
            {"agent": "glycerin", "concentration": "72", "form": "foam"},
            "Glycerin is not used as foam at the clinic",
        ),
        ({"volume_ml": "0"}, "greater than or equal to 0.01"),
        ({"volume_ml": "25"}, "less than or equal to 20"),
        ({"volume_ml": "abc"}, "Enter a number"),
        ({"injections": "0"}, "greater than or equal to 1"),
        ({"volume_ml": "3.5", "reason": "  "}, "A signed chart needs a reason for every change"),
        ({}, "Nothing changed"),
    ],
)
def test_bad_input_gives_a_clear_error_and_writes_nothing(client, doctor, chart, changes, message):
    treated = chart.areas.get()
    unchanged = values(treated)
    client.force_login(doctor)
    response = client.post(url_for(chart), form_data(treated, **changes))
    assert response.status_code == 200
    assert message in page_text(response)
    assert not ChartAmendment.objects.exists()
    assert values(treated) == unchanged
    assert not area_changes(chart).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"volume_ml": Decimal(0)}, "volume is 0.01–20 mL"),
        ({"volume_ml": Decimal(25)}, "volume is 0.01–20 mL"),
        ({"volume_ml": Decimal("3.555")}, "at most two decimals"),
        ({"injections": 0}, "injections is 1–200"),
        (
            {"agent": "saline", "concentration": Decimal(5)},
            "concentration for this agent is 11.7–23.4 %",
        ),
        ({"agent": "saline", "concentration": Decimal(20), "form": "foam"}, "not used as foam"),
        ({"agent": "ether"}, "choose the vessels, the agent and the form"),
        ({"region": "L-foot"}, "can't be changed"),
        ({"volume_ml": Decimal("4.00")}, "Nothing changed"),
        ({"volume_ml": Decimal("3.5")}, "needs a reason"),
    ],
)
def test_the_service_applies_the_rules_of_a_new_chart_and_writes_nothing(
    doctor, chart, data, message
):
    treated = chart.areas.get()
    unchanged = values(treated)
    with pytest.raises(services.TreatmentError, match=message):
        services.amend_treated_area(
            chart=chart, area=treated, data=data, reason="", by=as_doctor(doctor)
        )
    assert not ChartAmendment.objects.exists()
    assert values(treated) == unchanged
    assert not area_changes(chart).exists()


def test_turning_an_area_into_foam_is_refused_for_a_known_shunt(doctor, chart):
    screen(chart.plan.patient, rl_shunt="yes")
    with pytest.raises(services.TreatmentError, match="No foam"):
        services.amend_treated_area(
            chart=chart,
            area=chart.areas.get(),
            data={"form": "foam"},
            reason="It was foam",
            by=as_doctor(doctor),
        )
    assert not ChartAmendment.objects.exists()


def test_an_area_charted_as_foam_keeps_it_when_its_volume_is_corrected(doctor, plan):
    chart = chart_session(plan, doctor, areas=[area(form="foam")])
    screen(plan.patient, rl_shunt="yes")
    services.amend_treated_area(
        chart=chart,
        area=chart.areas.get(),
        data={"volume_ml": Decimal("1.5")},
        reason="Typo",
        by=as_doctor(doctor),
    )
    assert ChartAmendment.objects.get().new_text == "1.50"


def test_an_unsigned_chart_changes_in_place_with_no_amendment(client, doctor, unsigned):
    treated = unsigned.areas.get()
    client.force_login(doctor)
    response = client.post(url_for(unsigned), form_data(treated, reason="", volume_ml="3.5"))
    assert response.status_code == 302
    assert values(treated)["volume_ml"] == Decimal("3.50")
    assert not ChartAmendment.objects.exists()
    assert area_changes(unsigned).get().details["amendments"] == []


def test_the_chart_page_shows_the_amendment_and_an_amend_link_per_area(client, doctor, plan):
    chart = chart_session(
        plan, doctor, areas=[area(volume_ml=Decimal(4), injections=20), area("L-foot")]
    )
    treated = chart.areas.get(region="R-thigh-anterior")
    client.force_login(doctor)
    client.post(url_for(chart, treated), form_data(treated, volume_ml="3.5", reason="Typo"))
    page = client.get(reverse("treatments:chart", args=[plan.patient_id, chart.pk]))
    html = page.content.decode()
    text = page_text(page)
    assert "Right anterior thigh, volume (mL): 4.00 → 3.50" in text
    assert "Why: Typo" in text
    assert doctor.get_full_name() in text
    for each in chart.areas.all():
        assert url_for(chart, each) in html
    assert html.count("data-area-amend") == 2


def test_a_text_amendment_still_shows_before_and_after(client, doctor, chart):
    services.change_chart_text(
        chart=chart, field="notes", new_text="Changed", reason="Typo", by=as_doctor(doctor)
    )
    client.force_login(doctor)
    page = client.get(reverse("treatments:chart", args=[chart.plan.patient_id, chart.pk]))
    text = page_text(page)
    assert "Notes Before: Went well After: Changed Why: Typo" in text


def test_another_doctor_may_amend_and_is_recorded_as_the_author(client, other_doctor, chart):
    treated = chart.areas.get()
    client.force_login(other_doctor)
    assert client.post(url_for(chart), form_data(treated, volume_ml="3")).status_code == 302
    assert ChartAmendment.objects.get().by == other_doctor


def test_the_front_desk_and_patients_are_refused(client, front_desk, patient, chart):
    treated = chart.areas.get()
    unchanged = values(treated)
    for user in (front_desk, patient):
        client.force_login(user)
        assert client.get(url_for(chart)).status_code == 403
        assert client.post(url_for(chart), form_data(treated, volume_ml="3")).status_code == 403
    assert values(treated) == unchanged and not ChartAmendment.objects.exists()


def test_only_a_doctor_may_call_the_service(front_desk, chart):
    by = Actor(user=front_desk, role=Role.FRONT_DESK, ip=None)
    with pytest.raises(services.TreatmentError, match="Only a doctor"):
        services.amend_treated_area(
            chart=chart, area=chart.areas.get(), data={"injections": 3}, reason="x", by=by
        )


def test_another_patients_ids_give_404(client, doctor, chart):
    treated = chart.areas.get()
    other = PatientFactory()
    client.force_login(doctor)
    url = url_for(chart, patient_pk=other.pk)
    assert client.get(url).status_code == 404
    assert client.post(url, form_data(treated, volume_ml="3")).status_code == 404
    assert not ChartAmendment.objects.exists()


def test_an_area_of_another_chart_gives_404(client, doctor, plan, chart):
    second = chart_session(plan, doctor, areas=[area("L-foot")])
    foreign = second.areas.get()
    client.force_login(doctor)
    url = url_for(chart, foreign)
    assert client.get(url).status_code == 404
    assert client.post(url, form_data(foreign, volume_ml="3")).status_code == 404
    assert values(foreign)["volume_ml"] == Decimal(2)


def test_the_service_refuses_an_area_of_another_chart(doctor, record, chart):
    elsewhere = chart_session(make_plan(PatientFactory(), doctor), doctor)
    with pytest.raises(services.TreatmentError, match="not part of this chart"):
        services.amend_treated_area(
            chart=chart,
            area=elsewhere.areas.get(),
            data={"injections": 3},
            reason="x",
            by=as_doctor(doctor),
        )
    assert not ChartAmendment.objects.exists()


def test_a_second_correction_keeps_the_first_ones_value_as_its_before(doctor, chart):
    treated = chart.areas.get()
    for volume in ("3.5", "3"):
        services.amend_treated_area(
            chart=chart,
            area=treated,
            data={"volume_ml": Decimal(volume)},
            reason="Recounted",
            by=as_doctor(doctor),
        )
    assert list(ChartAmendment.objects.values_list("old_text", "new_text")) == [
        ("4.00", "3.50"),
        ("3.50", "3.00"),
    ]


def test_a_correction_from_a_page_opened_before_another_one_is_refused(client, doctor, chart):
    """Two doctors open the page; the first saves a volume; the second, saving injections from
    the values they saw, would put the old volume back: refused, and the first change stays."""
    treated = chart.areas.get()
    other = UserFactory(username="dr.two", role=Role.DOCTOR)
    first = form_data(treated, volume_ml="3.5", reason="Volume misread")
    second = form_data(treated, injections="7", reason="Miscounted injections")
    client.force_login(doctor)
    assert client.post(url_for(chart), first).status_code == 302
    client.force_login(other)
    response = client.post(url_for(chart), second)
    assert response.status_code == 200
    assert "Someone else changed this area meanwhile" in page_text(response)
    now = values(treated)
    assert now["volume_ml"] == Decimal("3.50") and now["injections"] != 7
    assert ChartAmendment.objects.count() == 1


def test_another_doctors_correction_of_an_unsigned_chart_is_a_kept_amendment(
    client, other_doctor, unsigned
):
    treated = unsigned.areas.get()
    before = values(treated)["volume_ml"]
    client.force_login(other_doctor)
    page = client.get(url_for(unsigned, treated)).content.decode()
    assert "has not signed the chart: each value you change is kept beside it" in page
    client.post(url_for(unsigned), form_data(treated, reason="", volume_ml="3.5"))
    assert values(treated)["volume_ml"] == before and not ChartAmendment.objects.exists()
    client.post(url_for(unsigned), form_data(treated, reason="Typo, per Dr Lee", volume_ml="3.5"))
    assert values(treated)["volume_ml"] == Decimal("3.50")
    amendment = ChartAmendment.objects.get()
    assert (amendment.by, amendment.reason) == (other_doctor, "Typo, per Dr Lee")
