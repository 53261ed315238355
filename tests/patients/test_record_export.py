"""The patient's whole record, exported (issue 14, point 5): every section against the database
row by row, no secret in it, the PDF printed from the same data, who may download it, the audit
entry each download writes, and a query count that does not grow with the record."""

import json
import re
from datetime import date, datetime, timedelta

import pytest
from django.apps import apps
from django.urls import reverse

from goodskin.actors import Actor
from goodskin.roles import Role
from patients import audit, printouts, record_export, record_layout
from patients.models import (
    AuditAction,
    AuditEntry,
    Patient,
    PortalInvitation,
    ScreeningAnswer,
    ScreeningChange,
)
from patients.record_export import build_record
from patients.record_files import as_html, as_pdf
from scheduling.models import Appointment, CalendarFeed, Kind
from scheduling.services import book_appointment
from tests.factories import PatientFactory
from tests.patients.rich_record import (
    AMENDED_NOTE,
    AMENDMENT_REASON,
    EARLIER_NOTE,
    make_rich_record,
)
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import make_plan
from treatments.models import AdverseEvent, Consultation, TreatmentPlan

# The most queries an export makes, however many plans, charts and appointments it holds (the
# messages section asks each kind of message that the record holds to describe its own: one
# more query per kind registered, such as the change notices of issue 15).
EXPORT_QUERIES = 32  # 28 with safety check-ins; 29 when one has answers; 3 for the waitlist


@pytest.fixture
def rich(now, hours, patient, front_desk, doctor, other_doctor):
    return make_rich_record(
        user=patient, front_desk=front_desk, doctor=doctor, other_doctor=other_doctor
    ).patient


