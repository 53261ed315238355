"""Who signs a chart: only the doctor who treated the session. Another doctor may co-sign a
signed chart or amend it, never take over the signature (issue 13, point 4)."""

import pytest
from django.urls import reverse

from goodskin.actors import Actor
from goodskin.roles import Role
from patients.models import AuditEntry
from tests.concurrency import contend
from tests.treatments.conftest import as_doctor, chart_session, make_plan
from treatments import services
from treatments.models import ChartCosignature, SessionChart

committing = pytest.mark.django_db(transaction=True)


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


# --- co-signing -----------------------------------------------------------------------------


def test_it_lets_another_doctor_cosign_on_the_page(client, other_doctor, signed):
    client.force_login(other_doctor)
    html = page(client, signed)
    assert "Co-sign this chart" in html and "Sign the chart" not in html
    response = post(client, "chart_cosign", signed, {"note": "  Agree with the plan  "})
    html = response.content.decode()
    assert "You co-signed the chart." in html
    row = ChartCosignature.objects.get()
    assert (row.chart, row.doctor, row.note) == (signed, other_doctor, "Agree with the plan")
    assert "by Ben Otto" in html and "Agree with the plan" in html
    assert "Co-sign this chart" not in html  # once is enough
    signed.refresh_from_db()
    assert signed.signed_by.username == "dr.lee"


def test_it_audits_a_cosignature(other_doctor, signed):
    row = cosign(signed, other_doctor, note="Agree")
    entry = AuditEntry.objects.get(subject=f"chart:{signed.pk}", details__cosignature=row.pk)
    assert entry.action == "create"
    assert entry.patient_id == signed.plan.patient_id


def test_it_shows_the_cosignatures_to_the_treating_doctor(client, doctor, other_doctor, signed):
    cosign(signed, other_doctor, note="Reviewed")
    client.force_login(doctor)
    html = page(client, signed)
    assert "by Ben Otto" in html and "Reviewed" in html
    assert "Co-sign this chart" not in html


def test_it_refuses_cosigning_ones_own_chart(client, doctor, signed):
    with pytest.raises(services.TreatmentError, match="your signature is already on it"):
        cosign(signed, doctor)
    client.force_login(doctor)
    response = post(client, "chart_cosign", signed)
    assert "your signature is already on it" in response.content.decode()
    assert not ChartCosignature.objects.exists()


def test_it_refuses_a_second_cosignature_by_the_same_doctor(client, other_doctor, signed):
    cosign(signed, other_doctor)
    with pytest.raises(services.TreatmentError, match="already co-signed"):
        cosign(signed, other_doctor, note="Again")
    client.force_login(other_doctor)
    response = post(client, "chart_cosign", signed, {"note": "Again"})
    assert "You have already co-signed this chart." in response.content.decode()
    assert ChartCosignature.objects.count() == 1


def test_it_refuses_cosigning_an_unsigned_chart(client, other_doctor, unsigned):
    with pytest.raises(services.TreatmentError, match="Ana Lee has not signed this chart yet"):
        cosign(unsigned, other_doctor)
    client.force_login(other_doctor)
    assert "Co-sign this chart" not in page(client, unsigned)
    response = post(client, "chart_cosign", unsigned)
    assert "has not signed this chart yet" in response.content.decode()
    assert not ChartCosignature.objects.exists()


def test_it_refuses_a_note_too_long_with_a_message(client, other_doctor, signed):
    client.force_login(other_doctor)
    response = post(client, "chart_cosign", signed, {"note": "x" * 201})
    assert response.status_code == 200
    assert "at most 200 characters" in response.content.decode()
    assert not ChartCosignature.objects.exists()
    with pytest.raises(services.TreatmentError, match="200 characters"):
        cosign(signed, other_doctor, note="x" * 201)


def test_it_answers_404_for_a_chart_of_another_patient(client, other_doctor, signed):
    client.force_login(other_doctor)
    url = reverse("treatments:chart_cosign", args=[signed.plan.patient_id + 1, signed.pk])
    assert client.post(url).status_code == 404
    assert not ChartCosignature.objects.exists()


def test_it_refuses_cosigning_by_get(client, other_doctor, signed):
    client.force_login(other_doctor)
    url = reverse("treatments:chart_cosign", args=[signed.plan.patient_id, signed.pk])
    assert client.get(url).status_code == 405
    assert not ChartCosignature.objects.exists()


@pytest.mark.parametrize("name", ["chart_sign", "chart_cosign"])
def test_it_refuses_the_front_desk(client, front_desk, unsigned, name):
    client.force_login(front_desk)
    url = reverse(f"treatments:{name}", args=[unsigned.plan.patient_id, unsigned.pk])
    assert client.post(url, {"note": "x"}).status_code == 403
    unsigned.refresh_from_db()
    assert not unsigned.is_signed and not ChartCosignature.objects.exists()


@pytest.mark.parametrize("name", ["chart_sign", "chart_cosign"])
def test_it_refuses_a_patient(client, patient, unsigned, name):
    client.force_login(patient)
    url = reverse(f"treatments:{name}", args=[unsigned.plan.patient_id, unsigned.pk])
    assert client.post(url, {"note": "x"}).status_code in (403, 404)
    unsigned.refresh_from_db()
    assert not unsigned.is_signed and not ChartCosignature.objects.exists()


def test_it_refuses_a_front_desk_actor_in_the_service(front_desk, signed):
    actor = Actor(user=front_desk, role=Role.FRONT_DESK, ip="127.0.0.1")
    with pytest.raises(services.TreatmentError, match="Only a doctor"):
        services.cosign_chart(chart=signed, by=actor)


# --- the lock -------------------------------------------------------------------------------


@committing
def test_two_cosignatures_by_one_doctor_at_once_make_one_row(record, doctor, other_doctor):
    # cosign_chart's chart lock and its transaction: the second press (another tab) waits, finds
    # the first co-signature and is refused with a message. Without the lock it would collide
    # with the unique constraint: an IntegrityError, a 500.
    chart = chart_session(make_plan(record, doctor), doctor)
    holder, contender, waited = contend(
        lambda: cosign(chart, other_doctor), lambda: cosign(chart, other_doctor)
    )
    assert isinstance(holder, ChartCosignature), holder
    assert isinstance(contender, services.TreatmentError), contender
    assert waited
    assert ChartCosignature.objects.filter(chart=chart).count() == 1
    assert SessionChart.objects.get(pk=chart.pk).signed_by == doctor
