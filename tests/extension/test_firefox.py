"""Runs the Firefox end-to-end script (extension/test/e2e/firefox.test.js: puppeteer-core over
WebDriver BiDi, Debian firefox-esr) against a real authcheck server and the local test site."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.extension.conftest import EXTENSION, AuthcheckServer, TestSite

FIREFOX = Path("/usr/bin/firefox-esr")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not FIREFOX.exists(), reason="Debian firefox-esr is not installed"),
    pytest.mark.skipif(
        not (EXTENSION / "node_modules" / "puppeteer-core").exists(),
        reason="run `npm ci` in extension/ first (PUPPETEER_SKIP_DOWNLOAD=1)",
    ),
]


def test_firefox_installs_configures_and_checks_an_image_through_the_real_menu(
    authcheck_server: AuthcheckServer, test_site: TestSite, extension_build: Path
) -> None:
    node = shutil.which("node")
    assert node is not None
    env = {
        **os.environ,
        "AUTHCHECK_URL": authcheck_server.url,
        "AUTHCHECK_TOKEN": authcheck_server.token,
        "SITE_URL": test_site.url("/page.html"),
        "EXT_DIR": str(extension_build / "firefox"),
        "FIREFOX": str(FIREFOX),
    }
    done = subprocess.run(
        [node, "--test", "--test-reporter=tap", "test/e2e/firefox.test.js"],
        cwd=EXTENSION,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "# pass 2" in done.stdout and "# fail 0" in done.stdout
