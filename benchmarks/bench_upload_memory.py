"""Large uploads are streamed and hashed once, never buffered whole in memory - SPEC section 9.

    .venv/bin/python benchmarks/bench_upload_memory.py [--mb 512]

Starts the real service (gunicorn, one sync worker) on 127.0.0.1, streams a large file to
``POST /api/v1/checks`` (multipart) and then as the raw body of ``POST /api/v1/verify`` from a
generator, and reads the worker's peak resident memory
(VmHWM). Baseline, measured in the same run: the worker's peak after a 1 MB upload. The ratio
printed is (peak growth during the large upload) / (upload size): a buffered upload would be
>= 1.0; a streamed one stays near 0. Exit 1 when either grows by a tenth of the upload.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from _harness import ROOT

BOUNDARY = "authcheckbenchboundary"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


HEAD = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
    f'filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
).encode()
TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


def _length(size: int) -> str:
    """The Content-Length of ``_multipart(size)``: WSGI reads no more than it announces."""
    return str(len(HEAD) + max(size, 24) + len(TAIL))


def _multipart(size: int) -> Iterator[bytes]:
    yield HEAD
    yield from _file(size)
    yield TAIL


def _file(size: int) -> Iterator[bytes]:
    # An MP4-looking header, then filler: the bytes only need to be streamed and hashed.
    yield b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    chunk = os.urandom(1024 * 1024)
    sent = 24
    while sent < size:
        part = chunk[: min(len(chunk), size - sent)]
        sent += len(part)
        yield part


def _worker_pid(master: int) -> int:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return int(out.stdout.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=512)
    args = parser.parse_args()
    data = Path(os.environ.get("AUTHCHECK_DATA_DIR") or ROOT / "benchmarks" / "out" / "upload")
    data.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "AUTHCHECK_DATA_DIR": str(data),
        "DJANGO_SETTINGS_MODULE": "authcheck.settings",
    }
    env.pop("DATABASE_URL", None)  # a private SQLite database for this run
    env.pop("CELERY_BROKER_URL", None)
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    token = (
        subprocess.run(
            [py, "manage.py", "create_api_token", "--user", "bench", "--role", "journalist"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            py,
            "-m",
            "gunicorn",
            "authcheck.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--timeout",
            "600",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=600, trust_env=False) as client:
            for _ in range(100):
                try:
                    client.get(f"{url}/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            }
            worker = _worker_pid(server.pid)
            small = 1024 * 1024
            first = client.post(
                f"{url}/api/v1/checks",
                content=_multipart(small),
                headers={**headers, "Content-Length": _length(small)},
            )
            assert first.status_code == 202, first.text
            base_kb = _vm_hwm_kb(worker)
            size = args.mb * 1024 * 1024
            response = client.post(
                f"{url}/api/v1/checks",
                content=_multipart(size),
                headers={**headers, "Content-Length": _length(size)},
            )
            peak_kb = _vm_hwm_kb(worker)
            # The same bytes as the raw body of POST /verify (no multipart), received too.
            raw = client.post(
                f"{url}/api/v1/verify",
                content=_file(size),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "video/mp4",
                    "Content-Length": str(max(size, 24)),
                },
            )
            raw_peak_kb = _vm_hwm_kb(worker)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    growth_mb = (peak_kb - base_kb) / 1024
    print(f"upload of {args.mb} MB answered {response.status_code}")
    print(f"baseline: worker peak RSS after a 1 MB upload   {base_kb / 1024:8.1f} MB")
    print(f"worker peak RSS after the {args.mb} MB upload       {peak_kb / 1024:8.1f} MB")
    print(
        f"ratio peak growth / upload size: {growth_mb / args.mb:.4f}  "
        f"({'streamed' if growth_mb < args.mb / 10 else 'BUFFERED'})"
    )
    raw_mb = (raw_peak_kb - base_kb) / 1024
    print(f"raw body of {args.mb} MB to POST /api/v1/verify answered {raw.status_code}")
    print(f"worker peak RSS after it                       {raw_peak_kb / 1024:8.1f} MB")
    print(
        f"ratio peak growth / upload size: {raw_mb / args.mb:.4f}  "
        f"({'streamed' if raw_mb < args.mb / 10 else 'BUFFERED'})"
    )
    ok = response.status_code == 202 and raw.status_code == 200
    raise SystemExit(0 if ok and max(growth_mb, raw_mb) < args.mb / 10 else 1)


if __name__ == "__main__":
    main()
