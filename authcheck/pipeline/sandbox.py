"""The one way authcheck runs ffmpeg and ffprobe: no stdin, own session, rlimits, a hard timeout.

Media files are attacker-controlled and ffmpeg is a large C program, so every run is boxed in:

- ``run_tool`` starts the tool in a new session (its own process group), with ``stdin`` closed, a
  minimal environment (``FFREPORT`` and proxy variables are not inherited), an address-space
  limit (RLIMIT_AS), an optional CPU limit and ``RLIMIT_FSIZE=0`` so it cannot write files. The
  limits are applied by ``prlimit(1)`` when available because ``preexec_fn`` is unsafe in
  threaded processes (gunicorn threads, Celery); ``preexec_fn`` is only the fallback.
- The timeout kills the whole process group with SIGKILL and reaps the leader: no zombies, no
  stray grandchildren.
- ``hardened_input_args`` (shared by probe and frame sampling) restricts ffmpeg to the ``file``
  protocol and to the container demuxers the product accepts. The format whitelist is what stops
  an HLS playlist or ffconcat script saved as ``.mp4`` from opening other local files (SECURITY
  finding 8); the protocol whitelist alone does not.
"""

from __future__ import annotations

import os
import re
import resource
import selectors
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from authcheck.errors import MediaError, UnsupportedMedia
from authcheck.jsonsafe import clean_text

# Demuxers (by ffmpeg name) that may open a user file. Deliberately absent: hls, dash, concat,
# image2 (the ``%d`` pattern reader), subfile, tee, data, lavfi and every network format.
FORMAT_WHITELIST: tuple[str, ...] = (
    "mov",  # matches ffmpeg's "mov,mp4,m4a,3gp,3g2,mj2" demuxer
    "matroska",  # "matroska,webm"
    "avi",
    "flv",
    "mpegts",
    "ogg",
    "wav",
    "mp3",
    "aac",
    "flac",
    "jpeg_pipe",
    "png_pipe",
    "webp_pipe",
    "gif",
    "bmp_pipe",
    "tiff_pipe",
)
# Real clips carry a handful of streams; thousands make demuxers allocate per stream (M11).
MAX_STREAMS = 32
STDERR_KEEP_BYTES = 256 * 1024
_READ_CHUNK = 64 * 1024
_PRLIMIT = shutil.which("prlimit")

_OOM_SIGNS = (
    "cannot allocate memory",
    "memoryerror",
    "out of memory",
    "bad_alloc",
    "failed to map segment",  # the dynamic loader under a too small RLIMIT_AS
)
_LIMIT_SIGNALS = {signal.SIGKILL, signal.SIGXCPU, signal.SIGXFSZ}


@dataclass(frozen=True)
class Limits:
    """Resource limits for one tool run (``max_file_bytes`` 0 forbids writing files)."""

    timeout_seconds: float = 120.0
    memory_bytes: int = 2 * 1024**3  # RLIMIT_AS; below ~1 GiB ffmpeg cannot load its libraries
    cpu_seconds: int | None = None
    max_output_bytes: int = 64 * 1024**2
    max_file_bytes: int = 0


def hardened_input_args() -> list[str]:
    """Input options for every ffmpeg/ffprobe run on user media (place them before the input).

    ``-nostdin`` is not included because ffprobe rejects it; ``run_tool`` closes stdin anyway.
    """
    return [
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        ",".join(FORMAT_WHITELIST),
        "-max_streams",
        str(MAX_STREAMS),
    ]


def input_url(path: Path) -> str:
    """The ``file:`` URL of ``path``: names like ``%d.jpg`` or ``concat:a|b`` stay plain names."""
    return "file:" + os.path.abspath(path)


_CANCEL: ContextVar[threading.Event | None] = ContextVar("authcheck_tool_cancel", default=None)
_CANCEL_POLL_SECONDS = 0.1
_T = TypeVar("_T")


class ToolCancelled(Exception):
    """A tool run stopped (its process group killed) because the stage that started it failed
    or was aborted while it ran on a pool thread; nobody reads its result."""


class ToolPool:
    """``submit`` for ``tool_pool``: each call runs with the pool's cancel flag in its context."""

    def __init__(self, pool: ThreadPoolExecutor, cancel: threading.Event) -> None:
        self._pool, self._cancel = pool, cancel

    def submit(self, fn: Callable[..., _T], *args: Any) -> Future[_T]:
        context = copy_context()
        context.run(_CANCEL.set, self._cancel)
        return self._pool.submit(context.run, fn, *args)


