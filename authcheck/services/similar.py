"""Source tracing: store a media's frame hashes and find earlier media whose frames match."""

from __future__ import annotations

from typing import Any

from authcheck import similarity
from authcheck.models import Check, FrameHash, Media, Signal


def similarity_record(check: Check, media: Media) -> list[dict[str, Any]]:
    """Index the media's PDQ frame hashes and return matches among media checked earlier."""
    signal = (
        Signal.objects.filter(media=media, detector="near_duplicate")
        .exclude(label="pending")
        .order_by("-id")
        .first()
    )
    hashes = (signal.evidence or {}).get("hashes") if signal else None
    if not hashes:
        return []
    if not FrameHash.objects.filter(media=media).exists():  # stored by the first check of it
        similarity.frame_hashes_store(media.pk, hashes)
    matches = similarity.similar_find(hashes, exclude_media_id=media.pk)
    return [
        {
            "check_id": m.check_id,
            "sha256": m.sha256,
            "distance": m.distance,
            "matched_frames": list(m.matched_frames),
        }
        for m in matches
        if m.check_id is not None and m.check_id < check.pk
    ]
