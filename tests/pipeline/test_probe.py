"""The hardened probe (SECURITY.md section C): whitelists hold, limits apply, valid media probes."""

from __future__ import annotations

import errno
import http.server
import os
import resource
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageFile, PngImagePlugin

from authcheck.errors import MediaError, MediaTooLarge, UnsupportedMedia
from authcheck.pipeline import probe as probe_module
from authcheck.pipeline.probe import Limits, ProbeResult, gop_summary, probe
from authcheck.pipeline.sandbox import Limits as SandboxLimits
from authcheck.pipeline.sandbox import run_tool
from tests.mediagen import ffmpeg, make_audio, make_image, make_video

PRODUCTION = Limits()  # the defaults are the production limits (2 GiB address space, 120 s)


# --- helpers -----------------------------------------------------------------------------------


class FifoWatch:
    """A FIFO standing in for another user's file: records whether anything opened it to read.

    Opening a FIFO for reading blocks until a writer appears, so a reader is always caught by
    the watcher thread (which then closes its end, letting the reader see EOF).
    """

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self.opened = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            if self._try_open():
                self.opened.set()
                return
            self._stop.wait(0.01)

    def _try_open(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            assert exc.errno == errno.ENXIO  # no reader: the only expected failure
            return False
        os.close(fd)
        return True

    def stop(self) -> bool:
        """Stop watching; True if a reader opened the FIFO at any point."""
        self._stop.set()
        self._thread.join(timeout=5)
        return self.opened.is_set() or self._try_open()


class Canary:
    """A loopback HTTP server counting every request it receives."""

    def __init__(self) -> None:
        self.hits = 0
        self.hit = threading.Event()
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server names it so
                canary.hits += 1
                canary.hit.set()
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    server = Canary()
    yield server
    server.close()


def hls_playlist(path: Path, *segments: str) -> Path:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1"]
    for segment in segments:
        lines += ["#EXTINF:1.0,", segment]
    path.write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]))
    return path


def write_bilevel_png(path: Path, width: int, height: int) -> Path:
    """A 1-bit all-black PNG streamed row by row: huge dimensions, a small file, little memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte + packed bits
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Valid media of every family the product accepts, generated once for the module."""
    d = tmp_path_factory.mktemp("media")
    aigc = '{"Label":"1","ContentProducer":"kling"}'
    return {
        "mp4": make_video(d / "clip.mp4", audio=True),
        "webm": make_video(d / "clip.webm", codec="libvpx", size="160x120", fps=30),
        "wav": make_audio(d / "tone.wav", seconds=1.5),
        "mp3": make_audio(d / "tone.mp3", seconds=1.5),
        "jpeg": make_image(d / "photo.jpg", size=(64, 48)),
        "png": make_image(d / "image.png", size=(80, 60)),
        "aigc_mp4": make_video(
            d / "aigc.mp4",
            seconds=1,
            metadata={"AIGC": aigc},
            extra=("-movflags", "use_metadata_tags"),
        ),
        "mkv": make_video(d / "tagged.mkv", seconds=1, metadata={"AIGC": "mkv-label"}),
        "gop": make_video(
            d / "gop.mp4", seconds=4, fps=25, extra=("-g", "25", "-sc_threshold", "0")
        ),
    }


# --- M1-M3: playlists and scripts cannot reach other files or the network ---------------------


def test_m1_hls_playlist_named_mp4_is_unsupported_and_opens_no_other_file(tmp_path: Path) -> None:
    other = FifoWatch(tmp_path / "other_upload.ts")
    sibling = FifoWatch(tmp_path / "sibling.ts")
    evil = hls_playlist(tmp_path / "evil.mp4", str(other.path), "sibling.ts")
    with pytest.raises(UnsupportedMedia) as caught:
        probe(evil, "video", Limits(timeout_seconds=30))
    assert caught.value.code == "unsupported_media"
    assert "whitelist" in caught.value.message
    assert not other.stop()
    assert not sibling.stop()


def test_m1_control_protocol_whitelist_alone_lets_the_playlist_open_other_files(
    tmp_path: Path,
) -> None:
    # Proves the FIFO watch can see an open: without the format whitelist, ffprobe opens it.
    other = FifoWatch(tmp_path / "other_upload.ts")
    evil = hls_playlist(tmp_path / "evil.mp4", str(other.path))
    args = ["ffprobe", "-v", "error", "-protocol_whitelist", "file", f"file:{evil}"]
    with pytest.raises(MediaError):
        run_tool(args, SandboxLimits(timeout_seconds=30))
    assert other.stop()


