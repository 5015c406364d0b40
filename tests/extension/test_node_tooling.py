"""The extension's own checks, run from pytest so the suite covers them: the Node unit tests
(no npm packages needed), and, once ``npm ci`` has run in extension/, eslint, prettier and
``web-ext lint`` of the Firefox build."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.extension.conftest import EXTENSION

NODE = shutil.which("node")
BIN = EXTENSION / "node_modules" / ".bin"

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")
needs_npm_ci = pytest.mark.skipif(
    not BIN.exists(), reason="run `PUPPETEER_SKIP_DOWNLOAD=1 npm ci` in extension/ first"
)


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), cwd=EXTENSION, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_pure_modules_pass_their_node_unit_tests() -> None:
    done = run(str(NODE), "--test", "--test-reporter=tap", "test/unit/")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout


@needs_npm_ci
def test_eslint_and_prettier_are_clean() -> None:
    for tool in (["eslint", "."], ["prettier", "--check", "."]):
        done = run(str(BIN / tool[0]), *tool[1:])
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@needs_npm_ci
def test_web_ext_lint_finds_no_errors_or_warnings_in_the_firefox_build(tmp_path: Path) -> None:
    build = run(str(NODE), "scripts/build.js", "--out", str(tmp_path))
    assert build.returncode == 0, build.stderr
    assert (tmp_path / "authcheck-chrome.zip").stat().st_size > 0
    assert (tmp_path / "authcheck-firefox.zip").stat().st_size > 0
    done = run(
        str(BIN / "web-ext"), "lint", "--source-dir", str(tmp_path / "firefox"), "--output", "json"
    )
    assert done.returncode == 0, done.stdout[-4000:]
    report = json.loads(done.stdout)
    assert report["summary"] == {"errors": 0, "notices": 0, "warnings": 0}, report
    assert report["metadata"]["manifestVersion"] == 3
