"""Analysing a video costs a small share of decoding it, and little memory (issue 11).

    .venv/bin/python benchmarks/bench_analyze.py [--cache DIR] [--repeat 3]
    .venv/bin/python benchmarks/bench_analyze.py --only 1080p --skip-large   # quicker
    .venv/bin/python benchmarks/bench_analyze.py --against ../main   # before/after, same loop

Clips, made once and cached in ``--cache`` (the issue's recipe, ``-pix_fmt yuv420p`` as a
camera or platform would deliver): ``ffmpeg -f lavfi -i testsrc2=size=WxH:rate=30 -vf
noise=alls=8:allf=t -c:v libx264 -preset ultrafast -crf 26``, 60 s at 1920x1080 (about
9 Mbit/s, 70 MB) and 30 s at 3840x2160.

Baseline, measured in the same run and interleaved with the analyses: one full decode of the
clip, ``ffmpeg -i clip -f null -``. Then ``manage.py analyze --json clip`` runs the whole
process (interpreter and Django start-up, hashing and storing, C2PA, probe, frame sampling,
every detector, similar media, verdict) on a fresh private SQLite database. The median wall
times are compared: targets <= 0.25x the decode for 1080p and <= 0.15x for 4K. The CPU time of
each process tree is printed beside it (less sensitive to other jobs on a shared machine), and
``--against DIR`` measures another checkout's ``analyze`` in the same loop (before/after).

Peak memory: the 1080p clip is concatenated with ``-c copy`` until it is about ``--large-mb``
(2 GB, 30 minutes) and analysed once; the peak resident memory of the largest process of the
analysing tree (``wait4``) and the peak of the whole tree's sum (sampled every 20 ms) must
both stay under 600 MB. The large file is deleted afterwards. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness import ROOT

CLIPS = {"1080p": ("1920x1080", 60, 0.25), "4k": ("3840x2160", 30, 0.15)}
PEAK_MB = 600


def _clip(cache: Path, size: str, seconds: int) -> Path:
    """The issue's clip, generated once into ``cache``."""
    path = cache / f"clip_{size}_{seconds}s_crf26.mp4"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    print(f"generating {path.name} (takes minutes, cached afterwards) ...", flush=True)
    partial = path.with_suffix(".part.mp4")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
         "-vf", "noise=alls=8:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
         "-crf", "26", "-pix_fmt", "yuv420p", str(partial)],
        check=True,
    )  # fmt: skip
    partial.replace(path)
    return path


def _large(cache: Path, clip: Path, target_mb: int) -> Path:
    """``clip`` repeated (stream copy, no encoding) until the file is about ``target_mb``."""
    copies = max(1, round(target_mb * 1e6 / clip.stat().st_size))
    path = cache / f"large_{copies}x_{clip.name}"
    if path.exists():  # kept by an earlier --keep-large run
        return path
    listing = cache / "large.txt"
    listing.write_text("".join(f"file '{clip}'\n" for _ in range(copies)))
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0",
         "-i", str(listing), "-c", "copy", str(path)],
        check=True,
    )  # fmt: skip
    listing.unlink()
    return path


def _template() -> Path:
    """A data directory with a migrated SQLite database, copied for every analysis."""
    data = Path(tempfile.mkdtemp(prefix="authcheck-bench-template-"))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=ROOT,
        env=_env(data),
        check=True,
    )
    return data


def _env(data: Path) -> dict[str, str]:
    env = {**os.environ, "AUTHCHECK_DATA_DIR": str(data)}
    for var in ("DATABASE_URL", "CELERY_BROKER_URL"):
        env.pop(var, None)
    return env


def _fresh(template: Path) -> Path:
    data = Path(tempfile.mkdtemp(prefix="authcheck-bench-"))
    for name in ("db.sqlite3", "secret_key"):
        if (template / name).exists():
            shutil.copy2(template / name, data / name)
    return data


@dataclass
class Run:
    """One measured process: wall seconds, CPU seconds of its whole tree, peak memory."""

    seconds: float
    cpu: float
    largest_mb: float = 0.0
    tree_mb: float = 0.0
    result: dict[str, Any] = field(default_factory=dict)


