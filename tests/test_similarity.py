"""The PDQ similarity index: chunking, the chunk prefilter against brute force, source tracing."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from django.db import connection, transaction

from authcheck import similarity
from authcheck.detectors.base import DetectorContext
from authcheck.detectors.near_duplicate import NearDuplicateDetector
from authcheck.models import Check, FrameHash, Media, User
from authcheck.pipeline.frames import sample_frames
from authcheck.pipeline.probe import probe
from authcheck.pipeline.sandbox import Limits
from authcheck.services.similar import frame_hashes_store
from tests.mediagen import letterboxed_copy, make_lavfi_clip, make_video

pytestmark = pytest.mark.django_db


def _media(name: str) -> Media:
    return Media.objects.create(
        sha256=f"{name:0>64}"[-64:], size=1, mime="video/mp4", kind="video", storage_name=name
    )


def _check(media: Media) -> Check:
    user, _ = User.objects.get_or_create(username="jo", defaults={"role": "journalist"})
    return Check.objects.create(media=media, source_type="upload", submitter=user)


def _entry(value: int, frame: int, quality: int = 100, variant: str = "full") -> dict:
    return {"frame_index": frame, "variant": variant, "quality": quality, "hash": f"{value:064x}"}


def _flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def test_chunks_and_hamming_agree_with_the_bits() -> None:
    value = random.Random(1).getrandbits(256)
    text = f"{value:064x}"
    chunks = similarity.hash_chunks(text)
    assert len(chunks) == 16 and all(0 <= c <= 0xFFFF for c in chunks)
    assert sum(c << (16 * (15 - i)) for i, c in enumerate(chunks)) == value
    assert similarity.hamming(text, f"{_flip(value, [0, 100, 255]):064x}") == 3
    with pytest.raises(ValueError):
        similarity.hash_chunks("xyz")


def test_storing_hashes_twice_stores_them_once() -> None:
    media = _media("a")
    entries = [_entry(random.Random(i).getrandbits(256), i) for i in range(5)]
    entries.append(_entry((1 << 256) - 1, 5))  # every 64-bit word negative as a signed bigint
    frame_hashes_store(media.pk, entries)
    frame_hashes_store(media.pk, entries)
    rows = FrameHash.objects.filter(media=media)
    assert rows.count() == 6
    row = rows.get(frame_index=2)
    assert row.hash == entries[2]["hash"]  # the hex, rebuilt from h0..h3
    # Chunks are stored as signed 16-bit integers with the same bits.
    stored = tuple(getattr(row, f"c{i}") for i in range(16))
    assert stored == similarity.stored_chunks(row.hash)
    assert tuple(c % 65536 for c in stored) == similarity.hash_chunks(row.hash)
    assert {getattr(rows.get(frame_index=5), f"c{i}") for i in range(16)} == {-1}
    # h0..h3 read back from the database hold the same 256 bits, most significant word first.
    for row in rows:
        words = [getattr(row, f"h{k}") % (1 << 64) for k in range(4)]
        assert sum(w << (64 * (3 - k)) for k, w in enumerate(words)) == int(row.hash, 16)
    assert rows.get(frame_index=5).h0 == -1


def test_the_chunk_prefilter_finds_exactly_what_a_brute_force_scan_finds() -> None:
    rng = random.Random(7)
    query = [rng.getrandbits(256) for _ in range(4)]
    stored: dict[int, list[int]] = {}
    # Background noise plus planted neighbours at 0..40 bits, including the pigeonhole worst
    # case: 31 flips spread as 2 per chunk in 15 chunks and 1 in the last.
    worst = [16 * c + b for c in range(15) for b in (0, 9)] + [16 * 15 + 4]
    plants = [_flip(query[0], worst)]
    for distance in (0, 5, 17, 30, 31, 32, 33, 40):
        base = query[rng.randrange(4)]
        plants.append(_flip(base, rng.sample(range(256), distance)))
    for m in range(30):
        stored[_media(f"m{m}").pk] = [rng.getrandbits(256) for _ in range(8)]
    for i, plant in enumerate(plants):
        stored[_media(f"p{i}").pk] = [rng.getrandbits(256), plant]
    for media_id, values in stored.items():
        frame_hashes_store(media_id, [_entry(v, f) for f, v in enumerate(values)])

    found = similarity.similar_find([_entry(q, f) for f, q in enumerate(query)], None, limit=100)

    brute = {}
    for media_id, values in stored.items():
        best = min((q ^ v).bit_count() for q in query for v in values)
        if best <= 31:
            brute[media_id] = best
    assert {m.media_id: m.distance for m in found} == brute
    assert len(brute) == 6  # worst case, 0, 5, 17, 30, 31 — not 32, 33, 40
    assert [m.distance for m in found] == sorted(m.distance for m in found)
    worst_match = next(m for m in found if m.distance == 31 and len(m.matched_frames) == 1)
    assert worst_match.matched_frames[0]["other_frame_index"] == 1


def test_matches_name_the_earliest_check_and_skip_excluded_and_low_quality_media() -> None:
    value = random.Random(3).getrandbits(256)
    earlier, mine, flat = _media("e"), _media("mine"), _media("flat")
    first = _check(earlier)
    _check(earlier)
    _check(mine)
    frame_hashes_store(earlier.pk, [_entry(_flip(value, [1, 2]), 7)])
    frame_hashes_store(mine.pk, [_entry(value, 0)])
    frame_hashes_store(flat.pk, [_entry(value, 0, quality=10)])

    (match,) = similarity.similar_find([_entry(value, 3)], exclude_media_id=mine.pk)
    assert (match.media_id, match.check_id, match.sha256) == (earlier.pk, first.pk, earlier.sha256)
    assert match.distance == 2
    assert match.matched_frames == (
        {
            "frame_index": 3,
            "other_frame_index": 7,
            "distance": 2,
            "variant": "full",
            "other_variant": "full",
        },
    )
    assert similarity.similar_find([_entry(value, 3, quality=10)], exclude_media_id=None) == []
    assert similarity.similar_find([_entry(value, 3)], None, limit=1)[0].distance == 0


def _trace_hashes(path: Path) -> list[dict]:
    frames = sample_frames(path, "video", probe(path, "video").to_dict(), limits=Limits())
    ctx = DetectorContext(path=path, sha256="0" * 64, mime="video/mp4", kind="video", frames=frames)
    return NearDuplicateDetector().detect(ctx).evidence["hashes"]


def test_a_letterboxed_reencoded_copy_is_traced_to_its_original(tmp_path: Path) -> None:
    original = make_video(tmp_path / "o.mp4", seconds=4, size="640x360", extra=("-g", "25"))
    copy = letterboxed_copy(original, tmp_path / "copy.mp4", width=512, crf=35)
    life = "life=size=640x360:rate=25:seed=42:mold=10"
    other = make_lavfi_clip(tmp_path / "life.mp4", life, seconds=4)
    source, unrelated = _media("orig"), _media("life")
    source_check = _check(source)
    frame_hashes_store(source.pk, _trace_hashes(original))
    frame_hashes_store(unrelated.pk, _trace_hashes(other))

    matches = similarity.similar_find(_trace_hashes(copy), exclude_media_id=None)

    assert [m.media_id for m in matches] == [source.pk]
    (match,) = matches
    assert match.check_id == source_check.pk
    assert match.distance <= similarity.MATCH_THRESHOLD
    assert match.matched_frames
    assert all(p["distance"] <= similarity.MATCH_THRESHOLD for p in match.matched_frames)
    assert 0 in {p["frame_index"] for p in match.matched_frames}


def test_the_lookup_leaves_a_callers_transaction_planning_as_before() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("planner settings exist on PostgreSQL only")
    with transaction.atomic(), connection.cursor() as cursor:
        similarity.similar_find([{"hash": "ab" * 32, "quality": 100}], exclude_media_id=None)
        cursor.execute("SELECT current_setting('enable_hashjoin'), current_setting('jit')")
        assert cursor.fetchone() == ("on", "on")