def instant(text: str | None) -> datetime | None:
    """An exported time: ISO 8601 with its offset."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    assert value.utcoffset() is not None, text
    return value


def name(user) -> str | None:
    return None if user is None else (user.get_full_name() or user.get_username())


def chosen(row, field: str) -> dict | None:
    value = getattr(row, field)
    if value == "":
        return None
    return {"value": value, "label": str(getattr(row, f"get_{field}_display")())}


def test_it_exports_the_personal_details_and_consents_as_stored(rich):
    record = build_record(rich)
    details = record["demographics"]
    assert record["record_number"] == rich.pk and record["format"] == "goodskin-record/1"
    for field in ("legal_first_name", "legal_last_name", "preferred_name", "email", "notes"):
        assert details[field] == getattr(rich, field), field
    assert date.fromisoformat(details["date_of_birth"]) == rich.date_of_birth
    assert details["phone"] == str(rich.phone) and details["phone"].startswith("+1503")
    assert details["sex"] == chosen(rich, "sex")
    assert details["portal_account"] == rich.portal_user.username
    assert details["merged_records"] == list(
        Patient.objects.filter(merged_into=rich).values_list("pk", flat=True)
    )
    consents = record["consents"]
    assert consents["reminder_channel"] == chosen(rich, "reminder_channel")
    for kind in ("email", "sms", "reminders", "aftercare", "photos"):
        given_on = getattr(rich, f"consent_{kind}_on")
        assert consents[kind] == {
            "given": getattr(rich, f"consent_{kind}"),
            "on": given_on.isoformat() if given_on else None,
        }


def test_it_exports_the_screening_now_and_every_earlier_answer(rich):
    screening = build_record(rich)["screening"]
    answers = ScreeningAnswer.objects.filter(patient=rich)
    assert {a["question"]["value"]: a["answer"]["value"] for a in screening["current"]} == {
        a.question: a.answer for a in answers
    }
    assert {a["question"]["value"]: a["note"] for a in screening["current"]} == {
        a.question: a.note for a in answers
    }
    changes = list(ScreeningChange.objects.filter(patient=rich).order_by("-changed_at", "-id"))
    assert len(screening["changes"]) == len(changes)
    for exported, row in zip(screening["changes"], changes, strict=True):
        assert exported["question"]["value"] == row.question
        assert (exported["old_answer"] or {}).get("value", "") == row.old_answer
        assert exported["new_answer"]["value"] == row.new_answer
        assert (exported["old_note"], exported["new_note"]) == (row.old_note, row.new_note)
        assert instant(exported["changed_at"]) == row.changed_at
        assert exported["changed_by"] == name(row.changed_by)
    estrogen = [c for c in screening["changes"] if c["question"]["value"] == "estrogen"]
    assert [c["new_answer"]["value"] for c in estrogen] == ["no", "yes"]
    assert estrogen[0]["old_answer"]["value"] == "yes"
    assert estrogen[0]["new_note"] == "Stopped the pill in October"


def test_it_exports_each_consultation(rich):
    exported = build_record(rich)["consultations"]
    rows = list(Consultation.objects.filter(patient=rich).order_by("held_on", "id"))
    assert [c["id"] for c in exported] == [c.pk for c in rows]
    for item, row in zip(exported, rows, strict=True):
        assert date.fromisoformat(item["held_on"]) == row.held_on
        assert item["doctor"] == name(row.doctor)
        assert item["ceap_right"] == chosen(row, "ceap_right")
        assert item["decision"] == chosen(row, "decision")
        assert [v["value"] for v in item["vessels_left"]] == row.vessels_left
        assert {
            q["question"]["value"]: q["answer"]["value"] for q in item["screening_reviewed"]
        } == (row.screening_reviewed)


def test_it_exports_plans_with_clearances_and_charts_with_areas_and_amendments(rich):
    exported = build_record(rich)["treatment_plans"]
    plans = list(TreatmentPlan.objects.filter(patient=rich).order_by("created_at", "id"))
    assert [p["id"] for p in exported] == [p.pk for p in plans]
    for item, plan in zip(exported, plans, strict=True):
        assert item["status"] == chosen(plan, "status")
        assert [a["value"] for a in item["areas"]] == plan.areas
        assert (item["sessions_planned"], item["hose_days"]) == (
            plan.sessions_planned,
            plan.hose_days,
        )
        clearances = list(plan.clearances.order_by("at", "id"))
        assert [
            (c["what"]["value"], c["kind"]["value"], c["session"]) for c in item["clearances"]
        ] == [(c.key, c.kind, c.session) for c in clearances]
        charts = list(plan.charts.order_by("number"))
        assert [c["number"] for c in item["charts"]] == [c.number for c in charts]
        for chart_item, chart in zip(item["charts"], charts, strict=True):
            assert chart_item["notes"] == chart.notes
            assert instant(chart_item["signed_at"]) == chart.signed_at
            assert chart_item["signed_by"] == name(chart.signed_by)
            areas = list(chart.areas.order_by("id"))
            assert [
                (a["region"]["value"], a["volume_ml"], a["injections"], a["agent"]["value"])
                for a in chart_item["treated_areas"]
            ] == [(a.region, str(a.volume_ml), a.injections, a.agent) for a in areas]
            amendments = list(chart.amendments.order_by("at", "id"))
            assert [
                (a["field"]["value"], a["old_text"], a["new_text"], a["reason"], a["by"])
                for a in chart_item["amendments"]
            ] == [(a.field, a.old_text, a.new_text, a.reason, name(a.by)) for a in amendments]
            assert [c["doctor"] for c in chart_item["cosignatures"]] == [
                name(c.doctor) for c in chart.cosignatures.all()
            ]
    amendment = exported[0]["charts"][0]["amendments"][0]
    assert (amendment["old_text"], amendment["new_text"]) == (EARLIER_NOTE, AMENDED_NOTE)
    assert exported[0]["clearances"], "the rich record has a clearance"


def test_it_exports_adverse_events_with_their_follow_ups(rich):
    exported = build_record(rich)["adverse_events"]
    events = list(AdverseEvent.objects.filter(plan__patient=rich).order_by("onset_on", "id"))
    assert [e["id"] for e in exported] == [e.pk for e in events] and events
    for item, event in zip(exported, events, strict=True):
        assert item["type"] == chosen(event, "type")
        assert item["severity"] == chosen(event, "severity")
        assert date.fromisoformat(item["onset_on"]) == event.onset_on
        assert (item["plan"], item["chart"]) == (event.plan_id, event.chart.number)
        assert item["management"] == event.management
        assert item["reported_by"] == name(event.reported_by)
        assert [(f["action"], f["outcome"], f["by"]) for f in item["follow_ups"]] == [
            (f.action, f.outcome, name(f.by)) for f in event.follow_ups.order_by("on", "id")
        ]


def test_it_exports_every_appointment_with_its_moves_and_cancellation(rich, doctor):
    exported = build_record(rich)["appointments"]
    rows = list(Appointment.objects.filter(patient=rich).order_by("starts_at", "id"))
    assert [a["id"] for a in exported] == [a.pk for a in rows]
    for item, row in zip(exported, rows, strict=True):
        assert instant(item["starts_at"]) == row.starts_at
        assert instant(item["ends_at"]) == row.ends_at
        assert item["status"] == chosen(row, "status")
        assert item["cancelled_by"] == chosen(row, "cancelled_by")
        assert (item["cancel_reason"], item["room"]) == (row.cancel_reason, row.room.name)
        changes = list(row.changes.order_by("at", "id"))
        assert [c["action"]["value"] for c in item["changes"]] == [c.action for c in changes]
        for change, stored in zip(item["changes"], changes, strict=True):
            assert instant(change["at"]) == stored.at
            for side in ("before", "after"):
                if stored_side := getattr(stored, side):
                    assert instant(change[side]["starts_at"]) == datetime.fromisoformat(
                        stored_side["starts_at"]
                    )
                    assert change[side]["status"]["value"] == stored_side["status"]
                    assert change[side]["doctor"] == name(doctor)
    by_id = {a["id"]: a for a in exported}
    moves = [c for a in exported for c in a["changes"] if c["action"]["value"] == "moved"]
    assert len(moves) == 1
    assert instant(moves[0]["before"]["starts_at"]) == at(MONDAY + timedelta(days=3), 10)
    assert instant(moves[0]["after"]["starts_at"]) == at(MONDAY + timedelta(days=4), 11)
    cancelled = [a for a in by_id.values() if a["status"]["value"] == "cancelled"]
    assert cancelled[0]["cancel_reason"] == "Travelling"


def test_it_exports_the_messages_but_not_their_text_or_links(rich):
    record = build_record(rich)
    rows = list(rich.messages.order_by("due_at", "id"))
    exported = record["messages"]
    assert len(exported) == len(rows) >= 2
    for item, row in zip(exported, rows, strict=True):
        assert item["kind"]["value"] == row.kind
        assert item["channel"] == chosen(row, "channel")
        assert item["status"] == chosen(row, "status")
        assert instant(item["due_at"]) == row.due_at
        assert instant(item["sent_at"]) == row.sent_at
        assert item["subject"] == row.subject
    assert any(m["status"]["value"] == "sent" for m in exported)
    text = json.dumps(record)
    assert "secret body" not in text and "unsubscribe" not in text


def test_it_leaves_every_secret_out(rich):
    PortalInvitation.objects.create(
        patient=rich, email=rich.email, token_hash="f" * 64, expires_at=at(MONDAY, 9)
    )
    text = json.dumps(build_record(rich))
    assert rich.portal_user.password not in text
    assert "secret-feed-token-123" not in text and "f" * 64 not in text
    assert "form_token" not in text and "prev_hash" not in text
    feeds = build_record(rich)["calendar_feeds"]
    assert [instant(f["created_at"]) for f in feeds] == [
        f.created_at for f in CalendarFeed.objects.filter(patient=rich)
    ]


def test_it_exports_the_audit_trail_of_the_record_and_of_records_merged_into_it(rich):
    exported = build_record(rich)["audit_trail"]
    merged = list(Patient.objects.filter(merged_into=rich).values_list("pk", flat=True))
    entries = list(AuditEntry.objects.filter(patient__in=[rich.pk, *merged]).order_by("at", "id"))
    assert len(exported) == len(entries) > 10
    for item, entry in zip(exported, entries, strict=True):
        assert instant(item["at"]) == entry.at
        assert item["who"] == name(entry.user)
        assert (item["role"] or {}).get("value", "") == entry.role
        assert item["action"] == chosen(entry, "action")
        assert (item["subject"]["value"], item["from_address"]) == (entry.subject, entry.ip)
        details = (item["details"] or {}).get("value", {})
        assert (item["record_number"], details) == (entry.patient_id, entry.details)
    assert {e["record_number"] for e in exported} == {rich.pk, *merged}


def test_every_exported_time_carries_the_clinic_offset(rich):
    text = json.dumps(build_record(rich))
    times = re.findall(r'"(\d{4}-\d{2}-\d{2}T[^"]+)"', text)
    assert times and all(re.search(r"-0[78]:00$", t) for t in times), times[:5]


def _keys(value, found: set) -> set:
    if isinstance(value, dict):
        for key, inner in value.items():
            found.add(key)
            if key != "details":  # the audit's own details are shown as stored
                _keys(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _keys(inner, found)
    return found


def test_every_key_has_words_for_the_pdf(rich):
    record = build_record(rich)
    missing = []
    for section in record_export.sections():
        words = {**record_export.COMMON_LABELS, **section.labels}
        keys = _keys(record[section.name], set()) - {"value", "label"}
        missing += [f"{section.name}.{key}" for key in sorted(keys - set(words))]
    assert missing == []


def test_every_model_holding_a_patients_rows_is_in_a_section():
    """The tables that point at a patient, and those that point at them: each section says
    which it reads, so a new one can't be left out of the export silently."""
    held = {Patient}
    grown = True
    while grown:
        before = len(held)
        for model in apps.get_models():
            if model._meta.app_label not in ("patients", "messaging", "treatments", "scheduling"):
                continue
            for field in model._meta.get_fields():
                if (
                    field.many_to_one
                    and field.related_model in held
                    and not field.name.endswith(("_by", "merged_into"))
                ):
                    held.add(model)
        grown = len(held) > before
    assert {Patient, AuditEntry, Appointment, AdverseEvent} <= held and len(held) > 15
    assert held - record_export.covered_models() == set()


