"""Each word of each active patient's name with the patient's place in the list (issue 19): the
name search reads a word's first patients in list order through one B-tree instead of reading
and sorting every patient with a common name (11,000 for "miller" in the 1,000,000-appointment
bench). On PostgreSQL, triggers keep the rows, as 0011's keep the word counts, whatever writes
the patients; the update trigger also fires on a legal name's change alone (an accent or a
capital moves a patient in the list without changing the folded name). SQLite gets the empty
table: its search reads the names directly."""

from django.db import migrations, models

# A word's names in list order; the name is in the index so that checking a name's other parts
# reads no row, and the planner walks the index in order (it read a common word's 10,000 rows
# and sorted them when each checked row cost a row read: 22 ms instead of 0.5).
INDEX = """
CREATE INDEX listed_word_order ON patients_listedword (word, last_key, first_key, patient_id)
    INCLUDE (search_name);
"""

TRIGGERS = """
CREATE OR REPLACE FUNCTION patients_list_name_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO patients_listedword (word, last_key, first_key, patient_id, search_name)
        SELECT DISTINCT w, lower(r.legal_last_name), lower(r.legal_first_name), r.id,
               r.search_name
        FROM added r, unnest(string_to_array(r.search_name, ' ')) AS w
        WHERE r.merged_into_id IS NULL AND w <> '';
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM patients_listedword WHERE patient_id IN (SELECT id FROM removed);
    ELSE
        DELETE FROM patients_listedword WHERE patient_id = OLD.id;
        INSERT INTO patients_listedword (word, last_key, first_key, patient_id, search_name)
        SELECT DISTINCT w, lower(NEW.legal_last_name), lower(NEW.legal_first_name), NEW.id,
               NEW.search_name
        FROM unnest(string_to_array(NEW.search_name, ' ')) AS w
        WHERE NEW.merged_into_id IS NULL AND w <> '';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER patients_listed_words_added AFTER INSERT ON patients_patient
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION patients_list_name_words();
CREATE TRIGGER patients_listed_words_removed AFTER DELETE ON patients_patient
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION patients_list_name_words();
CREATE TRIGGER patients_listed_words_changed
    AFTER UPDATE OF search_name, merged_into_id, legal_last_name, legal_first_name
    ON patients_patient FOR EACH ROW
    WHEN (OLD.search_name IS DISTINCT FROM NEW.search_name
          OR OLD.merged_into_id IS DISTINCT FROM NEW.merged_into_id
          OR OLD.legal_last_name IS DISTINCT FROM NEW.legal_last_name
          OR OLD.legal_first_name IS DISTINCT FROM NEW.legal_first_name)
    EXECUTE FUNCTION patients_list_name_words();
"""

BACKFILL = """
INSERT INTO patients_listedword (word, last_key, first_key, patient_id, search_name)
SELECT DISTINCT w, lower(p.legal_last_name), lower(p.legal_first_name), p.id, p.search_name
FROM patients_patient p, unnest(string_to_array(p.search_name, ' ')) AS w
WHERE p.merged_into_id IS NULL AND w <> '';
ANALYZE patients_listedword;
"""

DROP = """
DROP TRIGGER IF EXISTS patients_listed_words_changed ON patients_patient;
DROP TRIGGER IF EXISTS patients_listed_words_removed ON patients_patient;
DROP TRIGGER IF EXISTS patients_listed_words_added ON patients_patient;
DROP FUNCTION IF EXISTS patients_list_name_words();
DROP INDEX IF EXISTS listed_word_order;
"""


def run(*statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, None)  # no parameters: % is PL/pgSQL's

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0012_name_indexes_without_pending_list"),
    ]

    operations = [
        migrations.CreateModel(
            name="ListedWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("word", models.CharField(max_length=320)),
                ("last_key", models.TextField()),
                ("first_key", models.TextField()),
                ("patient_id", models.BigIntegerField()),
                ("search_name", models.CharField(max_length=320)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["patient_id"], name="listed_word_patient"),
                ],
            },
        ),
        migrations.RunPython(run(INDEX, TRIGGERS, BACKFILL), run(DROP)),
    ]
