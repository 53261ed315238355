"""A patient is never in two places: PostgreSQL refuses two active appointments (booked,
checked in, in progress) of the same patient that overlap, with any doctors and rooms, as it
does for a doctor and a room (0002). PostgreSQL only, like 0002; the booking rules check first
on every database.

A database that already holds such a pair can't take the constraint: the migration stops and
names the appointments, for the front desk to move or cancel one of each pair first."""

from django.db import migrations

CONSTRAINT = "appointment_no_patient_overlap"
ACTIVE = "('booked', 'checked_in', 'in_progress')"
CLASHES = f"""
    SELECT a.id, b.id FROM scheduling_appointment a JOIN scheduling_appointment b
      ON a.patient_id = b.patient_id AND a.id < b.id
     AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')
     WHERE a.status IN {ACTIVE} AND b.status IN {ACTIVE}
     LIMIT 50
"""


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(CLASHES)
        clashes = cursor.fetchall()
    if clashes:
        pairs = ", ".join(f"{a} and {b}" for a, b in clashes)
        raise RuntimeError(
            f"These appointments put one patient in two places at once: {pairs}. "
            "Move or cancel one of each pair, then migrate again."
        )
    schema_editor.execute(
        f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {CONSTRAINT} "
        "EXCLUDE USING gist (patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        f"WHERE (status IN {ACTIVE})"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {CONSTRAINT}"
        )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0010_closed_days")]

    operations = [migrations.RunPython(add, drop)]
