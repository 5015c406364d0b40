"""The submission rate limit holds across server processes (issue 9, defect 4).

Two real gunicorn processes serve the same database; requests alternate between them. With a
per-process cache each would allow the full rate (20 calls at 5/min gave 10 accepted); with the
shared cache exactly the rate is accepted in total. Bodies are empty JSON objects: the throttle
counts before parsing, and nothing is fetched (the servers have no network guard).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings

from authcheck.models import Role, User
from authcheck.services.tokens import token_create
from tests.live import gunicorn, server_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _post(base: str, token: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/v1/checks",
        data=json.dumps({}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


CACHES = ["file"] + (["redis"] if settings.CELERY_BROKER_URL.startswith("redis") else [])


@pytest.mark.parametrize("cache", CACHES)
def test_two_server_processes_share_one_submission_rate(tmp_path: Path, cache: str) -> None:
    user = User.objects.create(username="fast", role=Role.JOURNALIST)
    _, token = token_create(user=user, name="rate")
    env = server_env(
        tmp_path,
        AUTHCHECK_SUBMIT_RATE="5/min",
        AUTHCHECK_CACHE_URL=settings.CELERY_BROKER_URL if cache == "redis" else "",
    )
    if cache == "redis":
        from django.core.cache.backends.redis import RedisCache

        RedisCache(settings.CELERY_BROKER_URL, {"KEY_PREFIX": "authcheck-cache"}).clear()
    with ExitStack() as stack:
        servers = [stack.enter_context(gunicorn(env)) for _ in range(2)]
        statuses = [_post(servers[n % 2], token) for n in range(20)]

    assert statuses.count(429) == 15, statuses
    assert all(status in (400, 429) for status in statuses)
