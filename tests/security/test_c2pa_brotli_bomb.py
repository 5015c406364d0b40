"""SECURITY C11: a JUMBF whose Brotli-compressed manifest (``brob`` box) inflates far beyond
``max_decompressed_manifest_size_in_mb`` (``AUTHCHECK_C2PA_MAX_MANIFEST_MB``).

c2pa-rs (c2pa-python 0.38.1) reads ``brob`` manifests (the uninflated control reads as a normal
signed manifest) and stops inflating at the cap: ``Verify: output exceeds maximum size``, which
authcheck reports as ``c2pa_malformed``. Memory is measured in a fresh interpreter (peak RSS
around the read); the control with the cap raised above the bomb shows that the
measurement sees an inflated manifest, and that the cap is what bounds memory (peak RSS is read
from ``VmHWM``: ``getrusage`` would report the forking test process's own peak). The SDK refuses
a cap above 1024 MB, so the setting is refused at start-up outside 1..1024.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from authcheck.models import Check, ProvenanceReport
from authcheck.services import processing
from authcheck.services.checks import check_create
from authcheck.services.trust import trust_cache_clear
from tests.factories import UserFactory
from tests.security.c2pa_bomb import brotli_bomb_jpeg, compressed_manifest_jpeg

ROOT = Path(__file__).resolve().parents[2]
INFLATED = 256 * 1024 * 1024  # 256 MiB of manifest from a file of a few KB
MARGIN_MB = 48


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = brotli_bomb_jpeg(tmp_path_factory.mktemp("bomb") / "bomb.jpg", INFLATED)
    assert path.stat().st_size < 64 * 1024
    return path


def _read_in_child(path: Path, max_mb: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.security.c2pa_bomb", str(path), str(max_mb)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["growth_mb"] = (result["after_kib"] - result["before_kib"]) / 1024
    return result


def test_an_uninflated_compressed_manifest_is_read_normally(tmp_path: Path) -> None:
    result = _read_in_child(compressed_manifest_jpeg(tmp_path / "compressed.jpg"), 16)
    assert (result["state"], result["error_code"]) == ("valid", "")


def test_a_brotli_manifest_past_the_cap_is_c2pa_malformed_with_memory_under_the_cap(
    bomb: Path, settings
) -> None:
    cap = int(settings.AUTHCHECK_C2PA_MAX_MANIFEST_MB)
    result = _read_in_child(bomb, cap)
    assert (result["state"], result["error_code"]) == ("error", "c2pa_malformed")
    assert "exceeds maximum size" in result["error_message"]
    assert result["growth_mb"] < cap + MARGIN_MB, result


def test_the_cap_is_what_bounds_memory(bomb: Path) -> None:
    # Control: with the cap above the bomb the SDK inflates all of it, and the measurement shows.
    result = _read_in_child(bomb, 1024)
    assert result["error_code"] != "c2pa_malformed"
    assert result["growth_mb"] > INFLATED / 1024 / 1024 * 0.75, result


@pytest.mark.django_db
def test_a_brotli_bomb_through_the_pipeline_ends_as_c2pa_malformed_and_the_check_finishes(
    bomb: Path, settings
) -> None:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    trust_cache_clear()
    with open(bomb, "rb") as handle:
        check = check_create(user=UserFactory(), upload=handle, filename="bomb.jpg").check
    assert processing.check_process(check.pk) == "done"
    check = Check.objects.get(pk=check.pk)
    report = ProvenanceReport.objects.get(media=check.media)
    assert (report.state, report.report["error_code"]) == ("error", "c2pa_malformed")
    assert check.verdicts.get().label != "provenance_verified"


@pytest.mark.parametrize("value", ["0", "1025", "-3"])
def test_a_cap_the_sdk_would_refuse_is_refused_at_start_up(monkeypatch, value: str) -> None:
    import authcheck.settings as module

    monkeypatch.setenv("AUTHCHECK_C2PA_MAX_MANIFEST_MB", value)
    try:
        with pytest.raises(ImproperlyConfigured, match="AUTHCHECK_C2PA_MAX_MANIFEST_MB"):
            importlib.reload(module)
    finally:
        monkeypatch.undo()
        importlib.reload(module)
