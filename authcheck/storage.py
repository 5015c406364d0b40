"""Where media bytes live: local disk (default) or S3-compatible object storage.

The one module that knows. Everything else asks it to store a hashed temporary file, give a
local path to read, hand out a short-lived URL, stream the bytes, or delete them.

- **local**: ``MEDIA_ROOT/<ab>/<name>``; storing is a rename, reading is the file itself.
- **s3** (``AUTHCHECK_STORAGE=s3``, django-storages' S3Storage): storing uploads the temporary
  file in multipart chunks straight from disk; reading streams the object into a per-worker
  cache under ``MEDIA_ROOT/cache``, hashing it on the way (a stored object that no longer
  matches its SHA-256 is refused) and capped at the media's recorded size. The cache is bounded
  by ``AUTHCHECK_MEDIA_CACHE_BYTES`` and ``AUTHCHECK_MEDIA_CACHE_SECONDS`` since last use, so a
  worker never keeps a retained-away media for long. Objects stay private: readers get
  presigned URLs that expire after ``AUTHCHECK_MEDIA_URL_SECONDS``.

Reference footage can also be read from the object store (``reference_add s3://bucket/prefix``):
``source_objects`` lists what is under a prefix, ``source_open`` streams one object, both with
the connection settings of ``AUTHCHECK_S3_CONNECTION`` (any bucket those credentials may read,
not only the media bucket).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages

from authcheck.errors import AuthcheckError, MediaError
from authcheck.models import Media

CHUNK = 1024 * 1024


def is_remote() -> bool:
    """True when media lives in object storage rather than on this machine's disk."""
    return bool(settings.AUTHCHECK_STORAGE == "s3")


def _key(storage_name: str) -> str:
    return f"{storage_name[:2]}/{storage_name}"


