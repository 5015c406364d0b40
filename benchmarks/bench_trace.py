"""Source tracing: a 60 s clip against N hours of reference footage (issue 13; target < 1 s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/trace \\
        .venv/bin/python benchmarks/bench_trace.py [--hours 1000] [--repeat 7] [--sample 200000]

PostgreSQL only; without a PostgreSQL DATABASE_URL it prints why and exits 0. It creates its own
database ``authcheck_bench_trace`` on that server, migrates it, COPYs generated hashes in and
drops it afterwards. Each hour of reference is one ``ReferenceItem`` of 3,600 sampled frames
(one a second) with the 11 hashes a reference frame gets (``full``, ``c90``, nine tiles): 39,600
rows an hour. The query is a 60 s clip sampled at 5 fps (300 frames, 10 hashes each: 3,000 query
hashes), made from the stretch at ``PLANTED_AT`` s of hour 3: its frames on whole seconds carry
that hour's hashes with 6-16 random bits flipped, the others are fresh random hashes (motion).

Measured: ``tracing.trace_find`` end to end (seed on the 32-bit chunk indexes, alignment,
verification reads, tile report), median and p95 of ``--repeat`` runs after warm-up; beside it
a sequential scan computing ``bit_count`` of the XOR against every query hash on ``--sample``
rows, and that scan scaled to the whole table. Then the table's size per hour of footage (heap
and indexes). Exits 1 when the planted stretch is not found at the right place or the median
misses the target.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from _harness import django_setup, summary, timed

BENCH_DB = "authcheck_bench_trace"
FRAMES_PER_HOUR = 3600
TILES = tuple(f"t{r}{c}" for r in range(3) for c in range(3))
REFERENCE_VARIANTS = ("full", "c90", *TILES)
QUERY_VARIANTS = ("full", *TILES)
QUERY_SECONDS = 60
QUERY_FPS = 5
PLANTED_HOUR = 3
PLANTED_AT = 1234
TARGET_MS = 1000
INDEX_BASE = 1_000_000_000


def _server_urls(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), urlunsplit(
        parts._replace(path=f"/{BENCH_DB}")
    )


def _admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def _flip(raw: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    out = raw.copy()
    for bit in rng.choice(256, size=bits, replace=False):
        out[bit // 8] ^= np.uint8(1 << (7 - bit % 8))
    return out


def _copy_hour(cursor: Any, media_id: int, raw: np.ndarray) -> None:
    """COPY one hour of reference rows (``raw``: frames x variants x 32 bytes)."""
    flat = raw.reshape(-1, 32)
    chunks = flat.view(">u2").astype(int).tolist()
    words = flat.view(">i8").astype(np.int64).tolist()
    columns = ", ".join([f"h{k}" for k in range(4)] + [f"c{i}" for i in range(16)])
    sql = (
        "COPY authcheck_framehash (media_id, frame_index, timestamp, variant, quality, hash, "
        f"{columns}) FROM STDIN"
    )
    per_frame = len(REFERENCE_VARIANTS)
    with cursor.copy(sql) as copy:
        for row in range(len(flat)):
            frame, variant = divmod(row, per_frame)
            copy.write_row(
                (
                    media_id,
                    INDEX_BASE + frame,
                    float(frame),
                    REFERENCE_VARIANTS[variant],
                    100,
                    flat[row].tobytes().hex(),
                    *words[row],
                    *chunks[row],
                )
            )


def _seed(hours: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Fill the database; return the query's hash entries."""
    from django.db import connection

    from authcheck.models import FrameHash

    started = time.perf_counter()
    with connection.schema_editor() as editor:  # loading is faster without them: built after
        for index in FrameHash._meta.indexes:
            editor.remove_index(FrameHash, index)
    planted: np.ndarray | None = None
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        for hour in range(hours):
            cursor.execute(
                "INSERT INTO authcheck_media (sha256, size, mime, kind, storage_name, created_at)"
                " VALUES (%s, 1, 'video/mp4', 'video', %s, now()) RETURNING id",
                (secrets.token_hex(32), secrets.token_hex(16)),
            )
            media_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO authcheck_referenceitem (media_id, collection, title, source_url, "
                "original_path, state, duration, indexed_until, frames_indexed, error, "
                "created_at, indexed_at) VALUES (%s, 'bench', %s, '', '', 'indexed', %s, %s, %s,"
                " '', now(), now())",
                (media_id, f"hour {hour}", 3600.0, 3600.0, FRAMES_PER_HOUR),
            )
            raw = rng.integers(
                0, 256, size=(FRAMES_PER_HOUR, len(REFERENCE_VARIANTS), 32), dtype=np.uint8
            )
            if hour == PLANTED_HOUR:
                planted = raw[PLANTED_AT : PLANTED_AT + QUERY_SECONDS + 1].copy()
            _copy_hour(cursor, media_id, raw)
            if hour % 10 == 9:
                print(f"  {hour + 1} hours loaded ({time.perf_counter() - started:.0f} s)")
    loaded = time.perf_counter()
    with connection.schema_editor() as editor:
        for index in FrameHash._meta.indexes:
            editor.add_index(FrameHash, index)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE authcheck_framehash")
    rows = hours * FRAMES_PER_HOUR * len(REFERENCE_VARIANTS)
    print(
        f"loaded {rows} hashes ({hours} h) in {loaded - started:.0f} s, "
        f"indexes built in {time.perf_counter() - loaded:.0f} s"
    )
    assert planted is not None, "--hours must exceed PLANTED_HOUR"
    return _query(planted, rng)


