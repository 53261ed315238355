"""A tamper-evident audit log (issue 14, point 4). On PostgreSQL:

- a BEFORE INSERT trigger numbers each new entry (`seq`, no gaps) and stores the hash of the
  entry before it (`prev_hash`) and its own (`hash`, SHA-256 over its fields and prev_hash);
  a transaction-scoped advisory lock makes appends one at a time, so concurrent writers can't
  fork the chain (the unique `seq` turns any slip into an error, never a fork);
- another trigger refuses UPDATE and DELETE always, and TRUNCATE unless the session has set
  `goodskin.audit_maintenance = on` (the test runner's flush does; nothing in the app does);
- the entries already there are chained in id order.

SQLite (the one-command demo) gets the columns only: no chain, no guard."""

from django.db import migrations, models

# The lock every append takes; any constant unused elsewhere in the app would do.
CHAIN_LOCK = 7_140_004

HASH_FUNCTION = """
CREATE OR REPLACE FUNCTION patients_audit_hash(e patients_auditentry) RETURNS text
LANGUAGE sql STABLE AS $$
    -- jsonb's text form is canonical (keys sorted, fixed spacing); the time is written in UTC
    -- whatever the session's time zone.
    SELECT encode(sha256(convert_to(jsonb_build_array(
        e.seq,
        to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        e.user_id, e.role, e.patient_id, e.action, e.subject, host(e.ip), e.details,
        e.prev_hash
    )::text, 'UTF8')), 'hex')
$$;
"""

CHAIN_TRIGGER = f"""
CREATE OR REPLACE FUNCTION patients_audit_append() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    -- Held until commit: the next writer reads this entry as the last one, never its
    -- predecessor (READ COMMITTED: the SELECT below sees what committed while we waited).
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK});
    SELECT seq, hash INTO last_seq, last_hash
        FROM patients_auditentry WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
    NEW.hash := patients_audit_hash(NEW);
    RETURN NEW;
END $$;
CREATE TRIGGER patients_audit_append BEFORE INSERT ON patients_auditentry
    FOR EACH ROW EXECUTE FUNCTION patients_audit_append();
"""

GUARD_TRIGGERS = """
CREATE OR REPLACE FUNCTION patients_audit_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE'
       AND coalesce(current_setting('goodskin.audit_maintenance', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit entries are never changed or removed (%)', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER patients_audit_no_change BEFORE UPDATE OR DELETE ON patients_auditentry
    FOR EACH ROW EXECUTE FUNCTION patients_audit_refuse();
CREATE TRIGGER patients_audit_no_truncate BEFORE TRUNCATE ON patients_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION patients_audit_refuse();
"""

# The entries written before the chain existed, chained in id order.
BACKFILL = """
DO $$
DECLARE
    entry record;
    n bigint := 0;
    previous text := repeat('0', 64);
BEGIN
    FOR entry IN SELECT id FROM patients_auditentry ORDER BY id LOOP
        n := n + 1;
        UPDATE patients_auditentry SET seq = n, prev_hash = previous WHERE id = entry.id;
        UPDATE patients_auditentry e SET hash = patients_audit_hash(e) WHERE e.id = entry.id
            RETURNING hash INTO previous;
    END LOOP;
END $$;
"""

DROP = """
DROP TRIGGER IF EXISTS patients_audit_no_truncate ON patients_auditentry;
DROP TRIGGER IF EXISTS patients_audit_no_change ON patients_auditentry;
DROP TRIGGER IF EXISTS patients_audit_append ON patients_auditentry;
DROP FUNCTION IF EXISTS patients_audit_refuse();
DROP FUNCTION IF EXISTS patients_audit_append();
DROP FUNCTION IF EXISTS patients_audit_hash(patients_auditentry);
"""


def run(*statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, None)  # no parameters: % is PL/pgSQL's

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0004_message_kinds_consent"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="seq",
            field=models.BigIntegerField(editable=False, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("view", "viewed"),
                    ("create", "created"),
                    ("change", "changed"),
                    ("merge", "merged"),
                    ("export", "exported"),
                    ("invite", "invited to the portal"),
                    ("delete", "deleted"),
                    ("search", "found in a search"),
                ],
                max_length=10,
            ),
        ),
        migrations.RunPython(
            run(HASH_FUNCTION, BACKFILL, CHAIN_TRIGGER, GUARD_TRIGGERS), run(DROP)
        ),
    ]
