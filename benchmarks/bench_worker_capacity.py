"""What one worker slot handles: seconds per photo and per clip through the whole pipeline.

    .venv/bin/python benchmarks/bench_worker_capacity.py [--photos 12] [--clips 4]

For sizing (deploy/README.md), not a SPEC target: each media is new (no dedupe), submitted as
an upload and processed in this one process exactly as a Celery pool process would (C2PA,
probe, frame sampling, all six detectors, similar-media lookup, verdict). Photos are 12 MP
camera-like JPEGs (a real photograph upscaled with noise); clips are 10 s of 720p30 H.264
panning over a photograph. Prints per-media time (median, p95), the share spent in the
detectors stage, and what that makes per pool slot per hour.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _harness import django_setup, p, test_database


def _photo(path: Path, seed: int) -> Path:
    import numpy as np
    from PIL import Image
    from skimage import data

    rng = np.random.default_rng(seed)
    base = Image.fromarray(data.astronaut()).resize((4000, 3000), Image.Resampling.BICUBIC)
    pixels = np.asarray(base, dtype=np.int16) + rng.integers(-6, 7, (3000, 4000, 3))
    Image.fromarray(pixels.clip(0, 255).astype("uint8")).save(path, quality=90)
    return path


def _run(paths: list[Path]) -> tuple[list[float], list[float]]:
    from authcheck import tasks
    from authcheck.models import CheckStage, CheckStatus, Role, User
    from authcheck.services import checks, processing

    tasks.enqueue_check = lambda check_id: None  # this process is the worker: no other runs it

    user, _ = User.objects.get_or_create(username="capacity", defaults={"role": Role.JOURNALIST})
    totals, detector_shares = [], []
    for path in paths:
        started = time.perf_counter()
        with open(path, "rb") as handle:
            check = checks.check_create(user=user, upload=handle, filename=path.name).check
        assert processing.check_process(check.pk) == "done"
        check.refresh_from_db()
        assert check.status == CheckStatus.DONE
        totals.append(time.perf_counter() - started)
        stage = CheckStage.objects.get(check_ref=check, name="detectors")
        detector_shares.append((stage.duration_ms or 0) / 1000 / totals[-1])
    return totals, detector_shares


def _report(kind: str, totals: list[float], shares: list[float]) -> None:
    median = statistics.median(totals)
    print(
        f"{kind}: n={len(totals)} median {median:.2f} s, p95 {p(totals, 0.95):.2f} s, "
        f"detectors {statistics.median(shares) * 100:.0f}% of it -> "
        f"{3600 / median:.0f} per pool slot per hour"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--clips", type=int, default=4)
    args = parser.parse_args()
    django_setup()
    from tests.mediagen import make_photo_video

    work = Path(tempfile.mkdtemp(prefix="capacity-"))
    photos = [_photo(work / f"p{i}.jpg", i) for i in range(args.photos)]
    clips = [
        make_photo_video(work / f"c{i}.mp4", seconds=10 + i * 0.2, size="1280x720")
        for i in range(args.clips)
    ]
    with test_database():
        _report("photo 12 MP JPEG", *_run(photos))
        _report("clip 10 s 720p", *_run(clips))


if __name__ == "__main__":
    main()
