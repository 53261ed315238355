"""Moving the outbox from scheduling to messaging keeps every row (issue 12, point 7).

A child process migrates a database of its own to the schema before the move, writes rows the
old way (reminders about an appointment, aftercare about a session of a plan, a touch-up
invitation about a plan; waiting, sent, failed and dealt with), migrates forward and reads
them back through the new model; then migrates back and finds the old columns filled again.
On PostgreSQL and on the SQLite of `make run`.
"""

import json

import pytest

from tests.helpers import python

pytestmark = pytest.mark.django_db(transaction=True)

MIGRATE_THROUGH_THE_MOVE = """
import json
from datetime import date, datetime, timedelta, UTC
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("patients", "0002_search_name_trigram"),
    ("treatments", "0003_widen_amendment_field"),
    ("scheduling", "0007_reminder_deadlines"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


old = migrate(BEFORE)
User = old.get_model("auth", "User")
Patient = old.get_model("patients", "Patient")
Consultation = old.get_model("treatments", "Consultation")
Plan = old.get_model("treatments", "TreatmentPlan")
Location = old.get_model("scheduling", "Location")
Room = old.get_model("scheduling", "Room")
Appointment = old.get_model("scheduling", "Appointment")
Reminder = old.get_model("scheduling", "Reminder")

at = datetime(2026, 12, 7, 17, tzinfo=UTC)
doctor = User.objects.create(username="dr.old")
desk = User.objects.create(username="desk.old")
patient = Patient.objects.create(
    legal_first_name="Ann", legal_last_name="Old", date_of_birth=date(1970, 1, 1),
    search_name="ann old",
)
consultation = Consultation.objects.create(
    patient=patient, doctor=doctor, held_on=date(2026, 11, 1), ceap_right="C1",
    ceap_left="C1", decision="plan",
)
plan = Plan.objects.create(
    patient=patient, doctor=doctor, consultation=consultation, sessions_planned=4,
    interval_weeks=6, hose_days=14, session_minutes=45, status="completed",
    touch_up_due=date(2027, 6, 1),
)
room = Room.objects.create(location=Location.objects.create(name="Main"), name="1")
visit = Appointment.objects.create(
    patient=patient, doctor=doctor, location=room.location, room=room, kind="session",
    plan=plan, session_number=1, starts_at=at, ends_at=at + timedelta(minutes=45),
)
common = dict(patient=patient, channel="email", give_up_at=at)
rows = [
    Reminder(key=f"a{visit.pk}:reminder_first:1", appointment=visit, kind="reminder_first",
             due_at=at - timedelta(hours=48), about_starts_at=at, status="sent",
             sent_at=at - timedelta(hours=48), subject="See you", body="Monday", **common),
    Reminder(key=f"a{visit.pk}:reminder_second:1", appointment=visit, kind="reminder_second",
             due_at=at - timedelta(hours=2), about_starts_at=at, **common),
    Reminder(key=f"a{visit.pk}:aftercare:checkout", appointment=visit, plan=plan,
             kind="aftercare:checkout", due_at=at, status="failed", last_error="550",
             handled_at=at, handled_by=desk, **common),
    Reminder(key=f"p{plan.pk}:touch_up", plan=plan, kind="touch_up", due_at=at,
             status="cancelled", last_error="plan no longer completed", **common),
]
Reminder.objects.bulk_create(rows)
before = sorted(
    (r.pk, r.key, r.kind, r.status, r.appointment_id, r.plan_id, str(r.about_starts_at),
     r.last_error, r.handled_by_id, r.subject, r.body)
    for r in Reminder.objects.all()
)

# Through the move and no further: the migrations after it are not this test's subject, and
# applying and reversing them all took two thirds of its 40 s.
new = migrate([("messaging", "0001_initial")])
Message = new.get_model("messaging", "Message")
after = sorted(
    (m.pk, m.key, m.kind, m.status, m.topic, m.topic_id, str(m.announced_at), m.last_error,
     m.handled_by_id, m.subject, m.body, m.patient_id, m.staff_id)
    for m in Message.objects.all()
)
next_message = Message.objects.create(
    key="new", patient_id=patient.pk, kind="touch_up", channel="email", due_at=at,
    give_up_at=at,
)

old = migrate(BEFORE)
back = sorted(
    (r.pk, r.key, r.kind, r.status, r.appointment_id, r.plan_id, str(r.about_starts_at),
     r.last_error, r.handled_by_id, r.subject, r.body)
    for r in old.get_model("scheduling", "Reminder").objects.exclude(key="new")
)
print("RESULT " + json.dumps({
    "before": before, "after": after, "back": back, "new_id_after_old": next_message.pk,
    "ids": {"visit": visit.pk, "plan": plan.pk, "patient": patient.pk},
}))
"""


def migrate_through_the_move(database_url: str, tmp_path) -> dict:
    env = {"DEBUG": "true", "DATABASE_URL": database_url, "VAR_DIR": str(tmp_path / "var")}
    done = python(MIGRATE_THROUGH_THE_MOVE, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def check(result: dict) -> None:
    ids = result["ids"]
    before = {row[0]: row for row in result["before"]}
    after = {row[0]: row for row in result["after"]}
    assert len(before) == 4 and set(after) == set(before)  # every row, under the same id
    for pk, (
        _,
        key,
        kind,
        status,
        appointment,
        plan,
        announced,
        error,
        by,
        subject,
        body,
    ) in before.items():
        topic = ("appointment", appointment) if appointment else ("plan", plan)
        assert tuple(after[pk]) == (
            pk, key, kind, status, *topic, announced, error, by, subject, body,
            ids["patient"], None,
        )  # fmt: skip
    assert {row[4] for row in after.values()} == {"appointment", "plan"}
    # The sequence went on from the old rows: a new message does not collide with them.
    assert result["new_id_after_old"] > max(after)
    # And back again: the appointment and plan columns are as they were.
    assert result["back"] == result["before"]


def test_the_move_keeps_every_row_on_postgresql(fresh_postgres_database, tmp_path):
    check(migrate_through_the_move(fresh_postgres_database, tmp_path))


def test_the_move_keeps_every_row_on_sqlite(tmp_path):
    check(migrate_through_the_move(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path))
