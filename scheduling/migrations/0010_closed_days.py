"""Closed days: holidays and closures, per location or everywhere (a partial unique
constraint, since a plain one lets NULL locations repeat)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0009_change_action_choices"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClosedDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="date")),
                ("reason", models.CharField(blank=True, max_length=200, verbose_name="reason")),
                (
                    "location",
                    models.ForeignKey(
                        blank=True,
                        help_text="Leave empty when every location is closed.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="closed_days",
                        to="scheduling.location",
                        verbose_name="location",
                    ),
                ),
            ],
            options={
                "verbose_name": "closed day",
                "verbose_name_plural": "closed days",
                "ordering": ["day"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "location"), name="closed_day_once_per_location"
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("location__isnull", True)),
                        fields=("day",),
                        name="closed_day_once_everywhere",
                    ),
                ],
            },
        ),
    ]
