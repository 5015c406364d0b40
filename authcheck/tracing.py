"""Source tracing against the reference archive: seed, align, verify, report tiles (read side).

1. **Seed.** Each query frame's whole-frame and corner-tile hashes (``SEED_VARIANTS``, quality
   at least ``MIN_QUALITY``) are looked up on an exact 32-bit chunk: the rows where some pair
   of adjacent 16-bit columns (``c0,c1``, ``c2,c3``, ...) equals the query's, confirmed
   within ``MATCH_THRESHOLD`` bits. Only the stored variants that such a query hash would
   match (``models.SEED_STORED``: whole frame, centre crop, corner tiles) are in the seed
   indexes, 6 of a reference frame's 11 rows; verification compares all of them. Two hashes
   within 7 bits always share such a chunk (pigeonhole over 8 chunks); beyond that a shared
   chunk is likely but not certain, which is enough: alignment needs a few frames, not all.
   With random hashes a probe draws
   ``rows / 2**32`` candidates, so the seed costs 8 index probes per query hash at any archive
   size (``benchmarks/bench_trace.py``), where the 16 x 17 probes of ``similarity`` draw 0.4 %
   of the table per query hash.
2. **Align** (``pipeline.alignment``): the seeds of each reference item vote for a line
   ``source_time = scale * query_time + offset``.
3. **Verify.** The reference item's stored hashes around each query frame's predicted source time
   are read (one indexed range per alignment) and compared in full: a query frame is aligned when
   its whole-frame hash matches (the reference's ``full`` or ``c90``) or at least
   ``MIN_TILES_MATCHED`` of its tiles do. This also finds the frames the seed missed, and the
   line is refined on the verified frames.
4. **Tiles.** For each aligned frame, each tile matched or not; the quarter cells that only failed
   tiles cover are where the picture differs (``authcheck.tiles``), averaged into a heat map.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Max, Min, Q

from authcheck.detectors.near_duplicate import MIN_QUALITY
from authcheck.models import (
    REFERENCE_FRAME_BASE,
    SEED_STORED,
    FrameHash,
    ReferenceItem,
    ReferenceState,
    words_hex,
)
from authcheck.pipeline import alignment
from authcheck.similarity import (
    HALVES,
    MATCH_THRESHOLD,
    _query_cte,
    prepared_rows,
    server_cursor,
    value_chunks,
)
from authcheck.tiles import CELLS, CROP_VARIANT, FULL, TILE_VARIANTS, tile_cells

MIN_TILES_MATCHED = 3
WINDOW = 1.5  # seconds around the predicted source time searched for the matching frame
MAX_FRAME_REPORTS = 120
REPORT_WINDOW = 0.35  # seconds: candidates for "the same instant" around a reference frame
PAIR_COLUMNS = 2
PAIRS = 8  # exact 32-bit chunks: pairs of adjacent 16-bit columns
# The seed looks up the whole frame and the four corner tiles of every query frame (an altered
# face or caption rarely reaches all four corners); verification then compares every tile. Half
# the hashes, half the index probes (each costs ~20 us on PostgreSQL).
SEED_VARIANTS = (FULL, "t00", "t02", "t20", "t22")


@dataclass(frozen=True)
class QueryFrame:
    """One sampled query frame: its time and its hashes by variant (value, quality)."""

    index: int
    timestamp: float
    hashes: dict[str, tuple[int, int]]


def query_frames(entries: Iterable[dict[str, Any]]) -> list[QueryFrame]:
    """Group hash entries (``tiles.frame_entries`` shape) into frames, in time order."""
    grouped: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    times: dict[int, float] = {}
    for entry in entries:
        index = int(entry["frame_index"])
        times[index] = float(entry.get("timestamp", 0.0))
        grouped[index][str(entry["variant"])] = (int(entry["hash"], 16), int(entry["quality"]))
    return sorted((QueryFrame(i, times[i], grouped[i]) for i in grouped), key=lambda f: f.timestamp)


def trace_find(
    entries: Sequence[dict[str, Any]], *, exclude_media_id: int | None = None
) -> list[dict[str, Any]]:
    """Reference items the query frames align with, strongest first (JSON-ready dicts)."""
    frames = query_frames(entries)
    searchable = [f for f in frames if any(q >= MIN_QUALITY for _, q in f.hashes.values())]
    if not searchable:
        return []
    seeds = seed_pairs(searchable, exclude_media_id)
    items = {
        item.media_id: item
        for item in ReferenceItem.objects.filter(
            media_id__in={m for m, _, _ in seeds},
            state__in=[ReferenceState.INDEXED, ReferenceState.INDEXING],
        ).select_related("media")
    }
    votes: dict[int, list[alignment.Vote]] = defaultdict(list)
    for media_id, query_time, (source_time, distance) in seeds:
        if media_id in items:
            votes[media_id].append((query_time, source_time, distance))
    matches = []
    for media_id, media_votes in votes.items():
        left = list(searchable)
        for fitted in alignment.fit_alignments(media_votes):
            # A later (weaker) alignment only explains frames the earlier ones did not cover.
            report = _verify(items[media_id], fitted, left)
            if report is not None:
                matches.append(report)
                left = [f for f in left if not _covered(f.timestamp, report["segments"])]
    return sorted(matches, key=lambda m: (-m["share_aligned"], m["reference_id"]))


def _covered(timestamp: float, segments: Sequence[dict[str, float]]) -> bool:
    return any(
        s["query_start"] - alignment.MAX_GAP <= timestamp <= s["query_end"] + alignment.MAX_GAP
        for s in segments
    )


# --- 1. seed --------------------------------------------------------------------------------------

# (media id, query time, (source time, distance))
_Seed = tuple[int, float, tuple[float, int]]


def seed_pairs(frames: Sequence[QueryFrame], exclude_media_id: int | None) -> list[_Seed]:
    """Stored frames sharing an exact 32-bit chunk with a query hash, within the threshold."""
    values: dict[int, set[float]] = defaultdict(set)
    for frame in frames:
        for variant in SEED_VARIANTS:
            value, quality = frame.hashes.get(variant, (0, 0))
            if quality >= MIN_QUALITY:
                values[value].add(frame.timestamp)
    queries = list(values)
    if connection.vendor == "postgresql":
        rows = _seed_postgres(queries, exclude_media_id)
    else:
        rows = _seed_generic(queries, exclude_media_id)
    times = _stored_times({(m, f) for _, m, f, _ in rows})
    best: dict[tuple[int, float, float], int] = {}
    for position, media_id, frame_index, distance in rows:
        source_time = times[(media_id, frame_index)]
        for query_time in values[queries[position]]:
            key = (media_id, query_time, source_time)
            best[key] = min(distance, best.get(key, distance))
    return [(m, q, (s, d)) for (m, q, s), d in best.items()]


def _pair_chunks(value: int) -> list[tuple[int, int]]:
    chunks = value_chunks(value)
    return [(chunks[i], chunks[i + 1]) for i in range(0, len(chunks), PAIR_COLUMNS)]


def _seed_generic(queries: Sequence[int], exclude: int | None) -> list[tuple[int, int, int, int]]:
    """The seed through the ORM, confirmed in Python (SQLite)."""
    base = FrameHash.objects.filter(
        quality__gte=MIN_QUALITY, frame_index__gte=REFERENCE_FRAME_BASE, variant__in=SEED_STORED
    )
    if exclude is not None:
        base = base.exclude(media_id=exclude)
    rows = []
    for position, value in enumerate(queries):
        condition = Q()
        for k, (a, b) in enumerate(_pair_chunks(value)):
            condition |= Q(**{f"c{2 * k}": a, f"c{2 * k + 1}": b})
        found = base.filter(condition).values_list(
            "media_id", "frame_index", "h0", "h1", "h2", "h3"
        )
        for media_id, frame_index, *words in found:
            distance = (value ^ int(words_hex(tuple(words)), 16)).bit_count()
            if distance <= MATCH_THRESHOLD:
                rows.append((position, media_id, frame_index, distance))
    return rows


def _seed_postgres(queries: Sequence[int], exclude: int | None) -> list[tuple[int, int, int, int]]:
    """One statement: 8 probes per query hash on the pair indexes, confirmed in SQL."""
    table = connection.ops.quote_name(FrameHash._meta.db_table)
    q_sql, params = _query_cte(queries)
    params.update(min_quality=MIN_QUALITY, max_distance=MATCH_THRESHOLD, exclude=exclude)
    distance = " + ".join(f"bit_count((t.h{k} # q.a{k})::bit(64))" for k in range(HALVES))
    exclude_sql = " AND t.media_id <> %(exclude)s" if exclude is not None else ""
    # The literals let the planner use the partial (reference, seed variants) pair indexes.
    variants = ", ".join(f"'{v}'" for v in SEED_STORED)
    branches = []
    for pair in range(PAIRS):
        a, b = PAIR_COLUMNS * pair, PAIR_COLUMNS * pair + 1
        # Only constants and the model's table name are interpolated into this SQL.
        branches.append(
            f"SELECT q.qi, t.media_id, t.frame_index, {distance} AS d FROM q "  # noqa: S608
            f"JOIN {table} t ON t.c{a} = q.k{a} AND t.c{b} = q.k{b} "
            f"WHERE t.frame_index >= {REFERENCE_FRAME_BASE} AND t.variant IN ({variants}) "
            f"AND t.quality >= %(min_quality)s{exclude_sql} AND {distance} <= %(max_distance)s"
        )
    sql = f"WITH {q_sql} " + " UNION ".join(branches)
    with server_cursor() as cursor:
        rows = prepared_rows(cursor, sql, params)
    return [(int(q), int(m), int(f), int(d)) for q, m, f, d in rows]


def _stored_times(keys: set[tuple[int, int]]) -> dict[tuple[int, int], float]:
    by_media: dict[int, set[int]] = defaultdict(set)
    for media_id, frame_index in keys:
        by_media[media_id].add(frame_index)
    times: dict[tuple[int, int], float] = {}
    for media_id, indexes in by_media.items():
        rows = FrameHash.objects.filter(
            media_id=media_id, frame_index__in=indexes, variant=FULL
        ).values_list("frame_index", "timestamp")
        times.update({(media_id, i): t for i, t in rows})
    return times


# --- 3. verify, 4. tiles --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stored:
    timestamp: float
    hashes: dict[str, tuple[int, int]]


@dataclass(frozen=True)
class _FrameResult:
    query_time: float
    source_time: float
    full_distance: int | None
    tiles: dict[str, bool | None]  # None: the query tile is too flat to tell

    def differing_cells(self) -> list[tuple[int, int]]:
        failed: dict[tuple[int, int], list[bool | None]] = defaultdict(list)
        for variant, matched in self.tiles.items():
            for cell in tile_cells(variant):
                failed[cell].append(matched)
        return sorted(c for c, states in failed.items() if all(s is False for s in states))


def _stored_frames(item: ReferenceItem, start: float, end: float) -> list[_Stored]:
    """Every stored variant of the item's frames in ``[start, end]``: the frame range from the
    whole-frame rows (reference frame indexes grow with time), then those frames' rows."""
    reference = FrameHash.objects.filter(
        media_id=item.media_id, frame_index__gte=REFERENCE_FRAME_BASE
    )
    span = reference.filter(variant=FULL, timestamp__gte=start, timestamp__lte=end).aggregate(
        first=Min("frame_index"), last=Max("frame_index")
    )
    if span["first"] is None:
        return []
    rows = reference.filter(frame_index__range=(span["first"], span["last"])).values_list(
        "frame_index", "timestamp", "variant", "quality", "h0", "h1", "h2", "h3"
    )
    frames: dict[int, _Stored] = {}
    for index, timestamp, variant, quality, *words in rows:
        value = int(words_hex(tuple(words)), 16)
        frames.setdefault(index, _Stored(timestamp, {})).hashes[variant] = (value, quality)
    return sorted(frames.values(), key=lambda s: s.timestamp)


