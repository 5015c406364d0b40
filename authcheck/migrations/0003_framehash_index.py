"""Frame hashes as four 64-bit integers, and covering chunk indexes (``authcheck.similarity``).

The lookup probes each chunk column ``c0``..``c15`` for 17 values per query hash and confirms
every candidate on the full hash. 16 x 17 probes over 1,000,000 random hashes yield about 4,000
candidates per query hash, so the per-candidate cost decides the lookup time: a random heap
visit per candidate (plain indexes) or parsing the hex text into ``bit(256)`` both cost more
than the probes. This migration adds the hash as ``h0``..``h3`` (signed 64-bit, most significant
first; confirmation is ``bit_count`` of integer XORs) and replaces the single-column chunk
indexes by indexes that INCLUDE what confirmation and the result need, so the lookup runs as
index-only scans on PostgreSQL (about 80 MB per index per million rows). Databases without
covering indexes (SQLite) ignore ``include`` and keep a plain index per chunk column.

Existing rows get ``h0``..``h3`` computed from ``hash``: in SQL on PostgreSQL, in Python
elsewhere.
"""

from django.db import migrations, models

CHUNKS = 16
HALVES = 4
INCLUDE = ["h0", "h1", "h2", "h3", "media", "frame_index", "quality", "variant"]


def _word(hex_hash: str, k: int) -> int:
    """The k-th 64-bit word of a hex hash as a signed integer (what a bigint column holds)."""
    value = int(hex_hash[16 * k : 16 * k + 16], 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def backfill(apps, schema_editor):
    """Fill h0..h3 of rows stored before this migration from their hex ``hash``."""
    if schema_editor.connection.vendor == "postgresql":
        # 16 hex digits -> bit(64) -> bigint keeps the bits, two's complement (signed) as wanted.
        sets = ", ".join(
            f"h{k} = ('x' || substr(hash, {16 * k + 1}, 16))::bit(64)::bigint"
            for k in range(HALVES)
        )
        schema_editor.execute(f"UPDATE authcheck_framehash SET {sets}")  # noqa: S608
        return
    frame_hash = apps.get_model("authcheck", "FrameHash")
    fields = [f"h{k}" for k in range(HALVES)]
    # Read first, then write: SQLite gives no isolation between a running read and writes.
    stored = list(frame_hash.objects.values_list("pk", "hash"))
    for start in range(0, len(stored), 1000):
        rows = [
            frame_hash(pk=pk, **{f: _word(text, k) for k, f in enumerate(fields)})
            for pk, text in stored[start : start + 1000]
        ]
        frame_hash.objects.bulk_update(rows, fields)


class Migration(migrations.Migration):
    dependencies = [("authcheck", "0002_audit_chain")]

    operations = [
        *[
            migrations.AddField(
                model_name="framehash",
                name=f"h{k}",
                field=models.BigIntegerField(default=0),
                preserve_default=False,
            )
            for k in range(HALVES)
        ],
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        *[
            migrations.AlterField(model_name="framehash", name=f"c{i}", field=models.IntegerField())
            for i in range(CHUNKS)
        ],
        *[
            migrations.AddIndex(
                model_name="framehash",
                index=models.Index(fields=[f"c{i}"], include=INCLUDE, name=f"framehash_c{i}_cover"),
            )
            for i in range(CHUNKS)
        ],
    ]