def test_the_pdf_page_is_printed_from_the_same_data(rich):
    record = build_record(rich)
    html = as_html(record)
    assert "Rosalind Quintanilla" in html
    assert EARLIER_NOTE in html and AMENDED_NOTE in html and AMENDMENT_REASON in html
    assert "Who opened or changed this record" in html
    assert "Travelling" in html and "Browning (hyperpigmentation)" in html
    assert "http://" not in html and "https://" not in html


def test_the_pdf_fetches_nothing_and_numbers_its_pages(db, monkeypatch):
    fetched = []
    monkeypatch.setattr(printouts, "no_fetch", lambda url, *a, **k: fetched.append(url))
    patient = PatientFactory(notes='<img src="https://example.org/track.png"> see me')
    record = build_record(patient)
    assert as_pdf(record).startswith(b"%PDF")
    assert fetched == []
    assert "&lt;img src=" in as_html(record)
    assert 'counter(page) " of " counter(pages)' in printouts.page_numbers()


def test_a_long_audit_trail_prints_one_line_per_entry(db, front_desk):
    patient = PatientFactory()
    actor = Actor(user=front_desk, role=Role.FRONT_DESK, ip="10.1.1.1")
    count = record_layout.COMPACT_ROWS + 5
    audit.record_many(
        actor=actor,
        action=AuditAction.VIEW,
        entries=[(patient, f"page {n}", {}) for n in range(count)],
    )
    html = as_html(build_record(patient))
    trail = html.split("Who opened or changed this record")[1]
    assert "One line each:" in trail and '<table class="rows">' not in trail
    assert trail.count('<p class="line">') == count
    assert all(f"page {n}" in trail for n in range(count))


