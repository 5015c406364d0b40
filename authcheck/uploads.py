"""An upload handler that hashes while Django writes the upload to disk, and enforces the cap.

Uploads are therefore streamed to a temporary file and hashed once, in the same pass; the
service adopts that file into media storage with a rename instead of copying it again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

TOO_LARGE_FLAG = "authcheck_upload_too_large"
FILE_COUNT_ATTR = "authcheck_upload_files"


class HashingUploadedFile(TemporaryUploadedFile):
    """A temporary upload that knows its SHA-256 and size once fully received."""

    sha256: str = ""


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Write every upload to a temporary file, hashing it on the way, never past the cap."""

    # Django's 64 KiB default costs a Python round trip per chunk in the multipart parser;
    # 1 MiB keeps memory per upload bounded and makes large uploads several times cheaper.
    chunk_size = 1024 * 1024

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self._digest = hashlib.sha256()
        self._received = 0
        if self.request is not None:
            count = getattr(self.request, FILE_COUNT_ATTR, 0) + 1
            setattr(self.request, FILE_COUNT_ATTR, count)
        # Replace Django's file object with ours (same temporary file semantics).
        self.file = HashingUploadedFile(
            self.file_name or "", self.content_type, 0, self.charset, self.content_type_extra
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._received += len(raw_data)
        if self._received > settings.AUTHCHECK_MAX_UPLOAD_BYTES:
            if self.request is not None:
                setattr(self.request, TOO_LARGE_FLAG, True)
            self.file.close()  # deletes the partial temporary file
            raise StopUpload(connection_reset=True)
        self._digest.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> HashingUploadedFile:
        uploaded = super().file_complete(file_size)
        assert isinstance(uploaded, HashingUploadedFile)  # set in new_file
        uploaded.sha256 = self._digest.hexdigest()
        return uploaded