def _measured(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[Run, str]:
    """Run ``cmd``; wall time, CPU and the largest process (``wait4``, children included) and
    the tree's resident memory sampled every 20 ms. Returns the run and its stdout."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
    tree_peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            tree_peak[0] = max(tree_peak[0], _tree_rss_mb(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err.seek(0)
        raise SystemExit(f"{cmd[:3]} exited {proc.returncode}: {err.read().decode()[-2000:]}")
    out.seek(0)
    run = Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, tree_peak[0])
    return run, out.read().decode()


def _decode(clip: Path) -> Run:
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(clip), "-f", "null", "-"]
    return _measured(cmd, ROOT)[0]


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total / 2**20


def _analyze(clip: Path, template: Path, root: Path = ROOT) -> Run:
    """One ``manage.py analyze --json`` of the checkout ``root`` in a fresh data dir."""
    data = _fresh(template)
    cmd = [sys.executable, "manage.py", "analyze", "--json", str(clip)]
    try:
        run, out = _measured(cmd, root, _env(data))
    finally:
        shutil.rmtree(data, ignore_errors=True)
    run.result = json.loads(out)
    return run


def _stages(result: dict[str, Any]) -> str:
    return ", ".join(f"{s['name']} {s['duration_ms']:.0f}" for s in result["stages"])


def _ratio_run(
    name: str, clip: Path, template: Path, repeat: int, goal: float, against: Path | None
) -> bool:
    decodes: list[Run] = []
    analyses: list[Run] = []
    others: list[Run] = []
    for _ in range(repeat):  # interleaved, so load from other jobs hits every side alike
        decodes.append(_decode(clip))
        analyses.append(_analyze(clip, template))
        if against is not None:
            others.append(_analyze(clip, template, against))
    decode_s = statistics.median(r.seconds for r in decodes)
    decode_cpu = statistics.median(r.cpu for r in decodes)
    print(f"\n{name}: {clip.name} ({clip.stat().st_size / 1e6:.0f} MB), median of {repeat}")
    print(f"  baseline: full ffmpeg decode   {decode_s:7.2f} s wall {decode_cpu:7.2f} s CPU"
          f"   (runs {_fmt(decodes)})")  # fmt: skip
    passed = True
    for label, runs in (("analyze (whole process)", analyses), (f"against {against}", others)):
        if not runs:
            continue
        wall = statistics.median(r.seconds for r in runs)
        cpu = statistics.median(r.cpu for r in runs)
        result = runs[-1].result
        print(f"  {label:<30} {wall:7.2f} s wall {cpu:7.2f} s CPU   (runs {_fmt(runs)})")
        print(f"    verdict {result['verdict']['label']}; stages (ms): {_stages(result)}")
        print(
            f"    signals: { ({s['detector']: s['label'] for s in result.get('signals') or []}) }"
        )
        ratio = wall / decode_s
        print(f"    ratio / decode: {ratio:.3f} wall, {cpu / decode_cpu:.3f} CPU"
              + ("" if runs is others else f"  ({'PASS' if ratio <= goal else 'FAIL'}: wall"
                 f" <= {goal})"))  # fmt: skip
        if runs is analyses:
            passed = ratio <= goal
    return passed


def _fmt(runs: list[Run]) -> str:
    return " ".join(f"{r.seconds:.2f}" for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=sorted(CLIPS), action="append")
    parser.add_argument("--large-mb", type=int, default=2048)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--large-only", action="store_true", help="only the peak RSS target")
    parser.add_argument("--keep-large", action="store_true", help="do not delete the large file")
    parser.add_argument("--large-from", choices=sorted(CLIPS), default="1080p")
    parser.add_argument(
        "--against", type=Path, help="another checkout (say main) measured in the same loop"
    )
    args = parser.parse_args()
    template = _template()
    passed = True
    for name in [] if args.large_only else args.only or list(CLIPS):
        size, seconds, goal = CLIPS[name]
        clip = _clip(args.cache, size, seconds)
        passed &= _ratio_run(name, clip, template, args.repeat, goal, args.against)
    if not args.skip_large:
        size, seconds, _ = CLIPS[args.large_from]
        large = _large(args.cache, _clip(args.cache, size, seconds), args.large_mb)
        large_gb = large.stat().st_size / 1e9
        try:
            run = _analyze(large, template)
        finally:
            if not args.keep_large:
                large.unlink(missing_ok=True)
        ok = run.largest_mb < PEAK_MB and run.tree_mb < PEAK_MB
        passed &= ok
        kept = "kept" if args.keep_large else "deleted"
        print(f"\nlarge: {large.name} ({large_gb:.2f} GB, {kept})")
        print(
            f"  analyze {run.seconds:.1f} s wall, {run.cpu:.1f} s CPU, verdict "
            f"{run.result['verdict']['label']}; stages (ms): {_stages(run.result)}"
        )
        print(
            f"  peak RSS: largest process {run.largest_mb:.0f} MB, whole tree (sampled) "
            f"{run.tree_mb:.0f} MB  ({'PASS' if ok else 'FAIL'}: both < {PEAK_MB} MB)"
        )
    shutil.rmtree(template, ignore_errors=True)
    raise SystemExit(0 if passed else 1)


if __name__ == "__main__":
    main()
