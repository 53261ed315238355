"""The record page's "changed lately" reads a patient's changes through an index of their own
(a partial index on the audit log's changes): through the index of all their entries it read
every view of the record ever audited, and a record opened thousands of times grew slower each
time. Built CONCURRENTLY on PostgreSQL, as the audit log takes a row on every page a patient's
data is read on and a plain CREATE INDEX would hold those writes for the whole build."""

from django.db import migrations, models

INDEX = models.Index(
    fields=["patient", "-at"],
    condition=models.Q(action="change"),
    name="audit_patient_change_idx",
)


def on_index(method: str):
    """The schema editor's add_index or remove_index of INDEX, CONCURRENTLY on PostgreSQL."""

    def apply(apps, schema_editor):
        model = apps.get_model("patients", "AuditEntry")
        postgresql = schema_editor.connection.vendor == "postgresql"
        getattr(schema_editor, method)(
            model, INDEX, **({"concurrently": True} if postgresql else {})
        )

    return apply


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY can't run in a transaction

    dependencies = [("patients", "0013_listed_words")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(on_index("add_index"), on_index("remove_index"))
            ],
            state_operations=[migrations.AddIndex("auditentry", INDEX)],
        )
    ]
