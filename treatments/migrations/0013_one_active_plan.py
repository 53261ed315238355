"""One active plan per patient, kept by a partial unique index (issue 14). A patient with
several active plans already must be sorted out by a doctor first (which plan goes on is a
clinical decision): the migration stops with their record numbers instead of choosing."""

from django.db import migrations, models


def refuse_patients_with_two_active_plans(apps, schema_editor):
    TreatmentPlan = apps.get_model("treatments", "TreatmentPlan")
    patients = (
        TreatmentPlan.objects.filter(status="active")
        .values("patient_id")
        .annotate(n=models.Count("id"))
        .filter(n__gt=1)
        .values_list("patient_id", flat=True)
    )
    if ids := sorted(patients):
        raise RuntimeError(
            "These patients have more than one active treatment plan: "
            f"{', '.join(map(str, ids))}. Complete or stop all but one, then migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0012_aftercare_placeholders"),
    ]

    operations = [
        migrations.RunPython(refuse_patients_with_two_active_plans, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="treatmentplan",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "active")),
                fields=("patient",),
                name="one_active_plan_per_patient",
            ),
        ),
    ]
