"""The patient downloads their own whole record from the portal (issue 14, point 5): the same
record staff export, audit trail included; only their own; audited with the patient as actor."""

import json
import re
import shutil
import subprocess

import pytest
from django.urls import reverse

from goodskin.roles import Role
from patients import record_export
from patients.models import AuditEntry
from patients.record_export import build_record
from tests.english import english_left
from tests.factories import PatientFactory, UserFactory
from tests.patients.rich_record import AMENDED_NOTE, AMENDMENT_REASON, make_rich_record
from tests.scheduling.conftest import MONDAY

URLS = ("portal:my_record_json", "portal:my_record_pdf")


@pytest.fixture
def rich(now, hours, patient, front_desk, doctor, other_doctor):
    return make_rich_record(
        user=patient, front_desk=front_desk, doctor=doctor, other_doctor=other_doctor
    ).patient


@pytest.fixture
def stranger(db):
    user = UserFactory(username="stranger", role=Role.PATIENT)
    return PatientFactory(portal_user=user, legal_last_name="Zebulon")


def test_the_patient_downloads_their_whole_record_as_json(client, rich, patient):
    client.force_login(patient)
    response = client.get(reverse("portal:my_record_json"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="record-{rich.pk}-{MONDAY.isoformat()}.json"'
    )
    downloaded = json.loads(response.content)
    now_built = build_record(rich)
    for section in record_export.sections():
        if section.name != "audit_trail":
            assert downloaded[section.name] == now_built[section.name], section.name
    # The audit trail is the patient's too: every staff read, up to their own download,
    # without the staff's network addresses (the clinic's, not the patient's data).
    for entry in now_built["audit_trail"]:
        entry.pop("from_address")
    assert downloaded["audit_trail"] == now_built["audit_trail"][:-1]
    assert all("from_address" not in entry for entry in downloaded["audit_trail"])
    staff_reads = [e for e in downloaded["audit_trail"] if (e["role"] or {}).get("value")]
    assert any(e["role"]["value"] == "front_desk" for e in staff_reads)
    assert downloaded["treatment_plans"][0]["charts"][0]["amendments"][0]["new_text"] == (
        AMENDED_NOTE
    )


def test_the_patient_downloads_their_whole_record_as_pdf(client, rich, patient):
    client.force_login(patient)
    response = client.get(reverse("portal:my_record_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="record-{rich.pk}-{MONDAY.isoformat()}.pdf"'
    )
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize("url_name", URLS)
def test_each_download_is_audited_with_the_patient_as_actor(client, rich, patient, url_name):
    client.force_login(patient)
    client.get(reverse(url_name), REMOTE_ADDR="10.9.8.7")
    entry = AuditEntry.objects.filter(patient=rich, action="export").get()
    assert (entry.user, entry.role, entry.ip) == (patient, Role.PATIENT, "10.9.8.7")
    assert entry.details["format"] == url_name.rsplit("_", 1)[1]


def test_the_details_page_explains_and_offers_both_downloads(client, rich, patient):
    client.force_login(patient)
    body = client.get(reverse("portal:my_record")).content.decode()
    assert reverse("portal:my_record_pdf") in body and reverse("portal:my_record_json") in body
    assert "You have the right to a copy of everything the clinic keeps about you" in body
    assert "who at the clinic opened or changed your record" in body


@pytest.mark.parametrize("url_name", URLS)
def test_another_patient_gets_only_their_own_record(client, rich, stranger, url_name):
    client.force_login(stranger.portal_user)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert f"record-{stranger.pk}-" in response["Content-Disposition"]
    if url_name.endswith("json"):
        record = json.loads(response.content)
        assert record["record_number"] == stranger.pk
        assert "Quintanilla" not in response.content.decode()
    assert not AuditEntry.objects.filter(patient=rich, action="export").exists()


@pytest.mark.parametrize("url_name", URLS)
def test_a_patient_account_without_a_record_gets_404(client, db, url_name):
    user = UserFactory(username="unlinked", role=Role.PATIENT)
    client.force_login(user)
    assert client.get(reverse(url_name)).status_code == 404


@pytest.mark.parametrize("url_name", URLS)
def test_staff_and_the_administrator_are_refused(client, rich, users_by_role, url_name):
    for role in (Role.FRONT_DESK, Role.DOCTOR, Role.ADMIN):
        client.force_login(users_by_role[role])
        response = client.get(reverse(url_name))
        assert response.status_code == 403, role
        assert b"Quintanilla" not in response.content


@pytest.mark.parametrize("url_name", URLS)
def test_anonymous_visitors_are_sent_to_login(client, db, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def pdf_text(content: bytes, tmp_path) -> str:
    """The words of a PDF, as poppler's pdftotext reads them (Debian's poppler-utils)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "record.pdf"
    path.write_bytes(content)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return " ".join(done.stdout.decode().split())


# What people typed into the rich record, in English: the record keeps it as written.
TYPED = [
    AMENDED_NOTE,
    AMENDMENT_REASON,
    "Went well",
    "Mild redness",
    "Support hose for 14 days",
    "Stopped the pill in October",
    "Prefers morning visits",
    "Your appointment on Friday",
    "secret body with https://example.org/unsubscribe/abc",
]


def test_a_spanish_reader_downloads_a_record_all_in_spanish(client, rich, patient, tmp_path):
    """Issue 16: the record a patient downloads speaks their language, its dates written as
    every page writes them ("16 de noviembre de 2026"), never ISO."""
    rich.language = "es"
    rich.save(update_fields=["language"])
    client.force_login(patient)
    response = client.get(reverse("portal:my_record_pdf"))
    assert response.status_code == 200
    text = pdf_text(response.content, tmp_path)
    assert "Expediente de paciente: Rosalind Quintanilla" in text
    assert "Fecha de la sesión 16 de noviembre de 2026" in text
    assert re.findall(r"\d{4}-\d{2}-\d{2}", text) == []
    # The audit trail says what was opened in words, not the code's English tokens.
    assert "datos personales" in text
    assert not re.search(r"\b(screening|portal schedule|plan:\d+)\b", text)
    for typed in TYPED:
        text = text.replace(typed, "")
    assert english_left(text) == []
