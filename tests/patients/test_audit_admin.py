"""The administrator's audit list: filters by patient, user, action and dates, a CSV export of
what is filtered, a check of the hash chain; every read of it audited; no one else gets in."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.urls import reverse

from goodskin.actors import Actor
from goodskin.roles import Role
from patients import audit
from patients.models import AuditAction, AuditEntry
from tests.factories import PatientFactory, UserFactory

LIST = reverse("admin:patients_auditentry_changelist")
EXPORT = reverse("admin:patients_auditentry_export")
VERIFY = reverse("admin:patients_auditentry_verify")
CLINIC = ZoneInfo("America/Los_Angeles")


def entry(*, at=None, user=None, patient=None, action=AuditAction.VIEW, subject="patient"):
    fields = {"at": at} if at else {}
    return AuditEntry.objects.create(
        user=user, patient=patient, action=action, subject=subject, role="doctor", **fields
    )


def shown(response) -> set[int]:
    return {e.pk for e in response.context["cl"].result_list}


@pytest.fixture
def trail(doctor, front_desk):
    """Four entries: two patients, two users, two actions, two days (clinic time)."""
    ana, bo = PatientFactory(), PatientFactory()
    return {
        "ana_view": entry(user=doctor, patient=ana, at=datetime(2026, 3, 7, 23, 30, tzinfo=CLINIC)),
        "ana_change": entry(
            user=front_desk,
            patient=ana,
            action=AuditAction.CHANGE,
            at=datetime(2026, 3, 8, 0, 30, tzinfo=CLINIC),
        ),
        "bo_view": entry(user=doctor, patient=bo, at=datetime(2026, 3, 9, 9, 0, tzinfo=CLINIC)),
        "bo_export": entry(
            user=front_desk,
            patient=bo,
            action=AuditAction.EXPORT,
            at=datetime(2026, 3, 10, 9, 0, tzinfo=CLINIC),
        ),
        "ana": ana,
        "bo": bo,
    }


@pytest.fixture
def as_admin(client, clinic_admin):
    client.force_login(clinic_admin)
    return client


def test_it_filters_by_patient(as_admin, trail):
    response = as_admin.get(LIST, {"patient": trail["ana"].pk})
    assert shown(response) == {trail["ana_view"].pk, trail["ana_change"].pk}


def test_it_filters_by_user(as_admin, trail):
    response = as_admin.get(LIST, {"user": "FIONA"})
    assert shown(response) == {trail["ana_change"].pk, trail["bo_export"].pk}


def test_it_filters_by_action(as_admin, trail):
    response = as_admin.get(LIST, {"action__exact": "export"})
    assert shown(response) == {trail["bo_export"].pk}


def test_it_filters_by_clinic_days_from_and_until(as_admin, trail):
    response = as_admin.get(LIST, {"from": "2026-03-08", "until": "2026-03-09"})
    assert shown(response) == {trail["ana_change"].pk, trail["bo_view"].pk}


def test_it_combines_filters(as_admin, trail):
    response = as_admin.get(LIST, {"patient": trail["bo"].pk, "user": "dr.lee"})
    assert shown(response) == {trail["bo_view"].pk}


@pytest.mark.parametrize(
    "params",
    [
        {"patient": "x"},
        {"patient": "9" * 30},
        {"from": "0001-01-01"},
        {"until": "9999-12-31"},
        {"from": "2026-02-30"},
        {"until": "yesterday"},
        {"user": "a" * 10_000},
    ],
)
def test_it_answers_bad_filter_values_without_an_error(as_admin, trail, params):
    for url in (LIST, EXPORT):
        response = as_admin.get(url, params)
        assert response.status_code in (200, 302), (url, params)


def test_it_audits_each_read_of_the_list_with_its_filters(as_admin, clinic_admin, trail):
    as_admin.get(LIST, {"patient": trail["ana"].pk, "action__exact": "view"})
    read = AuditEntry.objects.filter(subject="audit list").get()
    assert (read.user, read.action, read.patient) == (clinic_admin, "view", trail["ana"])
    assert read.details["filters"] == {"patient": str(trail["ana"].pk), "action__exact": "view"}
    assert read.details["shown"] == 1


def test_an_entry_has_no_page_of_its_own(as_admin, trail):
    # Its title would name its user: a patient's email when the patient acted (issue 14, 9).
    response = as_admin.get(
        reverse("admin:patients_auditentry_change", args=[trail["ana_view"].pk])
    )
    assert response.status_code == 403


def rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_it_exports_the_filtered_list_as_csv(as_admin, trail):
    response = as_admin.get(EXPORT, {"patient": trail["bo"].pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    header, *lines = rows(response)
    assert header[:3] == ["seq", "at", "user"]
    assert {line[4] for line in lines} == {str(trail["bo"].pk)}
    assert {line[5] for line in lines} == {"view", "export"}
    # The trail's two entries, and the export itself (written before the file streams).
    assert [(line[6], line[8]) for line in lines] == [
        ("audit list", "filters: patient"),
        ("patient", ""),
        ("patient", ""),
    ]


def test_it_exports_what_details_are_about_without_their_values(as_admin, front_desk):
    actor = Actor(user=front_desk, role=Role.FRONT_DESK, ip=None)
    audit.record(
        actor=actor,
        patient=None,
        action=AuditAction.SEARCH,
        subject="s",
        details={"query": "García"},
    )
    lines = rows(as_admin.get(EXPORT, {"action__exact": "search"}))
    assert lines[1][8] == "query: …"


def test_it_audits_the_export(as_admin, clinic_admin, trail):
    rows(as_admin.get(EXPORT, {"action__exact": "change"}))
    export = AuditEntry.objects.get(action="export", subject="audit list")
    assert export.user == clinic_admin
    assert export.details["filters"] == {"action__exact": "change"}


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_it_keeps_spreadsheets_from_running_a_cell_as_a_formula(as_admin, start):
    entry(subject=f"{start}HYPERLINK(1)")
    lines = rows(as_admin.get(EXPORT, {"action__exact": "view"}))
    assert [line[6] for line in lines[1:]] == [f"'{start}HYPERLINK(1)"]


def test_it_shows_an_administrator_that_the_chain_is_whole(as_admin, trail):
    response = as_admin.get(VERIFY)
    assert response.status_code == 200
    assert "The audit chain is whole: 4 entries checked." in response.content.decode()
    check = AuditEntry.objects.get(subject="audit chain check")
    assert check.details == {"whole": True, "checked": 4}


@pytest.mark.django_db(transaction=True)
def test_it_shows_an_administrator_where_the_chain_breaks(client, clinic_admin):
    changed = entry()
    entry()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE patients_auditentry SET role = 'admin' WHERE id = %s", [changed.pk])
    client.force_login(clinic_admin)
    html = client.get(VERIFY).content.decode()
    assert "The audit chain is broken in 1 place." in html
    assert f"Entry id {changed.pk} (number 1) does not match its hash" in html


def test_the_list_links_to_the_export_and_the_check(as_admin, trail):
    html = as_admin.get(LIST, {"action__exact": "view"}).content.decode()
    assert f'href="{EXPORT}?action__exact=view"' in html
    assert f'href="{VERIFY}"' in html
    for name in ("patient", "user", "from", "until"):
        assert f'name="{name}"' in html
    # Each box keeps the other filters when it is submitted.
    assert '<input type="hidden" name="action__exact" value="view">' in html


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.FRONT_DESK, Role.PATIENT, None])
def test_no_one_but_an_administrator_reads_the_audit_trail(client, users_by_role, trail, role):
    if role:
        client.force_login(users_by_role[role])
    for url in (LIST, EXPORT, VERIFY):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    assert not AuditEntry.objects.filter(subject__in=["audit list", "audit chain check"]).exists()


def test_staff_status_alone_does_not_open_the_audit_trail(client, trail):
    """A doctor who was given the admin's staff flag still acts as a doctor."""
    staff_doctor = UserFactory(username="dr.staff", role=Role.DOCTOR, is_staff=True)
    client.force_login(staff_doctor)
    for url in (LIST, EXPORT, VERIFY):
        assert client.get(url).status_code == 403, url


def test_the_role_filter_names_every_role_and_the_system_for_entries_with_none(
    client, clinic_admin, trail
):
    """The plain field filter listed the empty role as a link with no text (axe: link-name)."""
    system = AuditEntry.objects.create(action=AuditAction.VIEW, subject="patient", role="")
    client.force_login(clinic_admin)
    page = client.get(LIST)
    listing = page.context["cl"]
    (spec,) = [s for s in listing.filter_specs if getattr(s, "parameter_name", "") == "role"]
    labels = [choice["display"] for choice in spec.choices(listing)]
    assert all(str(label).strip() for label in labels)
    assert "the system" in [str(label) for label in labels]
    assert system.pk in shown(client.get(LIST, {"role": "system"}))
    assert shown(client.get(LIST, {"role": "system"})).isdisjoint(
        e.pk for e in AuditEntry.objects.exclude(role="")
    )
    assert trail["ana_view"].pk in shown(client.get(LIST, {"role": "doctor"}))
