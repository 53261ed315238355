"""The outbox's model, taken over from scheduling: the table (`messaging_message`, every row
kept) was made, altered and renamed by scheduling's migrations up to 0008, so this one only
tells Django the model is now here."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("patients", "0002_search_name_trigram"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # Where the table comes from (see the docstring); a one-off: nothing else here
        # depends on scheduling.
        ("scheduling", "0008_reminder_moves_to_messaging"),
    ]

    state_operations = [
        migrations.CreateModel(
            name="Message",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=80, unique=True)),
                ("kind", models.CharField(max_length=40)),
                (
                    "channel",
                    models.CharField(
                        choices=[("email", "Email"), ("sms", "Text message (SMS)")], max_length=10
                    ),
                ),
                ("topic", models.CharField(blank=True, max_length=20)),
                ("topic_id", models.PositiveBigIntegerField(blank=True, null=True)),
                ("due_at", models.DateTimeField()),
                ("give_up_at", models.DateTimeField()),
                ("announced_at", models.DateTimeField(blank=True, null=True)),
                (
                    "status",
                    models.CharField(
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
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("lease_until", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("recipient", models.CharField(blank=True, max_length=254)),
                ("subject", models.CharField(blank=True, max_length=200)),
                ("body", models.TextField(blank=True)),
                ("message_id", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("handled_at", models.DateTimeField(blank=True, null=True)),
                (
                    "handled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="messages",
                        to="patients.patient",
                    ),
                ),
                (
                    "staff",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["due_at", "id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status", "pending")),
                        fields=["due_at"],
                        name="reminder_pending_due_idx",
                    ),
                    models.Index(
                        condition=models.Q(("status", "sending")),
                        fields=["lease_until"],
                        name="reminder_sending_lease_idx",
                    ),
                    models.Index(fields=["patient", "-due_at"], name="reminder_patient_idx"),
                    models.Index(
                        condition=models.Q(("handled_at__isnull", True), ("status", "failed")),
                        fields=["-due_at"],
                        name="reminder_given_up_idx",
                    ),
                    models.Index(fields=["topic", "topic_id"], name="message_topic_idx"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("patient__isnull", False), ("staff__isnull", True)),
                            models.Q(("patient__isnull", True), ("staff__isnull", False)),
                            _connector="OR",
                        ),
                        name="message_one_recipient",
                    )
                ],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations, database_operations=[]
        )
    ]
