"""Run every benchmark, each in its own process, and summarise which targets passed.

    .venv/bin/python benchmarks/run_all.py [--quick]

Each script prints its own baseline, measurement and ratio; this runner only sequences them and
collects exit codes. ``--quick`` passes smaller repeat counts where a script accepts them.
PostgreSQL-only benchmarks (the near-duplicate index) skip themselves without DATABASE_URL;
the load benchmark needs PostgreSQL and Redis (default: database ``h5``, Redis db 5).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    ("bench_resubmit.py", ["--repeat", "50"]),
    ("bench_verify.py", ["--repeat", "20"]),
    ("bench_upload_memory.py", []),
    ("bench_analyze.py", []),
    ("bench_similar.py", []),
    ("bench_dashboard.py", ["--repeat", "20"]),
    ("bench_trace.py", ["--hours", "100", "--sample", "5000"]),  # 1,000 h needs ~70 GB of disk
    ("bench_load.py", ["-q"]),  # its own gunicorn, Celery workers and media server, 127.0.0.1 only
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    results = []
    for script, quick_args in SCRIPTS:
        print(f"\n=== {script} ===", flush=True)
        started = time.perf_counter()
        cmd = [sys.executable, str(HERE / script), *(quick_args if args.quick else [])]
        code = subprocess.run(cmd, cwd=HERE.parent, check=False).returncode
        results.append((script, code, time.perf_counter() - started))
    print("\n=== summary ===")
    for script, code, seconds in results:
        print(f"{script:<26} {'ok' if code == 0 else f'FAILED (exit {code})':<18} {seconds:6.1f} s")
    raise SystemExit(1 if any(code for _, code, _ in results) else 0)


if __name__ == "__main__":
    main()