@contextmanager
def tool_pool(max_workers: int, name: str) -> Iterator[ToolPool]:
    """Threads for tool runs side by side. If the block that submitted them raises (a failed
    probe, or Celery's soft time limit landing in the waiting main thread), every run still
    going is killed within ``_CANCEL_POLL_SECONDS`` and those not started are dropped, so no
    ffmpeg outlives its stage."""
    cancel = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
    try:
        yield ToolPool(pool, cancel)
        pool.shutdown(wait=True)  # waiting here is also where a soft time limit may land
    except BaseException:
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise


def run_tool(args: list[str], limits: Limits) -> tuple[bytes, bytes]:
    """Run ``args`` under ``limits`` and return (stdout, stderr), or raise a ``MediaError``.

    Codes: ``media_timeout``, ``media_resource_limit`` (killed by a limit, out of memory, output
    cap), ``unsupported_media`` (format not on the whitelist, unrecognised data) and
    ``media_malformed`` for any other failure, with the last stderr line as the message.
    """
    if not args or shutil.which(args[0]) is None:
        raise FileNotFoundError(f"tool not found: {args[0] if args else '(none)'}")
    cancel = _CANCEL.get()
    if cancel is not None and cancel.is_set():
        raise ToolCancelled(args[0])
    proc = _spawn(args, limits)
    try:
        outcome = _collect(proc, limits, cancel)
    finally:
        _kill_group(proc.pid)
        proc.wait()  # reap only after the group kill, so the process group id cannot be reused
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    _raise_for_outcome(outcome, proc.returncode, args, limits)
    return bytes(outcome.stdout), bytes(outcome.stderr)


@dataclass
class _Outcome:
    stdout: bytearray
    stderr: bytearray
    timed_out: bool = False
    overflowed: bool = False
    cancelled: bool = False


def _spawn(args: list[str], limits: Limits) -> subprocess.Popen[bytes]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    command, preexec = list(args), None
    if _PRLIMIT:
        command = [_PRLIMIT, *_prlimit_flags(limits), "--", *args]
    else:  # pragma: no cover - prlimit ships with util-linux on every supported image
        preexec = _rlimit_setter(limits)
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        close_fds=True,
        env=env,
        preexec_fn=preexec,
    )


def _prlimit_flags(limits: Limits) -> list[str]:
    flags = [f"--as={limits.memory_bytes}", f"--fsize={limits.max_file_bytes}"]
    if limits.cpu_seconds is not None:
        # Soft limit first (SIGXCPU names the cause), SIGKILL one second later at the hard one.
        flags.append(f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}")
    return flags


def _rlimit_setter(limits: Limits) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_bytes, limits.max_file_bytes))
        if limits.cpu_seconds is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))

    return apply


def _collect(
    proc: subprocess.Popen[bytes], limits: Limits, cancel: threading.Event | None = None
) -> _Outcome:
    """Read both pipes until the leader exits and the pipes close, the deadline, or the cap."""
    outcome = _Outcome(bytearray(), bytearray())
    deadline = time.monotonic() + limits.timeout_seconds
    assert proc.stdout is not None and proc.stderr is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, outcome.stdout)
        sel.register(proc.stderr, selectors.EVENT_READ, outcome.stderr)
        exit_fd = _pidfd(proc.pid)
        if exit_fd is not None:
            sel.register(exit_fd, selectors.EVENT_READ, None)
        try:
            _pump(sel, proc, outcome, deadline, limits, exit_fd is not None, cancel)
        finally:
            if exit_fd is not None:
                os.close(exit_fd)
    return outcome


