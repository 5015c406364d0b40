"""The dashboard queue answers in under 200 ms (p95, server time) with 100,000 checks - SPEC 9.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dash \\
        .venv/bin/python benchmarks/bench_dashboard.py [--checks 100000] [--repeat 40]

Creates a throw-away database (``test_bench_<pid>`` beside DATABASE_URL's, SQLite without it),
fills it with ``--checks`` checks from 20 journalists (90% finished with an automated verdict,
a reviewer decision on every tenth, a few running, some assigned), then times the queue page
as an editor through Django's full request path (middleware, session, CSP, template), which is
the server time of a request without the network: the first page and a deep page (a keyset
cursor 95% of the way down), plus a filtered and a searched view for information. Beside each
it prints the time of a bare ``SELECT`` of the same page's rows, measured in the same run.
Exits 1 when a page's p95 misses 200 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

from _harness import django_setup, p, summary, test_database, timed

TARGET_P95_MS = 200.0
BATCH = 5_000


def _seed(checks: int) -> None:
    """Bulk-load checks, media and verdicts (bulk_create: same code on SQLite and PostgreSQL)."""
    from django.db import connection
    from django.utils import timezone

    from authcheck.models import Check, Media, Role, User, Verdict
    from authcheck.services.people import user_upsert
    from dashboard.models import CheckWorkflow

    started = time.perf_counter()
    editor = user_upsert(username="editor", role=Role.EDITOR, password="bench-only-password-1")[0]
    people = User.objects.bulk_create(
        User(username=f"journalist{i}", role=Role.JOURNALIST) for i in range(20)
    )
    now = timezone.now()
    for start in range(0, checks, BATCH):
        size = min(BATCH, checks - start)
        media = Media.objects.bulk_create(
            Media(
                sha256=f"{start + i:064x}",
                size=1000,
                mime="video/mp4",
                kind="video",
                storage_name=f"bench{start + i}",
            )
            for i in range(size)
        )
        rows = Check.objects.bulk_create(
            Check(
                media=media[i],
                source_type="url",
                submitter=people[(start + i) % 20],
                source_url=f"https://news{(start + i) % 50}.example/v/{start + i}.mp4",
                status="running" if (start + i) % 1000 == 0 else "done",
                client="api",
            )
            for i in range(size)
        )
        Check.objects.filter(pk__in=[c.pk for c in rows]).update(
            created_at=now - timedelta(minutes=checks - start)
        )
        Verdict.objects.bulk_create(
            Verdict(check_ref=c, label="no_provenance", summary="s", rule="no_provenance")
            for c in rows
            if c.status == "done"
        )
        Verdict.objects.bulk_create(
            Verdict(
                check_ref=c,
                decision="inconclusive",
                summary="r",
                rule="review",
                author=editor,
                note="n",
            )
            for c in rows[::10]
            if c.status == "done"
        )
        CheckWorkflow.objects.bulk_create(
            CheckWorkflow(check_ref=c, state="in_review", assignee=editor) for c in rows[::7]
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"seeded {checks} checks in {time.perf_counter() - started:.1f} s ({connection.vendor})")


def _bare_select(after: int | None) -> list[Any]:
    """The page's rows with nothing else: the baseline."""
    from django.db import connection

    where = "WHERE id < %s " if after else ""
    sql = f"SELECT * FROM authcheck_check {where}ORDER BY id DESC LIMIT 51"
    with connection.cursor() as cursor:
        cursor.execute(sql, [after] if after else [])
        return cursor.fetchall()


def _client() -> Any:
    from django.test import Client

    from authcheck.models import User

    client = Client()
    client.force_login(User.objects.get(username="editor"))
    return client


def _measure(
    client: Any, label: str, query: str, repeat: int, after: int | None, same: bool = True
) -> bool:
    def page() -> None:
        response = client.get(f"/dashboard/{query}")
        assert response.status_code == 200, response.status_code
        assert response.content.count(b'class="row"') > 0

    samples = timed(page, repeat=repeat)
    baseline = timed(lambda: _bare_select(after), repeat=repeat)
    ratio = statistics.median(samples) / max(statistics.median(baseline), 1e-6)
    print(summary(f"queue {label}", samples))
    what = "the same page" if same else "an unfiltered page"
    print(summary(f"  bare SELECT of {what}", baseline) + f"   ratio {ratio:.1f}x")
    return p(samples, 0.95) < TARGET_P95_MS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    django_setup()
    with test_database():
        _seed(args.checks)
        from authcheck.models import Check

        ids = list(Check.objects.order_by("-id").values_list("id", flat=True)[:: args.checks // 20])
        deep = ids[-1]  # 95% of the way down the queue
        client = _client()
        results = [
            _measure(client, "first page", "", args.repeat, None),
            _measure(client, f"deep page (after={deep})", f"?after={deep}", args.repeat, deep),
        ]
        _measure(
            client,
            "filtered (status=done, reviewed=no)",
            "?status=done&reviewed=no",
            args.repeat,
            None,
            same=False,
        )
        _measure(client, "search (domain)", "?q=news7.example", args.repeat, None, same=False)
    passed = all(results)
    print(
        f"target p95 < {TARGET_P95_MS:.0f} ms, first and deep page: {'PASS' if passed else 'FAIL'}"
    )
    if not passed:
        sys.exit(1)


if __name__ == "__main__":
    main()