def test_the_query_count_does_not_grow_with_the_record(
    rich, front_desk, doctor, django_assert_max_num_queries
):
    with django_assert_max_num_queries(EXPORT_QUERIES):
        build_record(rich)
    make_plan(rich, doctor, start=False)
    for day in (9, 10, 11):
        book_appointment(
            patient=rich,
            doctor=doctor,
            kind=Kind.REVIEW,
            starts_at=at(MONDAY + timedelta(days=day), 14),
            by=desk_actor(front_desk),
        )
    with django_assert_max_num_queries(EXPORT_QUERIES):
        record = build_record(rich)
    assert len(record["treatment_plans"]) == 2 and len(record["appointments"]) == 5


# The staff's downloads.


def download(client, user, name: str, pk: int):
    client.force_login(user)
    return client.get(reverse(name, args=[pk]))


@pytest.mark.parametrize("role", ["front_desk", "doctor"])
def test_staff_download_the_record_as_json(client, rich, role, request):
    response = download(client, request.getfixturevalue(role), "patients:export", rich.pk)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="record-{rich.pk}-{MONDAY.isoformat()}.json"'
    )
    assert "Quintanilla" not in response["Content-Disposition"]
    downloaded = json.loads(response.content)
    now_built = build_record(rich)
    for section in record_export.sections():
        if section.name != "audit_trail":
            assert downloaded[section.name] == now_built[section.name], section.name
    # Since the download, only its own export entry was added to the trail.
    assert downloaded["audit_trail"] == now_built["audit_trail"][:-1]
    assert now_built["audit_trail"][-1]["action"]["value"] == "export"


