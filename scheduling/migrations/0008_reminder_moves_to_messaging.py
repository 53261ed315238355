"""The outbox moves to the messaging app, keeping every row: the table is renamed, not copied.

While still scheduling's model the table learns what messaging needs and forgets what it must
not know: the appointment and plan columns become `topic` and `topic_id` ("appointment" or
"plan", and its id), a message may go to a member of staff, `about_starts_at` becomes
`announced_at`. Then the table is renamed to `messaging_message` and scheduling's model state
is dropped without touching the database; `messaging.0001_initial` takes the model over.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def to_topics(apps, schema_editor):
    Reminder = apps.get_model("scheduling", "Reminder")
    Reminder.objects.filter(appointment__isnull=False).update(
        topic="appointment", topic_id=models.F("appointment_id")
    )
    Reminder.objects.filter(appointment__isnull=True, plan__isnull=False).update(
        topic="plan", topic_id=models.F("plan_id")
    )


def from_topics(apps, schema_editor):
    Reminder = apps.get_model("scheduling", "Reminder")
    Appointment = apps.get_model("scheduling", "Appointment")
    Reminder.objects.filter(topic="plan").update(plan_id=models.F("topic_id"))
    for reminder in Reminder.objects.filter(topic="appointment"):
        appointment = Appointment.objects.get(pk=reminder.topic_id)
        reminder.appointment_id = appointment.pk
        # Aftercare rows also named the plan of their session.
        reminder.plan_id = appointment.plan_id if reminder.kind.startswith("aftercare:") else None
        reminder.save(update_fields=["appointment_id", "plan_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0007_reminder_deadlines"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="reminder",
            name="topic",
            field=models.CharField(blank=True, default="", max_length=20),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="reminder",
            name="topic_id",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(to_topics, from_topics),
        migrations.RemoveField(model_name="reminder", name="appointment"),
        migrations.RemoveField(model_name="reminder", name="plan"),
        migrations.RenameField(
            model_name="reminder", old_name="about_starts_at", new_name="announced_at"
        ),
        migrations.AddField(
            model_name="reminder",
            name="staff",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="patient",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="messages",
                to="patients.patient",
            ),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="channel",
            field=models.CharField(
                choices=[("email", "Email"), ("sms", "Text message (SMS)")], max_length=10
            ),
        ),
        migrations.AddIndex(
            model_name="reminder",
            index=models.Index(fields=["topic", "topic_id"], name="message_topic_idx"),
        ),
        migrations.AddConstraint(
            model_name="reminder",
            constraint=models.CheckConstraint(
                condition=models.Q(patient__isnull=False, staff__isnull=True)
                | models.Q(patient__isnull=True, staff__isnull=False),
                name="message_one_recipient",
            ),
        ),
        migrations.AlterModelTable(name="reminder", table="messaging_message"),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Reminder")],
            database_operations=[],
        ),
    ]
