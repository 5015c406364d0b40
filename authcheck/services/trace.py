"""Tracing a check's media to the reference archive (the ``similar`` stage, after the
earlier-checks lookup of ``services.similar``).

Only when the archive holds something: the media is then sampled densely (a frame every
``QUERY_INTERVAL`` seconds plus scene changes, up to ``MAX_QUERY_SECONDS``), each frame hashed
whole and in tiles, and ``authcheck.tracing`` finds, aligns and verifies the matches. Nothing is
stored for the query: the results go into the check's ``similar`` list (``kind: reference``)
and, in words, into the verdict summary.
"""

from __future__ import annotations

import logging
from typing import Any

from authcheck import tiles, tracing
from authcheck.errors import MediaError
from authcheck.limits import ffmpeg_limits
from authcheck.models import Check, CheckStatus, Media, ReferenceItem
from authcheck.pipeline import dense
from authcheck.pipeline import frames as frames_stage
from authcheck.services.media import media_path

log = logging.getLogger(__name__)

# PDQ is sensitive to motion (a 1 % pan moves a hash by tens of bits), and reference footage is
# sampled about once a second: sampling the query at 5 fps puts a query frame within 0.1 s of
# nearly every reference frame of the aligned stretch.
QUERY_INTERVAL = 0.2
MAX_QUERY_SECONDS = 300.0  # a longer clip is traced on its first five minutes
WINDOW_SECONDS = 60.0  # 300 frames of at most 256 px: ~33 MB of ffmpeg output a window


def trace_media(media: Media) -> list[dict[str, Any]]:
    """Reference matches of the media (empty when the archive is empty or nothing aligns).

    A media that cannot be sampled gets no trace (logged): tracing never fails a check.
    """
    if media.kind not in ("video", "image") or not ReferenceItem.objects.exists():
        return []
    try:
        entries = query_entries(media)
    except MediaError as exc:
        log.info("media %s not traced: %s", media.pk, exc.code)
        return []
    return [{"kind": "reference", **m} for m in tracing.trace_find(entries)]


def trace_known(media: Media) -> list[dict[str, Any]]:
    """The reference matches of the media's latest finished check (known media is answered at
    once, without sampling again: the matches are as of that check's archive)."""
    latest = (
        Check.objects.filter(media=media, status=CheckStatus.DONE)
        .order_by("-pk")
        .values_list("similar", flat=True)
        .first()
    )
    return [m for m in latest or [] if isinstance(m, dict) and m.get("kind") == "reference"]


def query_entries(media: Media) -> list[dict[str, Any]]:
    """Whole-frame and tile hash entries of the media's densely sampled frames."""
    path = media_path(media)
    if media.kind == "image":
        (still,) = frames_stage.sample_frames(
            path, "image", {}, limits=ffmpeg_limits(), max_side=dense.DEFAULT_MAX_SIDE
        )
        return tiles.frame_entries(still.rgb, frame_index=0, timestamp=0.0, reference=False)
    # Unknown duration: read windows until one comes back empty.
    known = float((media.probe or {}).get("duration") or 0.0)
    duration = min(known or MAX_QUERY_SECONDS, MAX_QUERY_SECONDS)
    entries: list[dict[str, Any]] = []
    index, start = 0, 0.0
    while start < duration:  # one window at a time: each ffmpeg run's output stays small
        span = min(WINDOW_SECONDS, duration - start)
        window = dense.sample_window(
            path, start=start, duration=span, interval=QUERY_INTERVAL, limits=ffmpeg_limits()
        )
        if not window:
            break
        for frame in window:
            entries += tiles.frame_entries(
                frame.rgb, frame_index=index, timestamp=frame.timestamp, reference=False
            )
            index += 1
        start += span
    return entries
