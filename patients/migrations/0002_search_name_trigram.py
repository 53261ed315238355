"""A trigram index for name search (LIKE '%part%' on the folded name), on PostgreSQL only: the
embedded SQLite default of `make run` has no such index type and searches small tables anyway.
It is not in Patient.Meta.indexes because Django would then try to build it on SQLite too."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS patient_search_name_trgm "
    "ON patients_patient USING gin (search_name gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS patient_search_name_trgm"]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
