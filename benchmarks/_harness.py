"""Shared benchmark plumbing: a throw-away database and data dir, a user with a token, timing.

Benchmarks are scripts, not tests: each measures its baseline in the same run and prints the
ratio against it (SPEC section 9). They use PostgreSQL when DATABASE_URL is set (a temporary
``test_...`` database is created and dropped), SQLite otherwise.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def django_setup() -> Path:
    """Configure Django with a private data directory; return it."""
    data = Path(tempfile.mkdtemp(prefix="authcheck-bench-"))
    os.environ.setdefault("AUTHCHECK_DATA_DIR", str(data))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authcheck.settings")
    import django

    django.setup()
    from django.conf import settings

    # A database of this run's own, so a benchmark never collides with a test run.
    test = settings.DATABASES["default"].setdefault("TEST", {})
    test["NAME"] = f"test_bench_{os.getpid()}"
    return Path(os.environ["AUTHCHECK_DATA_DIR"])


@contextmanager
def test_database() -> Iterator[None]:
    """Create the test database(s), migrated, and drop them afterwards."""
    from django.test.utils import setup_databases, teardown_databases

    config = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        teardown_databases(config, verbosity=0)


def bearer_token(role: str = "journalist", username: str = "bench") -> str:
    """Create a user with ``role`` and return a fresh API token for it."""
    from authcheck.models import User
    from authcheck.services.tokens import token_create

    user, _ = User.objects.get_or_create(username=username, defaults={"role": role})
    return token_create(user=user, name="benchmark")[1]


def timed(fn: Callable[[], Any], repeat: int, warmup: int = 3) -> list[float]:
    """Run ``fn`` ``warmup`` + ``repeat`` times; return the timed runs in milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def server_cpu_ms() -> float | None:
    """CPU time (user + system, ms) used so far by this connection's PostgreSQL server process,
    when the server runs on this machine (None otherwise): what a lookup costs the database,
    whatever else shares the cores."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def server_cpu_per_call(fn: Callable[[], Any], repeat: int) -> float | None:
    """Mean server CPU ms per call of ``fn`` over ``repeat`` calls (None: server not local)."""
    before = server_cpu_ms()
    for _ in range(repeat):
        fn()
    after = server_cpu_ms()
    return None if before is None or after is None else (after - before) / repeat


def p(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) of samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, samples: list[float]) -> str:
    """One line: median, p95 and count."""
    return (
        f"{name:<34} median {statistics.median(samples):8.2f} ms   "
        f"p95 {p(samples, 0.95):8.2f} ms   n={len(samples)}"
    )


# --- generated PDQ hashes in a benchmark's own PostgreSQL database ---------------------------


def random_hashes(count: int, rng: Any) -> Any:
    """``count`` random 256-bit hashes as a (count, 32) uint8 array."""
    import numpy as np

    return rng.integers(0, 256, size=(count, 32), dtype=np.uint8)


def flip(raw: Any, bits: int, rng: Any) -> Any:
    """A copy of one 32-byte hash with ``bits`` distinct random bits flipped."""
    import numpy as np

    out = raw.copy()
    for bit in rng.choice(256, size=bits, replace=False):
        out[bit // 8] ^= np.uint8(1 << (7 - bit % 8))
    return out


def hash_words(raw: Any) -> list[list[int]]:
    """Per query hash (rows of ``raw``), its four signed big-endian 64-bit words ``h0``..``h3``."""
    import numpy as np

    return raw.view(">i8").astype(np.int64).tolist()


FRAME_HASH_COPY = (
    "COPY authcheck_framehash (media_id, frame_index, timestamp, variant, quality, "
    + ", ".join([f"h{k}" for k in range(4)] + [f"c{i}" for i in range(16)])
    + ") FROM STDIN"
)


def copy_frame_hashes(cursor: Any, rows: Any, raw: Any) -> None:
    """COPY frame-hash rows: ``rows`` yields (media_id, frame_index, timestamp, variant,
    quality) in the order of the hashes in ``raw`` (n x 32 bytes), stored as the model does
    (``h0``..``h3`` signed 64-bit words, ``c0``..``c15`` signed 16-bit chunks)."""
    import numpy as np

    words = hash_words(raw)
    chunks = raw.view(">i2").astype(np.int16).tolist()  # the same bits, signed like the columns
    with cursor.copy(FRAME_HASH_COPY) as copy:
        for row, head in enumerate(rows):
            copy.write_row((*head, *words[row], *chunks[row]))


def scan_sql(table_sql: str) -> str:
    """A sequential scan of ``table_sql`` (aliased ``f``) against query words passed as four
    bigint arrays: the rows within 31 bits of some query hash, with the query's position."""
    distance = " + ".join(f"bit_count((f.h{k} # q.a{k})::bit(64))" for k in range(4))
    return (
        f"SELECT q.i - 1, f.media_id, f.frame_index FROM {table_sql} f, "
        "unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) WITH ORDINALITY "
        f"AS q(a0, a1, a2, a3, i) WHERE f.quality >= 50 AND {distance} <= 31"
    )


