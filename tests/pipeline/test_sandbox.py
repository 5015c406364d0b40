"""The ffmpeg sandbox: timeouts kill the whole group, limits are enforced, errors carry codes."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from authcheck.errors import MediaError, UnsupportedMedia
from authcheck.pipeline.sandbox import (
    FORMAT_WHITELIST,
    Limits,
    hardened_input_args,
    input_url,
    run_tool,
    tool_pool,
)

PY = sys.executable


def _proc_stats() -> list[tuple[int, str, int, int]]:
    """(pid, state, ppid, pgrp) of every process visible in /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # the process exited while we looked
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        found.append((int(entry), fields[0], int(fields[1]), int(fields[2])))
    return found


def _wait_until(condition: Callable[[], bool], bound: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or ``bound`` seconds pass (a bound, not a sleep)."""
    end = time.monotonic() + bound
    while time.monotonic() < end:
        if condition():
            return True
        threading.Event().wait(0.02)
    return condition()


def _live_members(pgid: int) -> list[int]:
    return [pid for pid, state, _, pgrp in _proc_stats() if pgrp == pgid and state != "Z"]


def _zombie_children() -> list[int]:
    me = os.getpid()
    return [pid for pid, state, ppid, _ in _proc_stats() if ppid == me and state == "Z"]


def test_it_returns_stdout_and_stderr_of_a_successful_run() -> None:
    out, err = run_tool(["sh", "-c", "echo out; echo err >&2"], Limits())
    assert (out, err) == (b"out\n", b"err\n")


def test_it_kills_the_whole_process_group_on_timeout(tmp_path: Path) -> None:
    marker = tmp_path / "pgid"
    script = f"echo $$ > {marker}; sleep 30 & sleep 30 & wait"
    with pytest.raises(MediaError) as caught:
        run_tool(["sh", "-c", script], Limits(timeout_seconds=1, max_file_bytes=64))
    assert caught.value.code == "media_timeout"
    pgid = int(marker.read_text())
    assert _wait_until(lambda: not _live_members(pgid)), _live_members(pgid)
    assert _zombie_children() == []


def test_it_stops_an_ffmpeg_that_decodes_forever() -> None:
    endless = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "nullsrc=s=16x16"]
    with pytest.raises(MediaError) as caught:
        run_tool([*endless, "-f", "null", "-"], Limits(timeout_seconds=1))
    assert caught.value.code == "media_timeout"
    assert _zombie_children() == []


def test_it_reports_an_allocation_over_the_memory_limit_and_survives() -> None:
    allocate = [PY, "-c", "x = bytearray(10**9)"]
    with pytest.raises(MediaError) as caught:
        run_tool(allocate, Limits(memory_bytes=256 * 1024**2))
    assert caught.value.code == "media_resource_limit"
    # The same command succeeds with room to spare, so the limit is what stopped it.
    assert run_tool(allocate, Limits(memory_bytes=4 * 1024**3)) == (b"", b"")


def test_it_reports_an_ffmpeg_allocation_failure_as_a_resource_limit() -> None:
    # One 16000x16000 yuv420p frame is ~384 MB: more than is left under a 700 MB address space.
    huge = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=s=16000x16000"]
    with pytest.raises(MediaError) as caught:
        run_tool([*huge, "-frames:v", "1", "-f", "null", "-"], Limits(memory_bytes=700 * 1024**2))
    assert caught.value.code == "media_resource_limit"


def test_it_reports_a_library_load_failure_under_a_tiny_limit_as_a_resource_limit() -> None:
    with pytest.raises(MediaError) as caught:
        run_tool(["ffprobe", "-version"], Limits(memory_bytes=16 * 1024**2))
    assert caught.value.code == "media_resource_limit"


def test_it_reports_the_cpu_limit_as_a_resource_limit() -> None:
    with pytest.raises(MediaError) as caught:
        run_tool([PY, "-c", "while True: pass"], Limits(cpu_seconds=1, timeout_seconds=60))
    assert caught.value.code == "media_resource_limit"
    assert "SIGXCPU" in caught.value.message


def test_it_forbids_writing_files(tmp_path: Path) -> None:
    target = tmp_path / "written"
    with pytest.raises(MediaError) as caught:
        run_tool(["sh", "-c", f"echo data > {target}"], Limits())
    assert caught.value.code == "media_resource_limit"
    assert not target.exists() or target.stat().st_size == 0


def test_it_allows_writing_files_up_to_max_file_bytes(tmp_path: Path) -> None:
    target = tmp_path / "written"
    run_tool(["sh", "-c", f"echo data > {target}"], Limits(max_file_bytes=1024))
    assert target.read_text() == "data\n"


def test_it_caps_stdout_and_kills_the_tool() -> None:
    with pytest.raises(MediaError) as caught:
        run_tool(["yes"], Limits(max_output_bytes=100_000))
    assert caught.value.code == "media_resource_limit"
    assert _zombie_children() == []


def test_it_gives_the_tool_no_stdin() -> None:
    # ``cat`` would block on an inherited terminal or pipe; with /dev/null it sees EOF at once.
    assert run_tool(["cat"], Limits(timeout_seconds=30)) == (b"", b"")


def test_it_does_not_pass_the_callers_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FFREPORT", "file=/tmp/report.log")
    out, _ = run_tool(["sh", "-c", "echo ${FFREPORT:-unset}"], Limits())
    assert out == b"unset\n"


def test_it_runs_in_a_new_session() -> None:
    out, _ = run_tool([PY, "-c", "import os; print(os.getsid(0) == os.getpid())"], Limits())
    assert out == b"True\n"


def test_it_reports_a_failure_with_the_last_stderr_line_as_media_malformed() -> None:
    script = "echo first >&2; printf '  last\\001 line  \\n\\n' >&2; exit 2"
    with pytest.raises(MediaError) as caught:
        run_tool(["sh", "-c", script], Limits())
    assert type(caught.value) is MediaError
    assert (caught.value.code, caught.value.message) == ("media_malformed", "last line")


def test_it_keeps_server_paths_and_pointers_out_of_messages(tmp_path: Path) -> None:
    url = input_url(tmp_path / "stored")
    with pytest.raises(UnsupportedMedia) as caught:
        ffprobe_args = ["ffprobe", "-v", "error", *hardened_input_args(), url]
        (tmp_path / "stored").write_bytes(b"#EXTM3U\n#EXTINF:1,\nx.ts\n")
        run_tool(ffprobe_args, Limits())
    assert caught.value.code == "unsupported_media"
    assert str(tmp_path) not in caught.value.message
    assert "0x" not in caught.value.message


def test_it_maps_unrecognised_data_to_unsupported_media(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"definitely not media " * 50)
    with pytest.raises(UnsupportedMedia) as caught:
        run_tool(["ffprobe", "-v", "error", *hardened_input_args(), input_url(junk)], Limits())
    assert caught.value.code == "unsupported_media"


def test_hardened_args_whitelist_only_file_and_no_playlist_or_pattern_demuxers() -> None:
    args = hardened_input_args()
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    formats = args[args.index("-format_whitelist") + 1].split(",")
    assert formats == list(FORMAT_WHITELIST)
    for dangerous in ("hls", "applehttp", "concat", "image2", "subfile", "dash", "tee", "lavfi"):
        assert dangerous not in formats
    assert int(args[args.index("-max_streams") + 1]) <= 64


def test_input_url_is_an_absolute_file_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert input_url(Path("concat:a|b")) == f"file:{tmp_path}/concat:a|b"


def test_it_still_enforces_everything_without_pidfd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("authcheck.pipeline.sandbox._pidfd", lambda pid: None)
    assert run_tool(["sh", "-c", "echo ok"], Limits()) == (b"ok\n", b"")
    with pytest.raises(MediaError) as caught:
        run_tool(["sleep", "30"], Limits(timeout_seconds=1))
    assert caught.value.code == "media_timeout"
    assert _zombie_children() == []


def test_it_applies_limits_in_the_child_when_prlimit_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("authcheck.pipeline.sandbox._PRLIMIT", None)
    with pytest.raises(MediaError) as caught:
        run_tool([PY, "-c", "x = bytearray(10**9)"], Limits(memory_bytes=256 * 1024**2))
    assert caught.value.code == "media_resource_limit"


class _Aborted(BaseException):
    """Stands in for Celery's SoftTimeLimitExceeded landing in the waiting main thread."""


def test_runs_on_a_tool_pool_are_killed_when_the_stage_that_started_them_is_aborted(
    tmp_path: Path,
) -> None:
    markers = [tmp_path / f"pgid{i}" for i in range(3)]
    started = time.monotonic()
    with pytest.raises(_Aborted):
        with tool_pool(2, "test") as pool:
            runs = [
                pool.submit(
                    run_tool,
                    ["sh", "-c", f"echo $$ > {marker}; sleep 60 & wait"],
                    Limits(timeout_seconds=60, max_file_bytes=64),
                )
                for marker in markers
            ]
            assert _wait_until(lambda: all(m.exists() for m in markers[:2]))
            raise _Aborted()
    assert time.monotonic() - started < 20  # not the tools' own 60 s timeout
    for marker in markers[:2]:
        pgid = int(marker.read_text())
        assert _wait_until(lambda pgid=pgid: not _live_members(pgid)), _live_members(pgid)
    assert not markers[2].exists()  # the queued run never started
    assert runs[2].cancelled()
    assert _zombie_children() == []


def test_a_tool_pool_that_ends_normally_gives_every_result() -> None:
    with tool_pool(2, "test") as pool:
        runs = [pool.submit(run_tool, ["sh", "-c", f"echo {i}"], Limits()) for i in range(3)]
    assert [run.result()[0] for run in runs] == [b"0\n", b"1\n", b"2\n"]
