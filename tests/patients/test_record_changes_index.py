"""The record page's "Recent changes to these details" reads the patient's changes through an
index of the audit log's changes alone (migration 0014): through the index of all their
entries it read every audited view of the record to find them, so a record grew slower each
time it was opened (6 to 22 ms at 2,400 views; bench/load.py, "patient record")."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goodskin.actors import Actor
from goodskin.roles import Role
from patients import audit
from patients.models import AuditAction
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_the_records_recent_changes_are_read_through_the_changes_index(client, front_desk):
    patient = PatientFactory()
    desk = Actor(user=front_desk, role=Role.FRONT_DESK, ip="127.0.0.1")
    audit.record_many(actor=desk, action=AuditAction.VIEW, entries=[(patient, "patient", {})] * 300)
    audit.record(
        actor=desk,
        patient=patient,
        action=AuditAction.CHANGE,
        subject="patient",
        details={"fields": ["phone"]},
    )
    client.force_login(front_desk)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Recent changes to these details" in page and "<code>phone</code>" in page
    (changes,) = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT")
        and '"patients_auditentry"."action" = \'change\'' in q["sql"]
    ]
    with connection.cursor() as cursor:
        # Whatever the planner thinks of a table this small: the index can serve the query.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + changes)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "audit_patient_change_idx" in plan