def frame_hash_sizes(per: float, unit: str) -> tuple[float, float]:
    """Print the frame-hash table's heap and index sizes (each index too) per ``unit``;
    return (heap, indexes) in MB per unit."""
    from django.db import connection

    mb = 1024**2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_table_size('authcheck_framehash'), pg_indexes_size('authcheck_framehash')"
        )
        heap, indexes = cursor.fetchone()
        cursor.execute(
            "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes "
            "WHERE relname = 'authcheck_framehash' ORDER BY indexrelname"
        )
        each = cursor.fetchall()
    print(
        f"size per {unit}: heap {heap / mb / per:.1f} MB, indexes {indexes / mb / per:.1f} MB "
        f"(total {(heap + indexes) / mb / per:.1f} MB)"
    )
    print("  " + ", ".join(f"{name} {size / mb / per:.2f}" for name, size in each))
    return heap / mb / per, indexes / mb / per


def server_urls(url: str, name: str) -> tuple[str, str]:
    """(maintenance URL, URL of database ``name``) on the PostgreSQL server of ``url``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return (
        urlunsplit(parts._replace(path="/postgres")),
        urlunsplit(parts._replace(path=f"/{name}")),
    )


def admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


@contextmanager
def own_postgres_database(name: str) -> Iterator[bool]:
    """A fresh PostgreSQL database ``name`` on the server of DATABASE_URL, Django set up on it
    and dropped afterwards; yields False (nothing done) without a PostgreSQL DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("skipped: set DATABASE_URL to a PostgreSQL server (the lookup under test is PG's)")
        yield False
        return
    admin_url, own_url = server_urls(url, name)
    admin(admin_url, f"DROP DATABASE IF EXISTS {name}")
    admin(admin_url, f"CREATE DATABASE {name}")
    try:
        os.environ["DATABASE_URL"] = own_url
        django_setup()
        yield True
    finally:
        from django.db import connections

        connections.close_all()
        admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def bulk_load(table: str, indexes: list[Any], model: Any) -> Iterator[None]:
    """Load fast into the benchmark's own database: ``table`` unlogged (it is dropped with the
    database afterwards; no WAL for the load and the index builds), the model's ``indexes``
    dropped during the load and built afterwards with 1 GB of ``maintenance_work_mem``, then
    VACUUM ANALYZE. This connection's server process runs at the lowest CPU and I/O priority
    (other jobs share the machine), without parallel workers (they would not inherit it)."""
    import subprocess

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = str(cursor.fetchone()[0])
        lowered = subprocess.run(["renice", "-n", "19", "-p", pid], capture_output=True).returncode
        subprocess.run(["ionice", "-c", "3", "-p", pid], capture_output=True)
        if lowered:
            print("  (could not lower the server process's priority)")
        cursor.execute(f"ALTER TABLE {table} SET UNLOGGED")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 0")
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.remove_index(model, index)
    yield
    started = time.perf_counter()
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.add_index(model, index)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"  indexes built in {time.perf_counter() - started:.0f} s")