def _compare(frame: QueryFrame, stored: Sequence[_Stored]) -> _FrameResult | None:
    """The best stored frame for one query frame: whole-frame distance and tile matches."""
    best: _FrameResult | None = None
    for candidate in stored:
        result = _compare_one(frame, candidate)
        if best is None or _strength(result) > _strength(best):
            best = result
    if best is None:
        return None
    whole = best.full_distance is not None and best.full_distance <= MATCH_THRESHOLD
    tiles = sum(1 for m in best.tiles.values() if m)
    return best if whole or tiles >= MIN_TILES_MATCHED else None


def _strength(result: _FrameResult) -> tuple[int, int]:
    tiles = sum(1 for m in result.tiles.values() if m)
    full = MATCH_THRESHOLD + 1 - min(result.full_distance or 256, MATCH_THRESHOLD + 1)
    return tiles + (1 if full > 0 else 0), full


def _compare_one(frame: QueryFrame, stored: _Stored) -> _FrameResult:
    values = [v for v, q in stored.hashes.values() if q >= MIN_QUALITY]
    whole = [stored.hashes[v][0] for v in (FULL, CROP_VARIANT) if v in stored.hashes]
    full_distance = None
    if FULL in frame.hashes and frame.hashes[FULL][1] >= MIN_QUALITY and whole:
        full_distance = min((frame.hashes[FULL][0] ^ w).bit_count() for w in whole)
    tiles: dict[str, bool | None] = {}
    for variant in TILE_VARIANTS:
        if variant not in frame.hashes:
            continue
        value, quality = frame.hashes[variant]
        if quality < MIN_QUALITY or not values:
            tiles[variant] = None
            continue
        tiles[variant] = min((value ^ v).bit_count() for v in values) <= MATCH_THRESHOLD
    return _FrameResult(frame.timestamp, stored.timestamp, full_distance, tiles)


