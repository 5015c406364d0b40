"""Source tracing: store a media's frame hashes and find earlier media whose frames match."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from authcheck import similarity
from authcheck.models import Check, FrameHash, Media, Signal
from authcheck.pipeline import alignment

NEAR_DUPLICATE = "near_duplicate"


def frame_hashes_store(media_id: int, hashes: list[dict[str, Any]]) -> None:
    """Store a media's frame hashes once (a second call for the same media adds nothing)."""
    rows = [similarity.frame_hash_row(media_id, h) for h in hashes]
    # The unique (media, frame_index, variant) constraint makes a second store a no-op.
    with transaction.atomic():
        FrameHash.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


def similarity_record(
    check: Check, media: Media, signals: Sequence[Signal]
) -> list[dict[str, Any]]:
    """Index the media's PDQ frame hashes (from the near-duplicate signal among ``signals``,
    the evidence of this verdict) and return matches among media checked earlier."""
    signal = next((s for s in signals if s.detector == NEAR_DUPLICATE), None)
    hashes = (signal.evidence or {}).get("hashes") if signal else None
    if not hashes:
        return []
    if not FrameHash.objects.filter(media=media).exists():  # stored by the first check of it
        frame_hashes_store(media.pk, hashes)
    matches = similarity.similar_find(hashes, exclude_media_id=media.pk)
    return [
        {
            "kind": "check",
            "check_id": m.check_id,
            "sha256": m.sha256,
            "distance": m.distance,
            "matched_frames": list(m.matched_frames),
            "alignment": match_alignment(hashes, m),
        }
        for m in matches
        if m.check_id is not None and m.check_id < check.pk
    ]


def match_alignment(
    hashes: list[dict[str, Any]], match: similarity.SimilarMatch
) -> dict[str, Any] | None:
    """The time alignment of an earlier media's matching frames (same shape as a reference
    match's: scale, segments, share of the sampled frames aligned), or None when too few frames
    matched to fit a line (an image, or one shared frame)."""
    query_times = {int(h.get("frame_index", 0)): float(h.get("timestamp", 0.0)) for h in hashes}
    other_times = dict(
        FrameHash.objects.filter(
            media_id=match.media_id,
            frame_index__in={p["other_frame_index"] for p in match.matched_frames},
        ).values_list("frame_index", "timestamp")
    )
    votes = [
        (query_times[p["frame_index"]], other_times[p["other_frame_index"]], p["distance"])
        for p in match.matched_frames
        if p["frame_index"] in query_times and p["other_frame_index"] in other_times
    ]
    fitted = alignment.fit_alignments(votes)
    if not fitted:
        return None
    best = fitted[0]
    return {
        "scale": round(best.scale, 3),
        "offset": round(best.offset, 2),
        "segments": [s.to_dict() for s in best.segments],
        "share_aligned": round(len(best.frames) / max(1, len(query_times)), 3),
    }
