"""Reminders get a deadline (retried until then), the appointment time they announce (a move
makes new ones, keyed by that time), and who dealt with one that never reached the patient."""

from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# As in scheduling.reminders at the time of writing (a migration keeps its own copy).
BEFORE_APPOINTMENT = {"reminder_first", "reminder_second"}
CUTOFF = timedelta(minutes=30)
USEFUL_FOR = {"touch_up": timedelta(days=30), "aftercare:book-next": timedelta(days=14)}
AFTERCARE = timedelta(days=3)


def fill(apps, schema_editor):
    Reminder = apps.get_model("scheduling", "Reminder")
    rows = Reminder.objects.select_related("appointment").order_by("pk")
    for row in rows.iterator(chunk_size=1000):
        if row.kind in BEFORE_APPOINTMENT and row.appointment_id:
            starts = row.appointment.starts_at
            row.about_starts_at = starts
            row.give_up_at = starts - CUTOFF
            prefix = f"a{row.appointment_id}:{row.kind}"
            if row.key == prefix:
                row.key = f"{prefix}:{int(starts.timestamp())}"
        else:
            row.give_up_at = row.due_at + USEFUL_FOR.get(row.kind, AFTERCARE)
        row.save(update_fields=["about_starts_at", "give_up_at", "key"])


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0006_covering_start_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="reminder",
            name="give_up_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="reminder",
            name="about_starts_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="reminder",
            name="handled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="reminder",
            name="handled_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="reminder",
            name="give_up_at",
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Did not reach the patient"),
                    ("cancelled", "Not sent"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.AddIndex(
            model_name="reminder",
            index=models.Index(
                condition=models.Q(("handled_at__isnull", True), ("status", "failed")),
                fields=["-due_at"],
                name="reminder_given_up_idx",
            ),
        ),
    ]