def _verify(
    item: ReferenceItem, fitted: alignment.Alignment, frames: Sequence[QueryFrame]
) -> dict[str, Any] | None:
    """Compare every query frame with the stored frames around its predicted source time."""
    predicted = [(f, fitted.source_time(f.timestamp)) for f in frames]
    inside = [(f, t) for f, t in predicted if -WINDOW <= t <= item.duration + WINDOW]
    if not inside:
        return None
    stored = _stored_frames(
        item, min(t for _, t in inside) - WINDOW, max(t for _, t in inside) + WINDOW
    )
    results = []
    for frame, at in inside:
        near = [s for s in stored if abs(s.timestamp - at) <= WINDOW]
        result = _compare(frame, near)
        if result is not None:
            results.append(result)
    if len(results) < alignment.MIN_FRAMES:
        return None
    rough = alignment.refine(
        np.array([r.query_time for r in results]),
        np.array([r.source_time for r in results]),
        fitted.scale,
        fitted.offset,
    )
    picks = _closest_per_source_frame(rough, results)
    line = rough
    if len(picks) >= alignment.MIN_FRAMES:
        # Exact correspondences (a query frame showing the instant of a reference frame) fix
        # the line far better than every frame's nearest reference sample.
        line = alignment.refine(
            np.array([r.query_time for r in picks]),
            np.array([r.source_time for r in picks]),
            rough.scale,
            rough.offset,
        )
    times = sorted({r.query_time for r in results})
    final = alignment.Alignment(
        line.scale, line.offset, tuple(times), alignment.segments_of(times, line.scale, line.offset)
    )
    return _report(item, final, picks or list(results), _clip_seconds(frames))


