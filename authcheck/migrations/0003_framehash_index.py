"""PostgreSQL covering indexes for the PDQ similarity lookup (``authcheck.similarity``).

The lookup probes each chunk column ``c0``..``c15`` for 17 values per query hash and confirms
every candidate on the full hash. With the plain single-column indexes each candidate costs a
random heap visit; 16 x 17 probes over 1,000,000 random hashes yield about 4,000 candidates per
query hash, and those heap visits dominated the lookup. These indexes carry what the
confirmation and the result need, so the lookup runs as index-only scans.

They cost disk (about 110 MB per index per million rows); the single-column indexes the model
declares become redundant on PostgreSQL (see the helper report: a model change would declare
these with ``Index(include=...)`` instead). Other databases get nothing here.
"""

from django.db import migrations

INCLUDE = "hash, quality, media_id, frame_index, variant"


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for i in range(16):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS authcheck_framehash_c{i}_cover "
            f"ON authcheck_framehash (c{i}) INCLUDE ({INCLUDE})"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for i in range(16):
        schema_editor.execute(f"DROP INDEX IF EXISTS authcheck_framehash_c{i}_cover")


class Migration(migrations.Migration):
    dependencies = [("authcheck", "0002_audit_chain")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
