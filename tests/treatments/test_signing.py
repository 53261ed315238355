"""Who signs a chart: only the doctor who treated the session. Another doctor may amend it,
never take over the signature (issue 13, point 4)."""

import pytest
from django.urls import reverse

from patients.models import AuditEntry
from tests.treatments.conftest import as_doctor, chart_session
from treatments import services


@pytest.fixture(autouse=True)
def names(doctor, other_doctor):
    """Plain names, so the pages can be searched for them (Faker's may hold an apostrophe)."""
    for user, (first, last) in ((doctor, ("Ana", "Lee")), (other_doctor, ("Ben", "Otto"))):
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])


@pytest.fixture
def unsigned(plan, doctor):
    return chart_session(plan, doctor, sign=False)


@pytest.fixture
def signed(plan, doctor):
    return chart_session(plan, doctor)


def page(client, chart) -> str:
    url = reverse("treatments:chart", args=[chart.plan.patient_id, chart.pk])
    return client.get(url).content.decode()


def post(client, name, chart, data=None):
    url = reverse(f"treatments:{name}", args=[chart.plan.patient_id, chart.pk])
    return client.post(url, data or {}, follow=True)


def cosign(chart, user, note=""):
    return services.cosign_chart(chart=chart, by=as_doctor(user), note=note)


# --- signing --------------------------------------------------------------------------------


def test_it_lets_the_treating_doctor_sign(client, doctor, unsigned):
    client.force_login(doctor)
    assert "Sign the chart" in page(client, unsigned)
    response = post(client, "chart_sign", unsigned)
    assert "The chart is signed." in response.content.decode()
    unsigned.refresh_from_db()
    assert unsigned.is_signed and unsigned.signed_by == doctor


def test_it_refuses_another_doctors_signature_naming_who_signs(other_doctor, unsigned):
    with pytest.raises(services.TreatmentError, match="Only Ana Lee, who treated this session"):
        services.sign_chart(chart=unsigned, by=as_doctor(other_doctor))
    unsigned.refresh_from_db()
    assert not unsigned.is_signed and unsigned.signed_by is None


def test_it_refuses_another_doctors_signature_on_the_page(client, other_doctor, unsigned):
    client.force_login(other_doctor)
    html = page(client, unsigned)
    assert "Sign the chart" not in html
    assert "Ana Lee treated this session and signs the chart" in html
    response = post(client, "chart_sign", unsigned)
    assert response.status_code == 200
    assert "Only Ana Lee, who treated this session, can sign this chart." in (
        response.content.decode()
    )
    unsigned.refresh_from_db()
    assert not unsigned.is_signed
    assert not AuditEntry.objects.filter(subject=f"chart:{unsigned.pk}", details__signed=True)


def test_it_keeps_the_signature_when_another_doctor_amends(other_doctor, doctor, signed):
    amendment = services.change_chart_text(
        chart=signed,
        field="notes",
        new_text="Went very well",
        reason="Seen at review",
        by=as_doctor(other_doctor),
    )
    services.amend_treated_area(
        chart=signed,
        area=signed.areas.get(),
        data={"injections": 9},
        reason="Miscounted",
        by=as_doctor(other_doctor),
    )
    signed.refresh_from_db()
    assert amendment.by == other_doctor
    assert signed.signed_by == doctor and signed.doctor == doctor
    assert signed.amendments.filter(by=other_doctor).count() == 2
