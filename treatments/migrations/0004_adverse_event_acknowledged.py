"""Serious adverse events now stay on the doctor's home until acknowledged. Events recorded
before count as seen once resolved (they were followed up), so none reappears."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def resolved_ones_seen(apps, schema_editor):
    AdverseEvent = apps.get_model("treatments", "AdverseEvent")
    AdverseEvent.objects.filter(resolved_on__isnull=False).update(
        acknowledged_at=models.F("created_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0003_widen_amendment_field"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="adverseevent",
            name="acknowledged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="adverseevent",
            name="acknowledged_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(resolved_ones_seen, migrations.RunPython.noop),
    ]
