"""Two offices (issue 17, point 4): an office can be taken out of use and says which kinds of
visit it offers; a doctor's working hours never overlap on a weekday, at one office or two
(a doctor is in one place at a time). The exclusion constraint is PostgreSQL's only, as in
0002; the office service checks first on every database."""

import django.db.models.deletion
from django.db import migrations, models

import scheduling.models

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE scheduling_workinghours ADD CONSTRAINT working_hours_no_overlap "
    "EXCLUDE USING gist (doctor_id WITH =, weekday WITH =, "
    "int4range(EXTRACT(EPOCH FROM starts)::int, EXTRACT(EPOCH FROM ends)::int, '[)') WITH &&)",
]
DROP = ["ALTER TABLE scheduling_workinghours DROP CONSTRAINT IF EXISTS working_hours_no_overlap"]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0014_online_booking_request")]

    operations = [
        migrations.AddField(
            model_name="location",
            name="active",
            field=models.BooleanField(default=True, verbose_name="in use"),
        ),
        migrations.AddField(
            model_name="location",
            name="kinds",
            field=models.JSONField(
                default=scheduling.models.every_kind, verbose_name="kinds of visit offered"
            ),
        ),
        migrations.AddField(
            model_name="bookingrequest",
            name="location",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="scheduling.location",
            ),
        ),
        migrations.RunPython(run(CREATE), run(DROP), elidable=False),
    ]
