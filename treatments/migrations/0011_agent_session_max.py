"""Each agent gets its own maximum per session (CLINICAL.md: polidocanol at most 10 mL, STS at
most 10 mL); the clinic's one maximum for every agent goes. Foam keeps its one maximum per
session on the clinic settings: it is all the foam of a session, whatever the agents."""

from decimal import Decimal

import django.core.validators
from django.db import migrations, models

# CLINICAL.md's maxima, frozen here as they were when this ran. It names none for saline or
# glycerin: they keep the 10 mL every agent was held to before.
SESSION_MAX_ML = {
    "polidocanol": Decimal(10),
    "sts": Decimal(10),
    "saline": Decimal(10),
    "glycerin": Decimal(10),
}
# The default of the clinic's former single maximum.
FORMER_DEFAULT = Decimal(10)


def seed(apps, schema_editor):
    """The label maxima; a clinic that had changed its single maximum keeps its number for
    every agent, as its charts were checked against it until now."""
    AgentSetting = apps.get_model("treatments", "AgentSetting")
    ClinicSettings = apps.get_model("treatments", "ClinicSettings")
    clinic = ClinicSettings.objects.order_by("pk").first()
    chosen = clinic.agent_max_ml if clinic and clinic.agent_max_ml != FORMER_DEFAULT else None
    for setting in AgentSetting.objects.all():
        setting.session_max_ml = chosen or SESSION_MAX_ML.get(setting.agent, FORMER_DEFAULT)
        setting.save(update_fields=["session_max_ml"])


def unseed(apps, schema_editor):
    """Back to one maximum for every agent: the lowest of theirs, so no chart warns less."""
    AgentSetting = apps.get_model("treatments", "AgentSetting")
    ClinicSettings = apps.get_model("treatments", "ClinicSettings")
    lowest = AgentSetting.objects.aggregate(models.Min("session_max_ml"))["session_max_ml__min"]
    if lowest is not None:
        ClinicSettings.objects.update(agent_max_ml=lowest)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0010_eligibility_clearances"),
    ]

    operations = [
        migrations.AddField(
            model_name="agentsetting",
            name="session_max_ml",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal(10),
                max_digits=5,
                validators=[django.core.validators.MinValueValidator(Decimal("0.01"))],
                verbose_name="most per session (mL)",
            ),
        ),
        migrations.AddConstraint(
            model_name="agentsetting",
            constraint=models.CheckConstraint(
                condition=models.Q(("session_max_ml__gt", 0)), name="agent_session_max_positive"
            ),
        ),
        migrations.RunPython(seed, unseed),
        migrations.RemoveField(
            model_name="clinicsettings",
            name="agent_max_ml",
        ),
    ]