def _query(planted: np.ndarray, rng: np.random.Generator) -> list[dict[str, Any]]:
    """The 60 s clip: whole-second frames are noisy copies of the planted stretch (full hash
    and tiles; the reference's ``c90`` has no query counterpart), the rest is random."""
    entries = []
    for frame in range(QUERY_SECONDS * QUERY_FPS):
        second, step = divmod(frame, QUERY_FPS)
        for variant in QUERY_VARIANTS:
            if step == 0:
                stored = planted[second, REFERENCE_VARIANTS.index(variant)]
                raw = _flip(stored, int(rng.integers(6, 17)), rng)
            else:
                raw = rng.integers(0, 256, size=32, dtype=np.uint8)
            entries.append(
                {
                    "frame_index": frame,
                    "timestamp": frame / QUERY_FPS,
                    "variant": variant,
                    "quality": 100,
                    "hash": raw.tobytes().hex(),
                }
            )
    return entries


def _scan(entries: list[dict[str, Any]], sample: int) -> int:
    """Sequential scan of ``sample`` rows against every query hash; returns the matches."""
    from django.db import connection

    raw = np.array([list(bytes.fromhex(e["hash"])) for e in entries], dtype=np.uint8)
    words = raw.view(">i8").astype(np.int64).T.tolist()
    distance = " + ".join(f"bit_count((f.h{k} # q.a{k})::bit(64))" for k in range(4))
    sql = (
        "SELECT count(*) FROM (SELECT * FROM authcheck_framehash LIMIT %s) f, "
        "unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) AS q(a0, a1, a2, a3) "
        f"WHERE f.quality >= 50 AND {distance} <= 31"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [sample, *words])
        return int(cursor.fetchone()[0])


def _sizes(hours: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_table_size('authcheck_framehash'), pg_indexes_size('authcheck_framehash')"
        )
        heap, indexes = cursor.fetchone()
    mb = 1024**2
    print(
        f"index size: heap {heap / mb:.0f} MB + indexes {indexes / mb:.0f} MB = "
        f"{(heap + indexes) / mb / hours:.1f} MB per hour of footage "
        f"({(heap + indexes) / mb / hours * 1000 / 1024:.1f} GB per 1,000 hours)"
    )


def _run(hours: int, repeat: int, sample: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from authcheck import tracing

    call_command("migrate", verbosity=0)
    connection.ensure_connection()
    connection.connection.autocommit = True  # VACUUM cannot run inside a transaction
    entries = _seed(hours, np.random.default_rng(13))
    found = tracing.trace_find(entries)
    print(
        "found:",
        [(m["title"], m["segments"], m["scale"], m["frames_aligned"]) for m in found],
    )
    good = (
        len(found) == 1
        and found[0]["title"] == f"hour {PLANTED_HOUR}"
        and abs(found[0]["segments"][0]["source_start"] - PLANTED_AT) <= 1.0
        and abs(found[0]["scale"] - 1.0) <= 0.03
    )
    if not good:
        print("FAIL: the planted stretch was not traced to its place")
        sys.exit(1)
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        cProfile.runctx("tracing.trace_find(entries)", globals(), locals(), sort="cumtime")
    samples = timed(lambda: tracing.trace_find(entries), repeat=repeat)
    scan = timed(lambda: _scan(entries, sample), repeat=2, warmup=0)
    rows = hours * FRAMES_PER_HOUR * len(REFERENCE_VARIANTS)
    scan_ms = statistics.median(scan)
    print(summary(f"baseline: sequential scan of {sample} rows x {len(entries)} hashes", scan))
    print(f"baseline scaled to all {rows} rows: {scan_ms * rows / sample / 1000:.0f} s")
    print(summary(f"trace_find, {QUERY_SECONDS} s clip ({len(entries)} hashes)", samples))
    _sizes(hours)
    median = statistics.median(samples)
    passed = median < TARGET_MS
    print(f"target median < {TARGET_MS} ms over {hours} h: {'PASS' if passed else 'FAIL'}")
    if not passed:
        sys.exit(1)


def main() -> None:
    """Create the bench database, measure, drop it."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sample", type=int, default=200_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("skipped: set DATABASE_URL to a PostgreSQL server (the lookup under test is PG's)")
        return
    admin_url, bench_url = _server_urls(url)
    _admin(admin_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
    _admin(admin_url, f"CREATE DATABASE {BENCH_DB}")
    try:
        os.environ["DATABASE_URL"] = bench_url
        django_setup()
        _run(args.hours, args.repeat, args.sample)
    finally:
        from django.db import connections

        connections.close_all()
        _admin(admin_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
