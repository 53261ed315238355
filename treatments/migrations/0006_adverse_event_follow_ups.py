"""Issue 13: the adverse events that alert become a setting, follow-ups become dated entries,
and closing an event records who and when. The first of two; 0005 is another engineer's."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import treatments.models

# As the issue names them, plus the two that alerted before (pulmonary embolism, infection).
# Frozen here: a later change of the model's default must not rewrite this step.
DEFAULT_ALERTING = [
    "allergic", "dvt", "infection", "pe", "suspected_dvt", "thrombophlebitis", "ulcer",
    "visual_neuro",
]  # fmt: skip


def default_alerting_types(apps, schema_editor):
    ClinicSettings = apps.get_model("treatments", "ClinicSettings")
    ClinicSettings.objects.update(alerting_event_types=DEFAULT_ALERTING)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0005_chart_cosignature"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="adverseevent",
            name="closed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="adverseevent",
            name="closed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="adverseevent",
            name="outcome",
            field=models.TextField(blank=True, verbose_name="outcome"),
        ),
        migrations.AddField(
            model_name="clinicsettings",
            name="alerting_event_types",
            field=models.JSONField(
                blank=True,
                default=treatments.models.default_alerting_types,
                validators=[treatments.models.validate_event_types],
                verbose_name="adverse events that alert the treating doctor",
            ),
        ),
        migrations.AlterField(
            model_name="adverseevent",
            name="type",
            field=models.CharField(
                choices=[
                    ("bruising", "Bruising"),
                    ("pain_itching", "Pain, itching or hives"),
                    ("hyperpigmentation", "Browning (hyperpigmentation)"),
                    ("matting", "“Blush” (telangiectatic matting)"),
                    ("trapped_blood", "Trapped blood"),
                    ("thrombophlebitis", "Superficial thrombophlebitis"),
                    ("ulcer", "Skin ulcer or necrosis"),
                    ("infection", "Infection"),
                    ("allergic", "Allergic reaction or anaphylaxis"),
                    ("suspected_dvt", "Suspected deep vein thrombosis"),
                    ("dvt", "Deep vein thrombosis"),
                    ("pe", "Pulmonary embolism"),
                    ("visual_neuro", "Visual or neurological symptoms"),
                ],
                max_length=20,
                verbose_name="what happened",
            ),
        ),
        migrations.CreateModel(
            name="AdverseEventFollowUp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("on", models.DateField(verbose_name="date")),
                ("action", models.TextField(verbose_name="what was done")),
                ("outcome", models.TextField(verbose_name="outcome")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("form_token", models.UUIDField(editable=False, null=True, unique=True)),
                (
                    "by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="follow_ups",
                        to="treatments.adverseevent",
                    ),
                ),
            ],
            options={
                "ordering": ["on", "id"],
                "indexes": [models.Index(fields=["event", "on"], name="event_follow_up_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("action", ""), _negated=True),
                            models.Q(("outcome", ""), _negated=True),
                        ),
                        name="follow_up_has_text",
                    )
                ],
            },
        ),
        migrations.RunPython(default_alerting_types, migrations.RunPython.noop),
    ]
