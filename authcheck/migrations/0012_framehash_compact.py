"""A narrower frame-hash index: smallint chunks, no hex copy, 24-byte chunk index tuples.

Measured per 1,000,000 checked-media hashes on PostgreSQL 15 (``benchmarks/bench_similar.py``
prints the sizes): the 16 covering chunk indexes of 0003/0011 carried the whole hash, the media,
frame, quality and variant (72 bytes a tuple); together with the other indexes about 1.3 GB.
Now:

- ``c0``..``c15`` are ``smallint`` (the chunk as a signed 16-bit integer, the same bits) instead
  of ``integer``: 32 bytes less a row, and narrower index keys;
- the hex ``hash`` column is dropped: ``h0``..``h3`` hold the same 256 bits (``FrameHash.hash``
  gives the hex back), 66 bytes less a row;
- each chunk index (checked media, partial) carries only 112 more bits of the hash (three
  chunks and one 64-bit word of other words, ``models.chunk_cover``): enough to reject nearly
  every candidate on the index-only scan, the few left are read from the table
  (``similarity``); 24-byte tuples;
- the exact 32-bit seed indexes of source tracing hold only the variants a seed looks for
  (``models.SEED_STORED``, 6 of a reference frame's 11 rows);
- the (media, timestamp) index holds the whole-frame rows of reference footage only (tracing
  reads a time window as a frame range, then every variant of those frames on the unique
  (media, frame, variant) index), and the foreign key's own index on ``media`` is dropped
  (that unique index starts with it).

Data: on PostgreSQL the 16 columns change type in one ``ALTER TABLE`` (one rewrite), values of
32768 and up becoming their negative two's complement; elsewhere (SQLite, whose columns take any
integer) an ``UPDATE`` does the same. Backwards, the chunks are made unsigned again and ``hash``
is rebuilt from ``h0``..``h3``.
"""

from django.db import migrations, models

CHUNKS = 16
HALVES = 4
OLD_COVER = ["h0", "h1", "h2", "h3", "media", "frame_index", "quality", "variant"]
REFERENCE_FRAME_BASE = 1_000_000_000
SEED_STORED = ("full", "c90", "t00", "t02", "t20", "t22")
TABLE = "authcheck_framehash"


def _cover(chunk):
    """As ``models.chunk_cover`` at the time of this migration."""
    word = chunk // 4
    other = 4 * ((word + 2) % 4)
    return [f"c{other}", f"c{other + 1}", f"c{other + 2}", f"h{(word + 1) % 4}"]


def _signed(column):
    return f"CASE WHEN {column} > 32767 THEN {column} - 65536 ELSE {column} END"


def _unsigned(column):
    return f"CASE WHEN {column} < 0 THEN {column} + 65536 ELSE {column} END"


def chunks_signed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        changes = ", ".join(
            f"ALTER COLUMN c{i} TYPE smallint USING ({_signed(f'c{i}')})::smallint"
            for i in range(CHUNKS)
        )
        schema_editor.execute(f"ALTER TABLE {TABLE} {changes}")  # noqa: S608
        return
    sets = ", ".join(f"c{i} = {_signed(f'c{i}')}" for i in range(CHUNKS))
    schema_editor.execute(f"UPDATE {TABLE} SET {sets}")  # noqa: S608


def chunks_unsigned(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        changes = ", ".join(
            f"ALTER COLUMN c{i} TYPE integer USING ({_unsigned(f'c{i}')})" for i in range(CHUNKS)
        )
        schema_editor.execute(f"ALTER TABLE {TABLE} {changes}")  # noqa: S608
        return
    sets = ", ".join(f"c{i} = {_unsigned(f'c{i}')}" for i in range(CHUNKS))
    schema_editor.execute(f"UPDATE {TABLE} SET {sets}")  # noqa: S608


def hex_drop(apps, schema_editor):
    frame_hash = apps.get_model("authcheck", "FrameHash")
    schema_editor.remove_field(frame_hash, frame_hash._meta.get_field("hash"))


def hex_restore(apps, schema_editor):
    """Backwards: the hex ``hash`` column again, rebuilt from ``h0``..``h3``."""
    frame_hash = apps.get_model("authcheck", "FrameHash")
    column = models.CharField(max_length=64, default="")  # existing rows get one, then filled
    column.set_attributes_from_name("hash")
    schema_editor.add_field(frame_hash, column)
    if schema_editor.connection.vendor == "postgresql":
        parts = " || ".join(f"lpad(to_hex(h{k}), 16, '0')" for k in range(HALVES))
        schema_editor.execute(f"UPDATE {TABLE} SET hash = {parts}")  # noqa: S608
        return
    # Read first, then write: SQLite gives no isolation between a running read and writes.
    stored = list(frame_hash.objects.values_list("pk", "h0", "h1", "h2", "h3"))
    for start in range(0, len(stored), 1000):
        rows = [
            frame_hash(pk=pk, hash="".join(f"{w & (2**64 - 1):016x}" for w in words))
            for pk, *words in stored[start : start + 1000]
        ]
        frame_hash.objects.bulk_update(rows, ["hash"])


class Migration(migrations.Migration):
    dependencies = [("authcheck", "0011_reference_archive")]

    operations = [
        *[
            migrations.RemoveIndex(model_name="framehash", name=f"framehash_c{i}_cover")
            for i in range(CHUNKS)
        ],
        *[
            migrations.RemoveIndex(model_name="framehash", name=f"framehash_c{i}_c{i + 1}")
            for i in range(0, CHUNKS, 2)
        ],
        migrations.RemoveIndex(model_name="framehash", name="framehash_media_time"),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(chunks_signed, chunks_unsigned)],
            state_operations=[
                migrations.AlterField(
                    model_name="framehash", name=f"c{i}", field=models.SmallIntegerField()
                )
                for i in range(CHUNKS)
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(hex_drop, hex_restore)],
            state_operations=[migrations.RemoveField(model_name="framehash", name="hash")],
        ),
        migrations.AlterField(
            model_name="framehash",
            name="media",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.CASCADE,
                related_name="frame_hashes",
                to="authcheck.media",
            ),
        ),
        *[
            migrations.AddIndex(
                model_name="framehash",
                index=models.Index(
                    fields=[f"c{i}"],
                    include=_cover(i),
                    name=f"framehash_c{i}_narrow",
                    condition=models.Q(frame_index__lt=REFERENCE_FRAME_BASE),
                ),
            )
            for i in range(CHUNKS)
        ],
        *[
            migrations.AddIndex(
                model_name="framehash",
                index=models.Index(
                    fields=[f"c{i}", f"c{i + 1}"],
                    name=f"framehash_seed_c{i}_c{i + 1}",
                    condition=models.Q(
                        frame_index__gte=REFERENCE_FRAME_BASE, variant__in=SEED_STORED
                    ),
                ),
            )
            for i in range(0, CHUNKS, 2)
        ],
        migrations.AddIndex(
            model_name="framehash",
            index=models.Index(
                fields=["media", "timestamp"],
                name="framehash_ref_full_time",
                condition=models.Q(frame_index__gte=REFERENCE_FRAME_BASE, variant="full"),
            ),
        ),
    ]
