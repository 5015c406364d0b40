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