def test_m2_ffconcat_script_with_an_absolute_path_is_rejected(tmp_path: Path) -> None:
    other = FifoWatch(tmp_path / "other_upload.mp4")
    script = tmp_path / "script.mp4"
    script.write_text(f"ffconcat version 1.0\nfile '{other.path}'\n")
    with pytest.raises(UnsupportedMedia) as caught:
        probe(script, "video", Limits(timeout_seconds=30))
    assert caught.value.code == "unsupported_media"
    assert not other.stop()


def test_m3_hls_with_a_loopback_http_segment_never_reaches_the_canary(
    tmp_path: Path, canary: Canary
) -> None:
    evil = hls_playlist(tmp_path / "evil.mp4", f"http://127.0.0.1:{canary.port}/segment.ts")
    with pytest.raises(UnsupportedMedia):
        probe(evil, "video", Limits(timeout_seconds=30))
    assert canary.hits == 0


def test_m3_control_an_unhardened_ffprobe_does_hit_the_canary(
    tmp_path: Path, canary: Canary
) -> None:
    evil = hls_playlist(tmp_path / "evil.mp4", f"http://127.0.0.1:{canary.port}/segment.ts")
    args = ["ffprobe", "-v", "error", "-protocol_whitelist", "file,http,tcp", f"file:{evil}"]
    with pytest.raises(MediaError):
        run_tool(args, SandboxLimits(timeout_seconds=30))
    assert canary.hit.wait(timeout=10)


# --- M5: hostile file names are plain names ---------------------------------------------------


@pytest.mark.parametrize("name", ["%d.mp4", "concat:a.mp4|b.mp4", "subfile,,start,0,end,9,,:a.mp4"])
def test_m5_a_file_with_a_protocol_or_pattern_name_is_probed_as_that_file(
    tmp_path: Path, name: str
) -> None:
    for decoy in ("1.mp4", "a.mp4", "b.mp4"):
        make_video(tmp_path / decoy, seconds=1, size="64x48")
    target = make_video(tmp_path / name, seconds=2, size="320x240")
    result = probe(target, "video", PRODUCTION)
    assert (result.width, result.height) == (320, 240)
    assert result.duration == pytest.approx(2.0, abs=0.1)


def test_m5_an_image_named_like_an_ffmpeg_pattern_is_probed_as_that_file(tmp_path: Path) -> None:
    make_image(tmp_path / "1.jpg", size=(10, 10))
    target = make_image(tmp_path / "%d.jpg", size=(33, 22), fmt="JPEG")
    assert (probe(target, "image").width, probe(target, "image").height) == (33, 22)


# --- M6-M7: decompression bombs ---------------------------------------------------------------


def test_m6_a_20000_square_png_is_too_large_and_never_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = write_bilevel_png(tmp_path / "bomb.png", 20000, 20000)
    assert bomb.stat().st_size < 1_000_000
    decoded: list[object] = []
    original_load = ImageFile.ImageFile.load

    def recording_load(self: ImageFile.ImageFile) -> object:
        decoded.append(self)
        return original_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    rss_before = max_rss_bytes()
    with pytest.raises(MediaTooLarge) as caught:
        probe(bomb, "image", PRODUCTION, max_pixels=50_000_000)
    assert caught.value.code == "media_too_large"
    assert decoded == []
    assert max_rss_bytes() - rss_before < 512 * 1024**2


def test_m7_an_image_between_one_and_two_times_the_limit_is_an_error(tmp_path: Path) -> None:
    image = make_image(tmp_path / "mid.png", size=(40, 40))  # 1600 pixels: 1.6x the limit
    with pytest.raises(MediaTooLarge) as caught:
        probe(image, "image", max_pixels=1000)
    assert caught.value.code == "media_too_large"


def test_m7_an_image_over_twice_the_limit_is_an_error(tmp_path: Path) -> None:
    image = make_image(tmp_path / "big.png", size=(50, 50))
    with pytest.raises(MediaTooLarge):
        probe(image, "image", max_pixels=1000)