@pytest.mark.parametrize("role", ["front_desk", "doctor"])
def test_staff_download_the_record_as_pdf(client, rich, role, request):
    response = download(client, request.getfixturevalue(role), "patients:export_pdf", rich.pk)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="record-{rich.pk}-{MONDAY.isoformat()}.pdf"'
    )
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 5000


@pytest.mark.parametrize(
    ("url_name", "file_format"), [("patients:export", "json"), ("patients:export_pdf", "pdf")]
)
def test_each_download_writes_one_export_entry(client, rich, front_desk, url_name, file_format):
    before = AuditEntry.objects.filter(patient=rich, action="export").count()
    response = download(client, front_desk, url_name, rich.pk)
    entries = AuditEntry.objects.filter(patient=rich, action="export")
    assert entries.count() == before + 1
    entry = entries.order_by("-id").first()
    assert (entry.user, entry.role, entry.ip) == (front_desk, "front_desk", "127.0.0.1")
    assert entry.details["format"] == file_format
    assert entry.subject == f"record ({file_format})"
    assert entry.details["file"] in response["Content-Disposition"]


def test_the_record_page_offers_both_downloads_to_staff(client, rich, front_desk, doctor):
    for user in (front_desk, doctor):
        client.force_login(user)
        page = client.get(reverse("patients:detail", args=[rich.pk])).content.decode()
        assert reverse("patients:export", args=[rich.pk]) in page
        assert reverse("patients:export_pdf", args=[rich.pk]) in page
        assert "Download record (PDF)" in page and "Download record (JSON)" in page


@pytest.mark.parametrize("url_name", ["patients:export", "patients:export_pdf"])
def test_the_administrator_and_patients_cannot_download_a_record(
    client, rich, clinic_admin, patient, url_name
):
    for user in (clinic_admin, patient):  # `patient` is the record's own portal account
        response = download(client, user, url_name, rich.pk)
        assert response.status_code in (403, 404)
        assert b"Quintanilla" not in response.content
    assert not AuditEntry.objects.filter(
        patient=rich, action="export", user__in=[clinic_admin, patient]
    ).exists()


@pytest.mark.parametrize("url_name", ["patients:export", "patients:export_pdf"])
def test_anonymous_visitors_are_sent_to_login(client, db, url_name):
    record = PatientFactory()
    response = client.get(reverse(url_name, args=[record.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_merged_record_s_download_is_the_kept_record_s(client, rich, front_desk):
    duplicate = Patient.objects.get(merged_into=rich)
    response = download(client, front_desk, "patients:export", duplicate.pk)
    assert response.status_code == 302
    assert response.url == reverse("patients:export", args=[rich.pk])
