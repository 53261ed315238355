"""The name search's GIN indexes write each new entry into the index itself (fastupdate off)
instead of a pending list that every search reads whole until the next VACUUM: after 100,000
registrations the word table's list made a typo search's word lookup 30 ms instead of 0.4 ms,
and the names' trigram list (409 pages) cost every name search. A registration writes a few
dozen index entries more at once; the clinic registers a few patients an hour. PostgreSQL only,
as the indexes are (0002, 0011)."""

from django.db import migrations

INDEXES = ["patient_search_name_trgm", "patient_search_words", "patients_nameword_trgm"]


def pending_list(off: bool):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in INDEXES:
            schema_editor.execute(f"ALTER INDEX {name} SET (fastupdate = {'off' if off else 'on'})")
            if off:  # what the list holds now goes into the index
                schema_editor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])

    return apply


class Migration(migrations.Migration):
    dependencies = [("patients", "0011_name_words_sql")]

    operations = [migrations.RunPython(pending_list(True), pending_list(False))]