def _clip_seconds(frames: Sequence[QueryFrame]) -> float:
    """The sampled clip's length: first to last frame plus one sampling step."""
    if len(frames) < 2:
        return 1.0
    step = (frames[-1].timestamp - frames[0].timestamp) / (len(frames) - 1)
    return frames[-1].timestamp - frames[0].timestamp + step


def _closest_per_source_frame(
    fitted: alignment.Alignment, results: Sequence[_FrameResult]
) -> list[_FrameResult]:
    """For each reference frame, the query frame (within ``REPORT_WINDOW`` s of it on the
    fitted line) whose whole-frame hash is nearest to it, then the one with most tiles matched.

    PDQ moves by tens of bits under a fraction of a second of motion, so the tile report reads
    only query frames that show the same instant as a sampled reference frame; the others would
    report differences that are only the time offset. An altered frame is still nearest to its
    own instant: the alteration is in every candidate, the offset only in the wrong ones.
    """
    best: dict[float, tuple[tuple[int, int], _FrameResult]] = {}
    for result in results:
        gap = abs(fitted.source_time(result.query_time) - result.source_time)
        if gap > REPORT_WINDOW:
            continue
        tiles = sum(1 for m in result.tiles.values() if m)
        rank = (result.full_distance if result.full_distance is not None else 256, -tiles)
        kept = best.get(result.source_time)
        if kept is None or rank < kept[0]:
            best[result.source_time] = (rank, result)
    return sorted((r for _, r in best.values()), key=lambda r: r.query_time)


