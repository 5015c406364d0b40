"""SECURITY M4: the 2017 ffmpeg "HLS in AVI" proof of concept, generated here
(``tests/mediagen.make_gab2_hls_avi``): an AVI whose GAB2 text stream carries an HLS playlist
naming local files. Uploaded through the API and run through the probe and frames stages it ends
as ``unsupported_media`` or a decode error, opens none of the files it names, and no byte of
their content appears in the API answers, the database (stage errors, metadata, audit) or the
log.
"""

from __future__ import annotations

import io
import logging
import secrets
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from authcheck.errors import MediaError
from authcheck.limits import Limits
from authcheck.models import Check, CheckStatus
from authcheck.pipeline.frames import sample_frames
from authcheck.pipeline.hashing import sniff
from authcheck.pipeline.probe import probe
from authcheck.services import processing
from tests.mediagen import make_gab2_hls_avi
from tests.pipeline.test_probe import FifoWatch

DECODE_ERRORS = {"unsupported_media", "media_malformed"}
PASSWD_LINE = "root:x:0:0"


@pytest.fixture
def canary(tmp_path: Path) -> tuple[Path, str]:
    """A local file with content found nowhere else: its presence in an output is a leak."""
    content = f"AUTHCHECK-M4-CANARY-{secrets.token_hex(16)}"
    path = tmp_path / "canary.txt"
    path.write_text(content + "\n")
    return path, content


def poc(tmp_path: Path, *segments: str) -> Path:
    return make_gab2_hls_avi(tmp_path / "poc.avi", *segments)


def test_the_generated_file_is_an_avi_whose_gab2_payload_ffmpeg_detects_as_hls(
    tmp_path: Path, canary: tuple[Path, str]
) -> None:
    path = poc(tmp_path, f"file://{canary[0]}", "file:///etc/passwd")
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"AVI " and b"txts" in data
    assert b"00tx" in data and b"GAB2\0\x02\x00" in data and b"#EXTM3U" in data
    assert sniff(path).kind == "video"  # passes the upload sniff as an AVI video
    # Control: ffmpeg's AVI demuxer finds the GAB2 chunk and probes its payload as HLS, which is
    # the code path of the 2017 bug (this ffmpeg then limits GAB2 to srt/ass subtitles).
    trace = subprocess.run(
        ["ffprobe", "-v", "trace", "-i", f"file:{path}"], capture_output=True, text=True, timeout=60
    ).stderr
    assert "Probing hls score:100" in trace


def test_the_probe_and_frames_stages_refuse_it_and_open_none_of_the_files_it_names(
    tmp_path: Path, canary: tuple[Path, str]
) -> None:
    other = FifoWatch(tmp_path / "other_upload.ts")
    path = poc(tmp_path, f"file://{canary[0]}", f"file://{other.path}", "file:///etc/passwd")
    limits = Limits(timeout_seconds=30)
    with pytest.raises(MediaError) as probed:
        probe(path, "video", limits)
    with pytest.raises(MediaError) as sampled:
        sample_frames(path, "video", {"duration": 2.0, "fps": 1.0}, limits=limits)
    assert not other.stop()
    for error in (probed.value, sampled.value):
        assert error.code in DECODE_ERRORS
        assert canary[1] not in error.message and PASSWD_LINE not in error.message


def _database_text() -> str:
    """Every column of every table, as text."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            parts += [" ".join(str(value) for value in row) for row in cursor.fetchall()]
    return "\n".join(parts)


@pytest.mark.django_db
def test_m4_uploaded_through_the_api_it_ends_as_a_decode_error_and_leaks_no_file_content(
    jo, enqueued, committed, tmp_path: Path, canary: tuple[Path, str], caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    path = poc(tmp_path, f"file://{canary[0]}", "file:///etc/passwd")
    handle = io.BytesIO(path.read_bytes())
    handle.name = "holiday.avi"
    with committed(execute=True):
        response = jo.post("/api/v1/checks", {"file": handle}, format="multipart")
    assert response.status_code == 202, response.content
    check_id = response.json()["id"]
    assert processing.check_process(check_id) in {"done", "failed"}
    check = Check.objects.get(pk=check_id)
    assert check.status in {CheckStatus.DONE, CheckStatus.FAILED}
    body = jo.get(f"/api/v1/checks/{check_id}")
    assert body.json()["verdict"]["label"] == "error"
    assert body.json()["error"]["code"] in DECODE_ERRORS, body.json()["error"]
    outputs = {
        "check": body.content.decode(),
        "report": jo.get(f"/api/v1/checks/{check_id}/report").content.decode(),
        "audit": jo.get(f"/api/v1/checks/{check_id}/audit").content.decode(),
        "database": _database_text(),
        "log": caplog.text,
    }
    # The dump does hold what the stages stored (the error code and the file's hash).
    assert body.json()["error"]["code"] in outputs["database"]
    assert check.media.sha256 in outputs["database"]
    for name, text in outputs.items():
        assert canary[1] not in text, name
        assert PASSWD_LINE not in text, name
