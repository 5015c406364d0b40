"""PostgreSQL triggers that make the audit table a hash chain and append-only (SECURITY 13).

1. BEFORE INSERT: under a transaction-scoped advisory lock, overwrite ``seq``, ``prev_hash`` and
   ``hash`` from the current last row, so concurrent writers get a gap-free chain and values a
   client supplies are replaced (L4, L5). The hash is the one ``authcheck.services.audit.event_hash``
   computes: sha256 of ``prev_hash | seq | body`` as UTF-8, hex.
2. BEFORE UPDATE OR DELETE (per row) and BEFORE TRUNCATE (per statement): raise "append-only" (L3).
   TRUNCATE alone may be switched on for a session with ``SET authcheck.audit_truncate = 'allow'``:
   the test harness needs it to flush the database between transactional tests. It grants
   nothing new: only roles holding the TRUNCATE privilege get as far as the trigger, and those
   (the owner) could disable the trigger anyway; the application role has no such privilege.

Other databases get nothing here: ``audit_record`` assigns the chain itself there.
"""

from django.db import migrations

# Any constant works; it only has to be the same for every writer of the audit table.
ADVISORY_LOCK_KEY = 7_305_688_119_420_001

INSTALL = [
    f"""
CREATE OR REPLACE FUNCTION authcheck_audit_chain_assign() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock({ADVISORY_LOCK_KEY});
    -- A fresh snapshot per statement (READ COMMITTED): sees the row the lock holder committed.
    EXECUTE format('SELECT seq, hash FROM %I.%I ORDER BY seq DESC LIMIT 1',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME)
        INTO last_seq, last_hash;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
    NEW.hash := encode(sha256(convert_to(
        NEW.prev_hash || '|' || NEW.seq::text || '|' || NEW.body, 'UTF8')), 'hex');
    RETURN NEW;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION authcheck_audit_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE'
       AND coalesce(current_setting('authcheck.audit_truncate', true), '') = 'allow' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit table %.% is append-only: % refused',
        TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP;
END
$$
""",
    """
CREATE TRIGGER authcheck_audit_chain BEFORE INSERT ON authcheck_auditevent
FOR EACH ROW EXECUTE FUNCTION authcheck_audit_chain_assign()
""",
    """
CREATE TRIGGER authcheck_audit_no_update_delete BEFORE UPDATE OR DELETE ON authcheck_auditevent
FOR EACH ROW EXECUTE FUNCTION authcheck_audit_append_only()
""",
    """
CREATE TRIGGER authcheck_audit_no_truncate BEFORE TRUNCATE ON authcheck_auditevent
FOR EACH STATEMENT EXECUTE FUNCTION authcheck_audit_append_only()
""",
]

UNINSTALL = [
    "DROP TRIGGER IF EXISTS authcheck_audit_no_truncate ON authcheck_auditevent",
    "DROP TRIGGER IF EXISTS authcheck_audit_no_update_delete ON authcheck_auditevent",
    "DROP TRIGGER IF EXISTS authcheck_audit_chain ON authcheck_auditevent",
    "DROP FUNCTION IF EXISTS authcheck_audit_append_only()",
    "DROP FUNCTION IF EXISTS authcheck_audit_chain_assign()",
]


def _execute(schema_editor, statements):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in statements:
        schema_editor.execute(statement, params=None)


def install(apps, schema_editor):
    _execute(schema_editor, INSTALL)


def uninstall(apps, schema_editor):
    _execute(schema_editor, UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [("authcheck", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
