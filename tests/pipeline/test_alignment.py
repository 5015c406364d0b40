"""Time alignment: the line through the votes, its segments, and the words of the summary."""

from __future__ import annotations

import random

import pytest

from authcheck.pipeline import alignment


def _votes(
    scale: float, offset: float, seconds: float, *, step: float = 0.5, start: float = 0.0
) -> list[alignment.Vote]:
    """Votes of a copy at ``scale``: each query frame hits the source frame sampled once a
    second nearest to its instant (up to half a second off the line), plus a wrong vote."""
    rng = random.Random(int(scale * 1000 + offset))
    votes = []
    t = start
    while t <= start + seconds:
        votes.append((t, float(round(scale * t + offset)), 10))
        votes.append((t, rng.uniform(0, 3600), 28))  # a chance match elsewhere
        t = round(t + step, 6)
    return votes


@pytest.mark.parametrize("scale", [0.75, 0.9, 1.0, 1.1, 1.25])
def test_a_copy_played_at_up_to_25_percent_off_speed_aligns(scale: float) -> None:
    (found,) = alignment.fit_alignments(_votes(scale, 730.0, 40.0))
    assert found.scale == pytest.approx(scale, abs=0.01)
    (segment,) = found.segments
    assert segment.query_start == 0.0 and segment.query_end == pytest.approx(40.0, abs=0.5)
    assert segment.source_start == pytest.approx(730.0, abs=0.5)
    assert segment.source_end == pytest.approx(730.0 + 40.0 * scale, abs=0.5)


def test_a_clip_cut_from_two_stretches_gives_two_alignments() -> None:
    # Query 0-10 s shows source 100-110 s; query 12-22 s shows source 2012-2022 s.
    votes = _votes(1.0, 100.0, 10.0) + _votes(1.0, 2000.0, 10.0, start=12.0)
    first, second = sorted(alignment.fit_alignments(votes)[:2], key=lambda a: a.offset)
    assert round(first.offset) == 100 and first.segments[0].query_end == pytest.approx(10.0)
    assert round(second.offset) == 2000 and second.segments[0].query_start == pytest.approx(12.0)


def test_scattered_chance_matches_align_to_nothing() -> None:
    rng = random.Random(3)
    votes = [(t * 0.5, rng.uniform(0, 3600), 30) for t in range(120)]
    assert alignment.fit_alignments(votes) == []


def test_the_sentence_names_segments_speed_and_the_differing_area() -> None:
    match = {
        "title": "Evening news 2026-11-30",
        "scale": 1.1,
        "segments": [
            {"query_start": 3.0, "query_end": 41.0, "source_start": 730.0, "source_end": 768.0}
        ],
        "differs": {"area": 0.38, "query_start": 12.0, "query_end": 30.0},
    }
    text = alignment.trace_sentence(match)
    assert text.startswith(
        "frames 0:03\u20130:41 match 'Evening news 2026-11-30' at 12:10\u201312:48 "
        "(played at 1.10x the source's speed); 38% of the area differs in frames 0:12\u20130:30"
    )
    summary = alignment.with_trace("No content credentials.", [match])
    assert summary.startswith("No content credentials. Source tracing: frames 0:03")
    assert "not that it is unaltered" in summary and "authentic" not in summary.lower()
    assert alignment.with_trace("Unchanged.", []) == "Unchanged."
    assert alignment.clock(3725) == "1:02:05"