def test_m7_an_image_at_the_limit_is_probed_and_the_global_limit_restored(tmp_path: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    image = make_image(tmp_path / "ok.png", size=(40, 25))  # exactly 1000 pixels
    assert probe(image, "image", max_pixels=1000).width == 40
    assert Image.MAX_IMAGE_PIXELS == before


# --- M8: a probe that never finishes ----------------------------------------------------------


def test_m8_a_probe_of_a_file_that_never_delivers_data_times_out(tmp_path: Path) -> None:
    stalled = tmp_path / "stalled.mp4"
    os.mkfifo(stalled)  # ffprobe's open() blocks forever: no writer ever comes
    with pytest.raises(MediaError) as caught:
        probe(stalled, "video", Limits(timeout_seconds=1))
    assert caught.value.code == "media_timeout"


# --- M10: valid media under production limits -------------------------------------------------


def test_m10_mp4_h264_aac(media: dict[str, Path]) -> None:
    result = probe(media["mp4"], "video", PRODUCTION)
    assert "mp4" in result.container.split(",")
    assert result.duration == pytest.approx(2.0, abs=0.1)
    assert (result.width, result.height, result.fps) == (320, 240, 25.0)
    assert (result.video_codec, result.audio_codec) == ("h264", "aac")
    assert result.bit_rate and result.bit_rate > 0
    assert [s["codec_type"] for s in result.streams] == ["video", "audio"]
    assert result.streams[0]["pix_fmt"] == "yuv420p"


def test_m10_webm(media: dict[str, Path]) -> None:
    result = probe(media["webm"], "video", PRODUCTION)
    assert "webm" in result.container.split(",")
    assert (result.width, result.height, result.fps) == (160, 120, 30.0)
    assert result.video_codec == "vp8"
    assert result.duration == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize(
    ("key", "container", "codec"), [("wav", "wav", "pcm_s16le"), ("mp3", "mp3", "mp3")]
)
def test_m10_audio(media: dict[str, Path], key: str, container: str, codec: str) -> None:
    result = probe(media[key], "audio", PRODUCTION)
    assert result.container == container
    assert result.audio_codec == codec
    assert result.duration == pytest.approx(1.5, abs=0.1)
    assert (result.width, result.video_codec, result.gop) == (None, None, None)


@pytest.mark.parametrize(
    ("key", "container", "size"), [("jpeg", "jpeg", (64, 48)), ("png", "png", (80, 60))]
)
def test_m10_images(
    media: dict[str, Path], key: str, container: str, size: tuple[int, int]
) -> None:
    result = probe(media[key], "image", PRODUCTION)
    assert result.container == container
    assert (result.width, result.height) == size
    assert result.duration is None and result.gop is None


# --- M11 and broken input: always a MediaError with a code ------------------------------------


def test_m11_an_mkv_with_more_streams_than_allowed_is_malformed(tmp_path: Path) -> None:
    many = tmp_path / "many.mkv"
    maps = [arg for _ in range(40) for arg in ("-map", "0:a")]
    ffmpeg("-f", "lavfi", "-i", "sine=duration=0.1", *maps, "-c:a", "pcm_s16le", str(many))
    with pytest.raises(MediaError) as caught:
        probe(many, "video", PRODUCTION)
    assert type(caught.value) is MediaError
    assert caught.value.code == "media_malformed"
    assert "streams" in caught.value.message


def _broken_files(d: Path, valid_mp4: Path) -> dict[str, Path]:
    full = valid_mp4.read_bytes()
    files = {
        "zero-byte": b"",
        "random": os.urandom(4096),
        "truncated": full[: len(full) // 2],
        "text": b"this is a plain text file, not a video\n" * 20,
        "jpeg-magic-then-junk": b"\xff\xd8\xff\xe0" + os.urandom(200),
        "png-magic-then-junk": b"\x89PNG\r\n\x1a\n" + os.urandom(200),
    }
    for name, data in files.items():
        (d / f"{name}.mp4").write_bytes(data)
    return {name: d / f"{name}.mp4" for name in files}


@pytest.mark.parametrize("kind", ["video", "audio", "image"])
def test_broken_input_always_raises_a_media_error_with_a_code(
    tmp_path: Path, media: dict[str, Path], kind: str
) -> None:
    for name, path in _broken_files(tmp_path, media["mp4"]).items():
        with pytest.raises(MediaError) as caught:
            probe(path, kind, PRODUCTION)
        assert caught.value.code in {"unsupported_media", "media_malformed"}, name


def test_an_unknown_kind_is_unsupported(media: dict[str, Path]) -> None:
    with pytest.raises(UnsupportedMedia):
        probe(media["mp4"], "document")


# --- tags and GOP -----------------------------------------------------------------------------


def test_mp4_metadata_keys_come_through_as_tags(media: dict[str, Path]) -> None:
    tags = probe(media["aigc_mp4"], "video", PRODUCTION).tags
    assert tags["AIGC"] == '{"Label":"1","ContentProducer":"kling"}'


def test_id3_txxx_frames_come_through_as_tags(tmp_path: Path) -> None:
    mp3 = tmp_path / "labelled.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=0.5", "-metadata", "AIGC=id3-label", str(mp3))
    assert probe(mp3, "audio", PRODUCTION).tags["AIGC"] == "id3-label"


def test_mkv_tags_come_through(media: dict[str, Path]) -> None:
    assert probe(media["mkv"], "video", PRODUCTION).tags["AIGC"] == "mkv-label"


def test_png_text_chunk_keys_and_exif_software_come_through(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a cat, masterpiece " * 50)
    info.add_itxt("prompt", '{"1": {"class_type": "KSampler"}}', zip=True)
    png = make_image(tmp_path / "gen.png", pnginfo=info)
    tags = probe(png, "image").tags
    assert tags["parameters"].startswith("a cat, masterpiece")
    assert len(tags["parameters"]) <= probe_module.MAX_IMAGE_TEXT_CHARS
    assert tags["prompt"] == '{"1": {"class_type": "KSampler"}}'

    exif = Image.Exif()
    exif[0x0131], exif[0x010F], exif[0x0110] = "Midjourney v7", "Canon", "EOS R5"
    jpeg = make_image(tmp_path / "photo.jpg", exif=exif.tobytes())
    tags = probe(jpeg, "image").tags
    assert (tags["Software"], tags["Make"], tags["Model"]) == ("Midjourney v7", "Canon", "EOS R5")


def test_gop_reports_a_one_second_keyframe_interval_for_g25_at_25fps(
    media: dict[str, Path],
) -> None:
    gop = probe(media["gop"], "video", PRODUCTION).gop
    assert gop is not None
    assert gop["keyframes"] == 4
    assert gop["mean_interval_s"] == pytest.approx(1.0, abs=0.01)
    assert gop["max_interval_s"] == pytest.approx(1.0, abs=0.01)
    assert gop["sampled_seconds"] == pytest.approx(4.0, abs=0.1)
    assert gop["frame_types"]["I"] >= 4 and gop["frame_types"]["B"] == 0  # ultrafast: no B


def test_gop_summary_tolerates_malformed_entries() -> None:
    packets = [{"pts_time": "N/A", "dts_time": "0.0", "flags": "K_"}, "junk", {"flags": "K"}]
    packets += [{"pts_time": "2.5", "flags": "K_"}, {"pts_time": "1.0", "flags": "__"}]
    summary = gop_summary(packets, [{"pict_type": "I"}, {"pict_type": "?"}, 7])
    assert summary is not None
    assert (summary["keyframes"], summary["mean_interval_s"]) == (2, 2.5)
    assert summary["frame_types"] == {"I": 1, "P": 0, "B": 0}
    assert gop_summary("nonsense", None) is None
    assert gop_summary([{"flags": "K"}], []) is None


# --- serialisation ------------------------------------------------------------------------------


def test_to_dict_is_json_safe_without_nul_or_control_characters() -> None:
    result = ProbeResult(
        container="mov\x00",
        duration=float("nan"),
        width=1,
        height=1,
        fps=None,
        video_codec="h264",
        audio_codec=None,
        bit_rate=None,
        tags={"ti\x00tle": "evil\x00\x1b[31m\u202e"},
        streams=({"index": 0, "tags": {"k": "v\x07"}},),
        gop=None,
    )
    data = result.to_dict()
    assert data["container"] == "mov"
    assert data["duration"] is None
    assert data["tags"] == {"title": "evil[31m\u202e"}
    assert data["streams"] == [{"index": 0, "tags": {"k": "v"}}]
