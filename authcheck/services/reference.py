"""The reference archive: add known footage, index it for tracing, list and remove it.

``reference_register`` hashes a file, keeps it as content-addressed Media (deduplicated: the same
bytes are stored once, and registering them again in the same collection adds nothing) and
records a ``ReferenceItem`` with its audit event; no check is created. ``reference_index`` then
samples the media densely (``pipeline.dense``: about a frame a second plus scene changes) one
window of ``WINDOW_SECONDS`` at a time and stores each window's whole-frame, crop and tile
hashes (``authcheck.tiles``) in the frame-hash index together with how far it got, in one
transaction: an interrupted run resumes at the next window.

Reference rows use frame indexes from ``REFERENCE_INDEX_BASE`` up, so they can never collide
with the near-duplicate rows of the same bytes checked as ordinary media.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from authcheck import similarity, storage, tiles
from authcheck.errors import AuthcheckError, MediaError, MediaTooLarge, UnsupportedMedia
from authcheck.limits import ffmpeg_limits
from authcheck.models import REFERENCE_FRAME_BASE, FrameHash, Media, ReferenceItem, ReferenceState
from authcheck.pipeline import dense, hashing
from authcheck.pipeline import frames as frames_stage
from authcheck.services import publish
from authcheck.services.audit import audit_record
from authcheck.services.media import media_adopt, media_path, tmp_dir
from authcheck.services.processing import probe_ensure

log = logging.getLogger(__name__)

REFERENCE_INDEX_BASE = REFERENCE_FRAME_BASE
WINDOW_SECONDS = 60.0
SAMPLE_INTERVAL = 1.0
REFERENCE_MAX_BYTES = 200 * 1024**3  # archive footage is local and trusted to be large
Progress = Callable[[ReferenceItem], None]


def reference_paths(paths: list[Path]) -> Iterator[Path]:
    """The files named, and every file under the folders named (sorted, hidden ones skipped)."""
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if found.is_file() and not any(p.startswith(".") for p in found.parts):
                    yield found
        elif path.is_file():
            yield path
        else:
            raise AuthcheckError(f"no such file or folder: {path}", code="file_not_found")


def reference_register(
    path: Path, *, collection: str, source_url: str = "", actor: str = "cli"
) -> tuple[ReferenceItem, bool]:
    """Store one file as reference media in ``collection``; (item, created)."""
    with open(path, "rb") as handle:
        return _register(
            handle,
            collection=collection,
            title=path.stem,
            original=str(path),
            source_url=source_url,
            actor=actor,
        )


def _register(
    handle: IO[bytes],
    *,
    collection: str,
    title: str,
    original: str,
    source_url: str,
    actor: str,
    audit: dict[str, Any] | None = None,
) -> tuple[ReferenceItem, bool]:
    """Hash ``handle`` into a temporary file (capped), sniff it like an upload, adopt it as media
    and record the item with its ``reference.added`` event."""
    collection = _collection(collection)
    target = tmp_dir() / hashing.random_name()
    stored = hashing.copy_and_hash(handle, target, REFERENCE_MAX_BYTES)
    try:
        sniffed = hashing.sniff(stored.path)
        if sniffed.kind not in ("video", "image"):
            raise UnsupportedMedia(f"reference media must be video or an image, not {sniffed.kind}")
    except AuthcheckError:
        stored.path.unlink(missing_ok=True)
        raise
    media = media_adopt(stored.path, sha256=stored.sha256, size=stored.size, sniffed=sniffed)
    with transaction.atomic():
        item, created = ReferenceItem.objects.get_or_create(
            media=media,
            collection=collection,
            defaults={
                "title": title[:200],
                "source_url": source_url[:2000],
                "original_path": original[:1000],
            },
        )
        if created:
            audit_record(
                actor=actor,
                action="reference.added",
                object_type="reference",
                object_id=item.pk,
                data={
                    "collection": collection,
                    "title": item.title,
                    "sha256": media.sha256,
                    "source_url": item.source_url,
                    **(audit or {}),
                },
            )
    return item, created


def _collection(name: str) -> str:
    collection = name.strip()[:100]
    if not collection:
        raise AuthcheckError("a collection name is required", code="collection_required")
    return collection


# --- reference footage in the object store ------------------------------------------------


def reference_object_known(obj: storage.SourceObject, collection: str) -> ReferenceItem | None:
    """The item already registered from this object (same key, same size) in ``collection``."""
    return (
        ReferenceItem.objects.select_related("media")
        .filter(collection=_collection(collection), original_path=obj.uri, media__size=obj.size)
        .order_by("-pk")
        .first()
    )


def reference_object_register(
    obj: storage.SourceObject, *, collection: str, source_url: str = "", actor: str = "cli"
) -> tuple[ReferenceItem, bool]:
    """Stream one object of the object store into reference media in ``collection``, as
    ``reference_register`` does a file: never held whole, capped before and while fetching,
    sniffed like an upload; the audit event names the object and its ETag."""
    if obj.size > REFERENCE_MAX_BYTES:
        raise MediaTooLarge(
            f"{obj.uri} is larger than {REFERENCE_MAX_BYTES} bytes", code="too_large"
        )
    with storage.source_open(obj) as handle:
        return _register(
            handle,
            collection=collection,
            title=PurePosixPath(obj.key).stem,
            original=obj.uri,
            source_url=source_url,
            actor=actor,
            audit={"object": obj.uri, "etag": obj.etag},
        )


def reference_object_add(
    obj: storage.SourceObject,
    *,
    collection: str,
    source_url: str = "",
    actor: str = "cli",
    progress: Progress | None = None,
) -> tuple[ReferenceItem | None, str]:
    """Add one object: ``skipped`` when this key (same size) is already indexed in the
    collection; registered earlier but not indexed: indexing resumes, without fetching it
    again; otherwise fetched, registered and indexed here, or all of that on a worker
    (``queued``, no item yet) when a broker is configured. (item, state)."""
    known = reference_object_known(obj, collection)
    if known is not None and known.state == ReferenceState.INDEXED:
        return known, "skipped"
    if known is None and not settings.AUTHCHECK_TASKS_IN_PROCESS:
        publish.reference_object_publish(obj.uri, collection, source_url, actor)
        return None, "queued"
    item = (
        known
        or reference_object_register(
            obj, collection=collection, source_url=source_url, actor=actor
        )[0]
    )
    return item, reference_enqueue(item, progress)


def reference_object_fetch(uri: str, collection: str, source_url: str, actor: str) -> str:
    """The worker's side of a queued object: fetch, register and index it (state returned;
    a refused object is logged, as the command would print it)."""
    try:
        obj = storage.source_object(uri)
        known = reference_object_known(obj, collection)
        item = (
            known
            or reference_object_register(
                obj, collection=collection, source_url=source_url, actor=actor
            )[0]
        )
    except AuthcheckError as exc:
        log.warning("reference object %s skipped: %s: %s", uri, exc.code, exc.message)
        return "skipped"
    return reference_index(item.pk)


def reference_enqueue(item: ReferenceItem, progress: Progress | None = None) -> str:
    """Index on a Celery worker when a broker is configured, otherwise here and now."""
    if not settings.AUTHCHECK_TASKS_IN_PROCESS:
        publish.reference_publish(item.pk)
        return "queued"
    return reference_index(item.pk, progress)


def reference_index(item_id: int, progress: Progress | None = None) -> str:
    """Index (or resume indexing) one reference item; returns its final state."""
    item = ReferenceItem.objects.select_related("media").get(pk=item_id)
    if item.state == ReferenceState.INDEXED:
        return item.state
    media = item.media
    try:
        probe = probe_ensure(media)
        duration = float(probe.get("duration") or 0.0) if media.kind == "video" else 0.0
        ReferenceItem.objects.filter(pk=item.pk).update(
            state=ReferenceState.INDEXING, duration=duration
        )
        item.duration = duration
        if media.kind == "image":
            _index_image(item, media)
        else:
            _index_video(item, media, progress)
    except MediaError as exc:
        _fail(item, exc)
        return ReferenceState.ERROR
    with transaction.atomic():
        ReferenceItem.objects.filter(pk=item.pk).update(
            state=ReferenceState.INDEXED, indexed_at=timezone.now(), error=""
        )
        audit_record(
            actor="system",
            action="reference.indexed",
            object_type="reference",
            object_id=item.pk,
            data={"frames": item.frames_indexed, "duration": item.duration},
        )
    return ReferenceState.INDEXED


def _index_video(item: ReferenceItem, media: Media, progress: Progress | None) -> None:
    path = media_path(media)
    while item.indexed_until < item.duration:
        start = item.indexed_until
        span = min(WINDOW_SECONDS, item.duration - start)
        window = dense.sample_window(
            path, start=start, duration=span, interval=SAMPLE_INTERVAL, limits=ffmpeg_limits()
        )
        entries = []
        for offset, frame in enumerate(window):
            index = REFERENCE_INDEX_BASE + item.frames_indexed + offset
            entries += tiles.frame_entries(
                frame.rgb, frame_index=index, timestamp=frame.timestamp, reference=True
            )
        _store_window(item, entries, frames=len(window), until=start + span)
        if progress:
            progress(item)


def _index_image(item: ReferenceItem, media: Media) -> None:
    (frame,) = frames_stage.sample_frames(
        media_path(media), "image", {}, limits=ffmpeg_limits(), max_side=dense.DEFAULT_MAX_SIDE
    )
    entries = tiles.frame_entries(
        frame.rgb, frame_index=REFERENCE_INDEX_BASE, timestamp=0.0, reference=True
    )
    _store_window(item, entries, frames=1, until=0.0)


def _store_window(item: ReferenceItem, entries: list[dict], *, frames: int, until: float) -> None:
    """One window's hashes and the progress marker, together (resuming never duplicates)."""
    rows = [similarity.frame_hash_row(item.media_id, e) for e in entries]
    with transaction.atomic():
        FrameHash.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        item.frames_indexed += frames
        item.indexed_until = until
        ReferenceItem.objects.filter(pk=item.pk).update(
            frames_indexed=item.frames_indexed, indexed_until=until
        )


def _fail(item: ReferenceItem, exc: AuthcheckError) -> None:
    with transaction.atomic():
        ReferenceItem.objects.filter(pk=item.pk).update(
            state=ReferenceState.ERROR, error=f"{exc.code}: {exc.message}"[:300]
        )
        audit_record(
            actor="system",
            action="reference.failed",
            object_type="reference",
            object_id=item.pk,
            data={"code": exc.code},
        )


def reference_remove(item: ReferenceItem, *, actor: str = "cli") -> None:
    """Remove one reference item and (when no other collection holds the same bytes) its
    frame hashes; the media itself stays (checks may use the same bytes). Audited."""
    with transaction.atomic():
        others = ReferenceItem.objects.filter(media_id=item.media_id).exclude(pk=item.pk)
        if not others.exists():
            FrameHash.objects.filter(
                media_id=item.media_id, frame_index__gte=REFERENCE_INDEX_BASE
            ).delete()
        audit_record(
            actor=actor,
            action="reference.removed",
            object_type="reference",
            object_id=item.pk,
            data={"collection": item.collection, "title": item.title, "sha256": item.media.sha256},
        )
        item.delete()