def _pump(
    sel: selectors.BaseSelector,
    proc: subprocess.Popen[bytes],
    outcome: _Outcome,
    deadline: float,
    limits: Limits,
    has_pidfd: bool,
    cancel: threading.Event | None = None,
) -> None:
    open_pipes, exited = 2, False
    while open_pipes or not exited:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            outcome.timed_out = True
            return
        if cancel is not None and cancel.is_set():
            outcome.cancelled = True
            return
        # With a pidfd select wakes when the leader exits; without one, its exit is polled.
        wait = remaining if has_pidfd else min(remaining, 0.05)
        if cancel is not None:
            wait = min(wait, _CANCEL_POLL_SECONDS)
        for key, _ in sel.select(timeout=wait):
            if key.data is None:  # the pidfd: the leader exited (still a zombie, not reaped)
                sel.unregister(key.fileobj)
                exited = True
                _kill_group(proc.pid)  # stragglers in the group would hold the pipes open
                continue
            state = _read_into(sel, key, outcome, limits)
            if state == "overflow":
                outcome.overflowed = True
                return
            open_pipes -= state == "eof"
        if not has_pidfd and not exited and _leader_exited(proc.pid):
            exited = True
            _kill_group(proc.pid)


def _read_into(
    sel: selectors.BaseSelector, key: selectors.SelectorKey, outcome: _Outcome, limits: Limits
) -> str:
    """Append a chunk to the key's buffer: "ok", "eof", or "overflow" (stdout over its cap)."""
    chunk = os.read(key.fd, _READ_CHUNK)
    if not chunk:
        sel.unregister(key.fileobj)
        return "eof"
    buffer: bytearray = key.data
    buffer += chunk
    if buffer is outcome.stderr and len(buffer) > STDERR_KEEP_BYTES:
        del buffer[: len(buffer) - STDERR_KEEP_BYTES]  # the last lines carry the error
    if buffer is outcome.stdout and len(buffer) > limits.max_output_bytes:
        return "overflow"
    return "ok"


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # old kernel or sandbox without pidfd support
        return None


def _leader_exited(pid: int) -> bool:
    # WNOWAIT leaves the zombie in place, so its process group id stays reserved until reaped.
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    return os.waitid(os.P_PID, pid, flags) is not None


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _raise_for_outcome(outcome: _Outcome, returncode: int, args: list[str], limits: Limits) -> None:
    tool = os.path.basename(args[0])
    if outcome.cancelled:
        raise ToolCancelled(tool)
    if outcome.timed_out:
        message = f"{tool} did not finish within {limits.timeout_seconds:g} s"
        raise MediaError(message, code="media_timeout")
    if outcome.overflowed:
        message = f"{tool} wrote more than {limits.max_output_bytes} bytes of output"
        raise MediaError(message, code="media_resource_limit")
    text = outcome.stderr.decode("utf-8", "replace")
    if returncode < 0 and -returncode in _LIMIT_SIGNALS:
        message = f"{tool} was killed by {_signal_name(-returncode)} (resource limit)"
        raise MediaError(message, code="media_resource_limit")
    if returncode == 0 and not _has_oom_signs(text):
        return
    raise _classify(text, returncode, tool, args)


def _classify(text: str, returncode: int, tool: str, args: list[str]) -> MediaError:
    """Map a failed run's stderr to the error class and code the pipeline records."""
    lowered = text.lower()
    if "exceeds max_streams" in lowered:
        return MediaError(f"more than {MAX_STREAMS} streams", code="media_malformed")
    if "not on whitelist" in lowered:
        return UnsupportedMedia(_line_with(text, "not on whitelist", args))
    if _has_oom_signs(text):
        return MediaError(_last_line(text, args) or "out of memory", code="media_resource_limit")
    if "invalid data found when processing input" in lowered:
        return UnsupportedMedia(_last_line(text, args))
    if returncode < 0:
        return MediaError(f"{tool} crashed ({_signal_name(-returncode)})", code="media_malformed")
    return MediaError(_last_line(text, args) or f"{tool} exited with {returncode}")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _has_oom_signs(text: str) -> bool:
    lowered = text.lower()
    return "exceeds max_streams" not in lowered and any(s in lowered for s in _OOM_SIGNS)


def _line_with(text: str, needle: str, args: list[str]) -> str:
    lines = [line for line in text.splitlines() if needle in line.lower()]
    return _tidy(lines[-1], args) if lines else _last_line(text, args)


def _last_line(text: str, args: list[str]) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return _tidy(lines[-1], args) if lines else ""


_POINTER = re.compile(r" @ 0x[0-9a-f]+")


def _tidy(line: str, args: list[str]) -> str:
    """A message safe to show: no server paths, no pointers, no control characters, short."""
    for arg in args:
        if arg.startswith("file:"):
            line = line.replace(arg, "input")
    return clean_text(_POINTER.sub("", line)).strip()[:300]