def _local_path(storage_name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / storage_name[:2] / storage_name


def _cache_path(storage_name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "cache" / storage_name[:2] / storage_name


def frames_path(media: Media) -> Path:
    """Where the sampled frames of a media are cached (always on this machine's disk)."""
    return (
        Path(settings.MEDIA_ROOT) / "frames" / media.storage_name[:2] / f"{media.storage_name}.npz"
    )


def metadata_path(media: Media) -> Path:
    """Where the parsed embedded metadata of a media is cached (written by the metadata stage,
    read by the "why no Content Credentials?" account)."""
    name = media.storage_name
    return Path(settings.MEDIA_ROOT) / "metadata" / name[:2] / f"{name}.json"


def _s3() -> Any:
    return storages["default"]


def media_store(tmp_path: Path, storage_name: str) -> None:
    """Move a hashed temporary file into storage under ``storage_name`` (it is consumed)."""
    if not is_remote():
        dest = _local_path(storage_name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_path, dest)
        return
    try:
        with open(tmp_path, "rb") as handle:
            saved = _s3().save(_key(storage_name), File(handle))
        if saved != _key(storage_name):  # names are random: a collision means a bug
            raise RuntimeError(f"object storage renamed {storage_name} to {saved}")
    finally:
        tmp_path.unlink(missing_ok=True)


def media_delete(storage_name: str) -> None:
    """Remove stored bytes (and this worker's cached copy); missing bytes are not an error."""
    if is_remote():
        _s3().delete(_key(storage_name))
        _cache_path(storage_name).unlink(missing_ok=True)
    else:
        _local_path(storage_name).unlink(missing_ok=True)


def media_local_path(media: Media) -> Path:
    """A local file holding the media's bytes, for ffmpeg, c2pa and the detectors."""
    if not is_remote():
        return _local_path(media.storage_name)
    path = _cache_path(media.storage_name)
    if path.exists():
        os.utime(path)  # last use, for the cache's age bound
        return path
    _download(media, path)
    cache_prune(keep=path)
    return path


def _download(media: Media, path: Path) -> None:
    """Stream the object to ``path`` through a temporary name, hashing and size-capping it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part-{os.getpid()}")
    digest, received = hashlib.sha256(), 0
    body = _s3().bucket.Object(_s3()._normalize_name(_key(media.storage_name))).get()["Body"]
    try:
        with open(partial, "wb") as out:
            for chunk in body.iter_chunks(CHUNK):
                received += len(chunk)
                if received > media.size:
                    break
                digest.update(chunk)
                out.write(chunk)
        if received != media.size or digest.hexdigest() != media.sha256:
            raise MediaError(
                "the stored media no longer matches its SHA-256", code="storage_mismatch"
            )
        os.replace(partial, path)
    finally:
        body.close()
        partial.unlink(missing_ok=True)


def cache_prune(*, keep: Path | None = None) -> int:
    """Drop cached copies unused for too long, then the oldest beyond the byte bound."""
    root = Path(settings.MEDIA_ROOT) / "cache"
    if not root.exists():
        return 0
    now = time.time()
    files = sorted(
        ((p.stat().st_mtime, p.stat().st_size, p) for p in root.glob("*/*") if p.is_file()),
    )
    removed, total = 0, sum(size for _, size, _ in files)
    for mtime, size, path in files:
        too_old = now - mtime > settings.AUTHCHECK_MEDIA_CACHE_SECONDS
        too_big = total > settings.AUTHCHECK_MEDIA_CACHE_BYTES
        if path != keep and (too_old or too_big):
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
    return removed


def media_url(
    media: Media, *, content_type: str = "application/octet-stream", attachment: bool = True
) -> str | None:
    """A presigned GET URL on the storage domain that expires after
    ``AUTHCHECK_MEDIA_URL_SECONDS`` (object storage reachable by browsers:
    ``AUTHCHECK_MEDIA_REDIRECT``), or None: serve it through a view.

    The storage answers with ``content_type`` and, for ``attachment``, as a download, whatever
    type the object was stored with: both are signed into the URL (S3's ``response-*``
    overrides), so a browser never renders a stored object as a page of the storage domain.
    """
    if not is_remote() or not settings.AUTHCHECK_MEDIA_REDIRECT:
        return None
    params = {"ResponseContentType": content_type}
    if attachment:
        params["ResponseContentDisposition"] = 'attachment; filename="media"'
    key = _key(media.storage_name)
    return str(
        _presigner().url(key, parameters=params, expire=settings.AUTHCHECK_MEDIA_URL_SECONDS)
    )


_presigners: dict[tuple[str, str], Any] = {}


def _presigner() -> Any:
    """The storage that signs URLs for browsers: the media storage itself, or the same bucket
    and credentials addressed through ``AUTHCHECK_S3_PUBLIC_ENDPOINT_URL`` (signing is local:
    nothing is sent to that endpoint here)."""
    public = settings.AUTHCHECK_S3_PUBLIC_ENDPOINT_URL
    if not public:
        return _s3()
    options = cast(dict[str, Any], settings.STORAGES["default"]["OPTIONS"])
    cache_key = (public, str(options.get("bucket_name", "")))
    if cache_key not in _presigners:
        from storages.backends.s3 import S3Storage

        _presigners[cache_key] = S3Storage(**{**options, "endpoint_url": public})
    return _presigners[cache_key]


def media_chunks(media: Media) -> Iterator[bytes]:
    """The media's bytes in chunks, for an authorized view to stream (never held whole)."""
    if is_remote():
        body = _s3().bucket.Object(_s3()._normalize_name(_key(media.storage_name))).get()["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()
        return
    with open(_local_path(media.storage_name), "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def media_digest(media: Media) -> tuple[int, str]:
    """Size and SHA-256 of the stored bytes, streamed (for ``media_verify`` after a restore)."""
    digest, size = hashlib.sha256(), 0
    for chunk in media_chunks(media):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def storage_probe() -> None:
    """Raise unless media can be stored: the bucket answers, or the media directory is writable."""
    if is_remote():
        s3 = _s3()
        s3.connection.meta.client.head_bucket(Bucket=s3.bucket_name)
        return
    import tempfile

    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".readyz-"):
        pass


# --- reference footage in the object store ------------------------------------------------

SOURCE_SCHEME = "s3://"


@dataclass(frozen=True)
class SourceObject:
    """One object under an ``s3://bucket/prefix`` source, as listed."""

    bucket: str
    key: str
    size: int
    etag: str

    @property
    def uri(self) -> str:
        return f"{SOURCE_SCHEME}{self.bucket}/{self.key}"

    @property
    def name(self) -> str:
        return PurePosixPath(self.key).name


def is_source_uri(text: str) -> bool:
    """True for an ``s3://bucket[/prefix]`` reference source."""
    return text.startswith(SOURCE_SCHEME)


def _source_split(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri[len(SOURCE_SCHEME) :].partition("/")
    if not bucket:
        raise AuthcheckError(
            f"no bucket in {uri} (expected s3://bucket/prefix)", code="url_invalid"
        )
    return bucket, prefix


def _source_bucket(bucket: str) -> Any:
    from storages.backends.s3 import S3Storage

    options = {**settings.AUTHCHECK_S3_CONNECTION, "bucket_name": bucket, "location": ""}
    return S3Storage(**options).bucket


def _source_error(uri: str, exc: Exception) -> AuthcheckError:
    from botocore.exceptions import ClientError

    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
    return AuthcheckError(
        f"cannot read {uri}: {code or type(exc).__name__}", code="object_store_unreadable"
    )


def source_objects(uri: str) -> Iterator[SourceObject]:
    """Every object under ``s3://bucket/prefix``, by key (folder markers and hidden names,
    any path part starting with ".", skipped). A missing bucket or refused credentials raise
    ``AuthcheckError`` (``object_store_unreadable``) before anything is yielded."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = _source_split(uri)
    try:
        listed = list(_source_bucket(bucket).objects.filter(Prefix=prefix))
    except (BotoCoreError, ClientError) as exc:
        raise _source_error(uri, exc) from exc
    for summary in sorted(listed, key=lambda o: o.key):
        parts = PurePosixPath(summary.key).parts
        if summary.key.endswith("/") or any(p.startswith(".") for p in parts):
            continue
        yield SourceObject(bucket, summary.key, int(summary.size), summary.e_tag.strip('"'))


def source_object(uri: str) -> SourceObject:
    """One object by its ``s3://bucket/key`` (its current size and ETag)."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = _source_split(uri)
    try:
        head = _source_bucket(bucket).Object(key)
        return SourceObject(bucket, key, int(head.content_length), str(head.e_tag).strip('"'))
    except (BotoCoreError, ClientError) as exc:
        raise _source_error(uri, exc) from exc


class _SourceStream:
    """An object's body whose read errors (a dropped connection, a truncated object) are
    ``AuthcheckError`` like every other refusal, not botocore's."""

    def __init__(self, body: Any, uri: str) -> None:
        self._body, self._uri = body, uri

    def read(self, size: int = -1) -> bytes:
        from botocore.exceptions import BotoCoreError

        try:
            return bytes(self._body.read(None if size < 0 else size))
        except BotoCoreError as exc:
            raise _source_error(self._uri, exc) from exc


@contextmanager
def source_open(obj: SourceObject) -> Iterator[IO[bytes]]:
    """The object's bytes as a stream (never held whole); closed on exit."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        body = _source_bucket(obj.bucket).Object(obj.key).get()["Body"]
    except (BotoCoreError, ClientError) as exc:
        raise _source_error(obj.uri, exc) from exc
    try:
        yield cast(IO[bytes], _SourceStream(body, obj.uri))
    finally:
        body.close()
