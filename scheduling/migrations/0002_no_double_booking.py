"""No double booking, kept by PostgreSQL itself: two appointments that are not cancelled can't
overlap for the same doctor or the same room ([) bounds: back-to-back is fine). Made here
rather than in Meta.constraints because the embedded SQLite default of `make run` has no
exclusion constraints; the booking service checks first on every database."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_doctor_overlap "
    "EXCLUDE USING gist (doctor_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    "WHERE (status <> 'cancelled')",
    "ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_room_overlap "
    "EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    "WHERE (status <> 'cancelled')",
]
DROP = [
    "ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_doctor_overlap",
    "ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_room_overlap",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return apply


def clinic_defaults(apps, schema_editor):
    """The Oregon office with two treatment rooms, and the scheduling settings row."""
    Location = apps.get_model("scheduling", "Location")
    Room = apps.get_model("scheduling", "Room")
    SchedulingSettings = apps.get_model("scheduling", "SchedulingSettings")
    SchedulingSettings.objects.get_or_create(pk=1)
    if not Location.objects.exists():
        office = Location.objects.create(
            name="Goodskin Dermatology, Oregon office",
            time_zone="America/Los_Angeles",
            address="Portland, OR",
        )
        for name in ("Room 1", "Room 2"):
            Room.objects.create(location=office, name=name)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [
        migrations.RunPython(run(CREATE), run(DROP)),
        migrations.RunPython(clinic_defaults, migrations.RunPython.noop),
    ]
