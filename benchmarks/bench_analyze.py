"""Analysing a video costs less than decoding it - SPEC section 9 (and peak memory).

    .venv/bin/python benchmarks/bench_analyze.py [--seconds 60] [--size 1920x1080]
    .venv/bin/python benchmarks/bench_analyze.py --large-mb 2048   # peak RSS on a large file

Baseline, measured in the same run: one full decode of the clip, ``ffmpeg -i clip -f null -``.
Then ``manage.py analyze`` runs the whole pipeline on the same clip (hashing, C2PA, probe, frame
sampling, every detector, similar-media lookup, verdict) in a fresh process on a private SQLite
database. Prints both times and the ratio (target < 1.0), and the peak resident memory of the
analysing process tree (target < 600 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import ROOT

OUT = ROOT / "benchmarks" / "out"


def _clip(seconds: int, size: str, target_mb: int | None) -> Path:
    """A cached test clip: natural-ish motion (testsrc2 + noise), H.264, yuv420p."""
    name = f"clip_{seconds}s_{size}" + (f"_{target_mb}mb" if target_mb else "") + ".mp4"
    path = OUT / name
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    rate = ["-b:v", f"{target_mb * 8 // seconds}M"] if target_mb else ["-crf", "23"]
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate=30:duration={seconds}",
            "-vf",
            "noise=alls=12:allf=t",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            "60",
            *rate,
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument(
        "--large-mb",
        type=int,
        default=None,
        help="make the clip about this large (for the memory target)",
    )
    args = parser.parse_args()
    clip = _clip(args.seconds, args.size, args.large_mb)
    decode_s, _ = _timed(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(clip), "-f", "null", "-"]
    )
    data = tempfile.mkdtemp(prefix="authcheck-bench-")
    env = {**os.environ, "AUTHCHECK_DATA_DIR": data}
    for var in ("DATABASE_URL", "CELERY_BROKER_URL"):
        env.pop(var, None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    analyze_s, out = _timed([sys.executable, "manage.py", "analyze", "--json", str(clip)], env)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = json.loads(out)
    stages = {s["name"]: s["duration_ms"] for s in result["stages"]}
    print(f"clip: {clip.name} ({clip.stat().st_size / 1e6:.0f} MB)")
    print(f"baseline: full ffmpeg decode        {decode_s:8.2f} s")
    print(
        f"analyze (all detectors)             {analyze_s:8.2f} s   verdict "
        f"{result['verdict']['label']}   stages (ms) {stages}"
    )
    print(
        f"ratio analyze / decode: {analyze_s / decode_s:.3f}  "
        f"({'PASS' if analyze_s < decode_s else 'FAIL'}: target < 1.0)"
    )
    note = "" if peak_mb > before / 1024 else " (an earlier child was larger)"
    print(
        f"peak RSS of the largest process: {peak_mb:.0f} MB{note}  "
        f"({'PASS' if peak_mb < 600 else 'FAIL'}: target < 600 MB)"
    )


if __name__ == "__main__":
    main()
