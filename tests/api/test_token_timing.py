"""W2: an unknown prefix and a known prefix with a wrong secret cost the same work.

The deterministic tests record every HMAC, constant-time compare and SQL query made while a token
is refused, and require the same trace for both failures; the timing test (``slow``) bounds the
difference of median latencies and shows, with an injected leak, that it would notice one.
"""

from __future__ import annotations

import hmac
import random
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from authcheck.models import Role
from authcheck.services import tokens
from authcheck.services.tokens import token_create, token_lookup
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_failures() -> tuple[str, str]:
    """``(unknown prefix, known prefix with a wrong secret)``, both well formed and equally long."""
    _, raw = token_create(UserFactory(role=Role.JOURNALIST))
    _, prefix, secret = raw.split("_", 2)
    wrong_secret = f"ac_{prefix}_{secret[::-1]}"
    unknown = f"ac_{'f' if prefix[0] != 'f' else 'e'}{prefix[1:]}_{secret}"
    assert len(unknown) == len(wrong_secret) == len(raw)
    return unknown, wrong_secret


@pytest.fixture
def trace(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, ...]]]:
    """Every token digest and every ``hmac.compare_digest`` made, with the lengths compared."""
    calls: list[tuple[Any, ...]] = []
    real_digest, real_compare = tokens._digest, hmac.compare_digest

    def digest(raw: str, key: str) -> str:
        calls.append(("hmac", len(raw), key))
        return real_digest(raw, key)

    def compare(a: Any, b: Any) -> bool:
        calls.append(("compare_digest", len(a), len(b)))
        return real_compare(a, b)

    monkeypatch.setattr(tokens, "_digest", digest)
    monkeypatch.setattr(tokens.hmac, "compare_digest", compare)
    yield calls


def work_of(call: Callable[[], Any], calls: list[tuple[Any, ...]]) -> tuple[Any, list[Any], int]:
    """What ``call`` returned, the hash/compare operations it made and its number of queries."""
    calls.clear()
    with CaptureQueriesContext(connection) as queries:
        result = call()
    return result, list(calls), len(queries)


def test_an_unknown_prefix_costs_the_same_hmac_and_compare_as_a_wrong_secret(
    two_failures: tuple[str, str], trace: list[tuple[Any, ...]]
) -> None:
    unknown, wrong_secret = two_failures
    refused_unknown = work_of(lambda: token_lookup(unknown), trace)
    refused_wrong = work_of(lambda: token_lookup(wrong_secret), trace)
    assert refused_unknown[0] is None and refused_wrong[0] is None
    assert refused_unknown[1:] == refused_wrong[1:]
    operations = refused_unknown[1]
    assert [op[0] for op in operations] == ["hmac", "compare_digest"]
    assert operations[1][1:] == (64, 64)  # a full-length digest, not an empty short-circuit


def test_with_rotated_keys_both_failures_try_every_key(
    settings, two_failures: tuple[str, str], trace: list[tuple[Any, ...]]
) -> None:
    settings.SECRET_KEY_FALLBACKS = ["an-older-key-" + "x" * 40]
    unknown, wrong_secret = two_failures
    ops_unknown = work_of(lambda: token_lookup(unknown), trace)[1]
    ops_wrong = work_of(lambda: token_lookup(wrong_secret), trace)[1]
    assert ops_unknown == ops_wrong
    assert [op[0] for op in ops_unknown] == ["hmac", "compare_digest"] * 2


def test_through_the_api_both_failures_do_the_same_work_and_answer_the_same(
    two_failures: tuple[str, str], trace: list[tuple[Any, ...]]
) -> None:
    answers = []
    for raw in two_failures:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        response, operations, queries = work_of(lambda c=client: c.get("/api/v1/checks"), trace)
        answers.append((response.status_code, response.json(), operations, queries))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401 and answers[0][2]


# --- measured -----------------------------------------------------------------------------------

ROUNDS, TRIES, TOLERANCE = 3, 300, 1.5


def median_ratio(first: Callable[[], Any], second: Callable[[], Any]) -> float:
    """Median latency of ``second`` over ``first``, the two interleaved in a shuffled order so
    that load from other processes falls on both alike."""
    samples: dict[int, list[int]] = {0: [], 1: []}
    calls = (first, second)
    order = [0, 1] * TRIES
    random.Random(9).shuffle(order)
    for _ in range(20):  # warm caches and the connection
        first(), second()
    for which in order:
        start = time.perf_counter_ns()
        calls[which]()
        samples[which].append(time.perf_counter_ns() - start)
    return statistics.median(samples[1]) / statistics.median(samples[0])


def within_tolerance(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[bool, float]:
    """Whether any of ROUNDS rounds has the medians within TOLERANCE of each other (a real leak
    shows in every round; a burst of load on a shared machine spoils at most some)."""
    ratios = [median_ratio(first, second) for _ in range(ROUNDS)]
    best = min(ratios, key=lambda r: max(r, 1 / r))
    return max(best, 1 / best) <= TOLERANCE, best


@pytest.mark.slow
def test_median_time_of_an_unknown_prefix_is_within_half_again_of_a_wrong_secret(
    two_failures: tuple[str, str],
) -> None:
    unknown, wrong_secret = two_failures
    ok, ratio = within_tolerance(lambda: token_lookup(unknown), lambda: token_lookup(wrong_secret))
    assert ok, f"wrong-secret / unknown-prefix median ratio {ratio:.2f}"

    def leaky() -> None:  # what a path skipping a slow check for unknown prefixes would look like
        token_lookup(wrong_secret)
        time.sleep(0.002)

    assert not within_tolerance(lambda: token_lookup(unknown), leaky)[0]
