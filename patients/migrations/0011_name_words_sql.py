"""The words of the active patients' names, for the typo-forgiving search (issue 17, point 1).

Matching a typo against every name (`search_name %> 'andersson'` over 100,000 rows) rechecked
thousands of rows; matching it against the few thousand distinct name words first, then taking
the patients who have the close words through an index, reads only those. On PostgreSQL:

- a trigram index on the words, and an index of each patient's words
  (`string_to_array(search_name, ' ')`, which the search's `&&` uses);
- triggers that count each word's active patients whatever writes the patients: a service,
  a bulk seed, a merge (the record merged away stops counting), a delete, raw SQL. Triggers
  rather than the services because patients are also written in bulk (seeding, benchmarks)
  where no service runs, and a missing word would hide a patient from the typo search;
- the words of the patients already there, counted once.

Each count changes in one ordered upsert, so two writers lock shared words in the same order
and can't deadlock on them; a word no active patient has is deleted in the same transaction.
SQLite (the one-command demo) gets the empty table only: it has no typo search."""

from django.db import migrations

# Django gives a text primary key a second index for LIKE 'prefix%', which nothing here asks;
# on a small table the planner would rather walk it whole than use the trigram index.
INDEXES = """
DO $$
DECLARE
    name text;
BEGIN
    FOR name IN SELECT indexname FROM pg_indexes
                WHERE tablename = 'patients_nameword' AND indexdef LIKE '%pattern_ops%' LOOP
        EXECUTE format('DROP INDEX %I', name);
    END LOOP;
END $$;
CREATE INDEX IF NOT EXISTS patients_nameword_trgm
    ON patients_nameword USING gin (word gin_trgm_ops);
CREATE INDEX IF NOT EXISTS patient_search_words
    ON patients_patient USING gin (string_to_array(search_name, ' '));
"""

# `delta` holds (word, change in its count) for the rows of one statement. The update trigger
# fires only when a name or a merge changes (its WHEN clause), so other saves cost nothing.
TRIGGERS = """
CREATE OR REPLACE FUNCTION patients_count_name_words() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    words text[];
    changes int[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(word ORDER BY word), array_agg(n ORDER BY word) INTO words, changes
        FROM (SELECT w AS word, count(DISTINCT r.id)::int AS n
              FROM added r, unnest(string_to_array(r.search_name, ' ')) AS w
              WHERE r.merged_into_id IS NULL AND w <> '' GROUP BY w) AS delta;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(word ORDER BY word), array_agg(n ORDER BY word) INTO words, changes
        FROM (SELECT w AS word, -count(DISTINCT r.id)::int AS n
              FROM removed r, unnest(string_to_array(r.search_name, ' ')) AS w
              WHERE r.merged_into_id IS NULL AND w <> '' GROUP BY w) AS delta;
    ELSE
        SELECT array_agg(word ORDER BY word), array_agg(n ORDER BY word) INTO words, changes
        FROM (SELECT w AS word, sum(n)::int AS n FROM (
                  SELECT DISTINCT w, 1 AS n FROM unnest(CASE WHEN NEW.merged_into_id IS NULL
                      THEN string_to_array(NEW.search_name, ' ') END) AS w
                  UNION ALL
                  SELECT DISTINCT w, -1 FROM unnest(CASE WHEN OLD.merged_into_id IS NULL
                      THEN string_to_array(OLD.search_name, ' ') END) AS w
              ) AS named WHERE w <> '' GROUP BY w HAVING sum(n) <> 0) AS delta;
    END IF;
    IF words IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO patients_nameword AS counted (word, patients)
        SELECT * FROM unnest(words, changes) ORDER BY 1
        ON CONFLICT (word) DO UPDATE SET patients = counted.patients + excluded.patients;
    DELETE FROM patients_nameword WHERE word = ANY(words) AND patients <= 0;
    RETURN NULL;
END $$;
CREATE TRIGGER patients_name_words_added AFTER INSERT ON patients_patient
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION patients_count_name_words();
CREATE TRIGGER patients_name_words_removed AFTER DELETE ON patients_patient
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION patients_count_name_words();
CREATE TRIGGER patients_name_words_changed AFTER UPDATE OF search_name, merged_into_id
    ON patients_patient FOR EACH ROW
    WHEN (OLD.search_name IS DISTINCT FROM NEW.search_name
          OR OLD.merged_into_id IS DISTINCT FROM NEW.merged_into_id)
    EXECUTE FUNCTION patients_count_name_words();
"""

BACKFILL = """
INSERT INTO patients_nameword (word, patients)
SELECT w, count(DISTINCT p.id) FROM patients_patient p,
    unnest(string_to_array(p.search_name, ' ')) AS w
WHERE p.merged_into_id IS NULL AND w <> '' GROUP BY w;
-- Statistics now, not at autovacuum's next round: without them the planner reads the whole
-- table for every search instead of using the trigram index.
ANALYZE patients_nameword;
"""

DROP = """
DROP TRIGGER IF EXISTS patients_name_words_changed ON patients_patient;
DROP TRIGGER IF EXISTS patients_name_words_removed ON patients_patient;
DROP TRIGGER IF EXISTS patients_name_words_added ON patients_patient;
DROP FUNCTION IF EXISTS patients_count_name_words();
DROP INDEX IF EXISTS patient_search_words;
"""


def run(*statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, None)  # no parameters: % is PL/pgSQL's

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0010_name_words"),
    ]

    operations = [
        migrations.RunPython(run(INDEXES, TRIGGERS, BACKFILL), run(DROP)),
    ]
