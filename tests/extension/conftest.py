"""End-to-end fixtures for the browser extension: a real authcheck server, a test site, and a
test copy of the extension.

- The server is gunicorn in a subprocess on an ephemeral port, with its own SQLite database and
  in-process tasks under a temporary data directory. It is reached as ``http://localhost:PORT``
  so that the extension's host permission for the test site (``http://127.0.0.1/*``) does not
  cover it: the extension talks to it through CORS, as an installed copy would.
- The test site serves pages and generated media on ``127.0.0.1`` (``TestServer``).
- The test copy is the normal build plus ``http://127.0.0.1/*`` in ``host_permissions``,
  standing in for the ``activeTab`` grant a real menu click gives (EXTENSION-TESTING.md).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.mediagen import make_image, make_video
from tests.pipeline.test_fetch import TestServer

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
TEST_HOST_PERMISSION = "http://127.0.0.1/*"
SERVER_START_SECONDS = 60


@dataclass
class AuthcheckServer:
    url: str
    token: str
    proc: subprocess.Popen[str]

    def get_check(self, check_id: int) -> dict:
        """The check's JSON, as the API gives it to the token's owner."""
        response = httpx.get(
            f"{self.url}/api/v1/checks/{check_id}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(
        AUTHCHECK_DATA_DIR=str(data_dir),
        AUTHCHECK_FETCH_ALLOW_LOOPBACK="true",  # the test site is on 127.0.0.1
        AUTHCHECK_EXTENSION_ORIGINS="chrome-extension://*,moz-extension://*",
        DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1",
        DJANGO_SECRET_KEY="extension-e2e-only",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def _wait_for_port(proc: subprocess.Popen[str], output: list[str]) -> int:
    """Read gunicorn's log until it says where it listens (port 0: the kernel picked one)."""
    found: list[int] = []
    ready = threading.Event()

    def read() -> None:
        for line in proc.stdout or []:
            output.append(line)
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            if match and not found:
                found.append(int(match.group(1)))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(SERVER_START_SECONDS) or not found:
        raise RuntimeError("authcheck did not start:\n" + "".join(output))
    return found[0]


@pytest.fixture(scope="session")
def authcheck_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthcheckServer]:
    """A real authcheck (gunicorn, SQLite, in-process tasks) on an ephemeral port."""
    env = _server_env(tmp_path_factory.mktemp("authcheck-data"))
    _manage(env, "migrate", "--noinput", "-v", "0")
    token = _manage(
        env, "create_api_token", "--user", "jo", "--role", "journalist", "--name", "e2e"
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "authcheck.wsgi", "--bind", "127.0.0.1:0", "--workers", "1",
         "--threads", "4", "--timeout", "120"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    try:
        port = _wait_for_port(proc, output)
        yield AuthcheckServer(f"http://localhost:{port}", token.strip().splitlines()[-1], proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class TestSite:
    __test__ = False
    server: TestServer

    def url(self, path: str) -> str:
        return self.server.url(path)


HOSTILE_CSS = b"""
authcheck-badge { display: none !important; visibility: hidden !important; }
* { color: rgb(255, 0, 0) !important; font-size: 40px !important; }
a { background: rgb(0, 255, 0) !important; }
"""


def _pages(site: TestServer) -> dict[str, str]:
    media = site.url
    return {
        "/page.html": f"""<!doctype html><html><head><title>Flood in town</title>
<link rel="stylesheet" href="/hostile.css"></head><body>
<p>Story</p>
<img id="photo" src="{media("/media/photo.jpg")}" width="160" height="120" alt="">
<video id="clip" src="{media("/media/clip.mp4")}" width="160" height="120" muted></video>
</body></html>""",
        "/blob.html": f"""<!doctype html><html><head><title>Streamed clip</title>
<meta property="og:video" content="{media("/media/stream.mp4")}">
<script src="/blob.js"></script></head><body><video id="stream" muted></video></body></html>""",
        "/bare-blob.html": """<!doctype html><html><head><title>Undeclared stream</title>
<script src="/blob.js"></script></head><body><video id="stream" muted></video></body></html>""",
        "/blob.js": f"""addEventListener("DOMContentLoaded", async () => {{
  const bytes = await (await fetch("{media("/media/stream.mp4")}")).blob();
  document.getElementById("stream").src = URL.createObjectURL(bytes);
}});""",
    }


@pytest.fixture(scope="session")
def test_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestSite]:
    """Pages with an image, a video, a blob: video with og:video declared and one without."""
    media_dir = tmp_path_factory.mktemp("site-media")
    site = TestServer()
    site.body("/media/photo.jpg", make_image(media_dir / "photo.jpg", size=(160, 120)).read_bytes())
    for name in ("clip", "stream"):
        video = make_video(media_dir / f"{name}.mp4", seconds=1.0, size="160x120")
        site.body(f"/media/{name}.mp4", video.read_bytes(), content_type="video/mp4")
    site.body("/hostile.css", HOSTILE_CSS, content_type="text/css")
    for path, text in _pages(site).items():
        kind = "text/javascript" if path.endswith(".js") else "text/html"
        site.body(path, text.encode(), content_type=f"{kind}; charset=utf-8")
    try:
        yield TestSite(site)
    finally:
        site.close()


@pytest.fixture(scope="session")
def extension_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dist/chrome`` and ``dist/firefox`` test copies built by the extension's build script."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    out = tmp_path_factory.mktemp("extension-build")
    subprocess.run(
        [node, "scripts/build.js", "--unpacked-only", "--test-host", TEST_HOST_PERMISSION,
         "--out", str(out)],
        cwd=EXTENSION, check=True, timeout=60,
    )  # fmt: skip
    return out