def _report(
    item: ReferenceItem,
    fitted: alignment.Alignment,
    results: Sequence[_FrameResult],
    clip_seconds: float,
) -> dict[str, Any]:
    """The match as JSON; ``share_aligned`` is the share of the clip's length its segments
    cover (frames between two aligned ones count as aligned); ``results`` are the frames the
    tile report reads (one per reference frame)."""
    covered = sum(s.query_end - s.query_start for s in fitted.segments)
    cells = [r.differing_cells() for r in results]
    heat = np.zeros((CELLS, CELLS))
    for found in cells:
        for r, c in found:
            heat[r, c] += 1
    differing = [(res, found) for res, found in zip(results, cells, strict=True) if found]
    tiles: dict[str, dict[str, int]] = {v: {"matched": 0, "differs": 0} for v in TILE_VARIANTS}
    for res in results:
        for variant, matched in res.tiles.items():
            if matched is not None:
                tiles[variant]["matched" if matched else "differs"] += 1
    return {
        "reference_id": item.pk,
        "media_id": item.media_id,
        "sha256": item.media.sha256,
        "collection": item.collection,
        "title": item.title,
        "source_url": item.source_url,
        "scale": round(fitted.scale, 3),
        "offset": round(fitted.offset, 2),
        "segments": [s.to_dict() for s in fitted.segments],
        "frames_aligned": len(results),
        "share_aligned": round(min(1.0, covered / max(clip_seconds, 1e-6)), 3),
        "differs": _differs(differing),
        "heat_map": (heat / len(results)).round(3).tolist(),
        "tiles": tiles,
        "frames": [
            {
                "query_time": r.query_time,
                "source_time": r.source_time,
                "full_distance": r.full_distance,
                "differing_cells": [list(c) for c in found],
            }
            for r, found in zip(results, cells, strict=True)
        ][:MAX_FRAME_REPORTS],
    }


def _differs(differing: Sequence[tuple[_FrameResult, list[tuple[int, int]]]]) -> dict[str, Any]:
    """Where and how much the picture differs; empty unless at least two frames differ (one
    odd frame is more likely a compression artefact than an alteration)."""
    if len(differing) < 2:
        return {}
    area = float(np.mean([len(found) for _, found in differing])) / (CELLS * CELLS)
    return {
        "area": round(area, 3),
        "query_start": min(r.query_time for r, _ in differing),
        "query_end": max(r.query_time for r, _ in differing),
        "frames": len(differing),
    }
