"""``manage.py verify [--json] FILE...``: reports per file, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authcheck.services.trust import trust_cache_clear
from tests.c2pa_fixtures import corpus, test_ca
from tests.commands.helpers import run_command

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _trust_the_test_ca(settings, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(test_ca().root_pem)
    settings.AUTHCHECK_TRUST_ANCHORS = [str(anchors)]
    trust_cache_clear()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_command(capsys, "verify", *args)


def test_json_output_is_an_array_with_one_report_per_file(capsys) -> None:
    files = [corpus().intact_jpeg, corpus().signature_flipped, corpus().unsigned_jpeg]
    code, out, err = run(capsys, "--json", *map(str, files))
    assert (code, err) == (0, "")
    reports = json.loads(out)
    assert [r["file"] for r in reports] == list(map(str, files))
    assert [r["state"] for r in reports] == ["trusted", "invalid", "absent"]
    assert reports[1]["failures"] == [
        {
            "code": "claimSignature.mismatch",
            "explanation": "claim signature is not valid",
            "url": reports[1]["failures"][0]["url"],
        }
    ]
    first = reports[0]
    assert len(first["sha256"]) == 64
    assert first["active_manifest"]["title"] == "intact.jpg"
    assert first["active_manifest"]["signer"]["common_name"] == "authcheck Test Signer"
    assert "digital_source_type" in first["active_manifest"]


def test_the_ingredient_tree_is_in_the_json(capsys) -> None:
    code, out, _ = run(capsys, "--json", str(corpus().bad_ingredient))
    (report,) = json.loads(out)
    (ingredient,) = report["ingredients"]
    assert code == 0
    assert (ingredient["title"], ingredient["relationship"], ingredient["state"]) == (
        "child-bad-signature.jpg",
        "componentOf",
        "invalid",
    )
    assert [f["code"] for f in ingredient["failures"]] == ["claimSignature.mismatch"]


def test_text_output_is_readable_and_never_says_verified_for_untrusted(capsys, settings) -> None:
    settings.AUTHCHECK_TRUST_ANCHORS = []
    code, out, _ = run(capsys, str(corpus().intact_jpeg), str(corpus().ai_jpeg))
    assert code == 0
    assert "state: valid - intact, but the signer is on no configured trust list" in out
    assert "not verified" in out
    assert "AI declared in the active manifest" in out and "GenModel 3" in out


def test_text_output_shows_failures_and_ingredients(capsys) -> None:
    code, out, _ = run(capsys, str(corpus().pixels_altered), str(corpus().bad_ingredient))
    assert code == 0
    assert "failure assertion.dataHash.mismatch:" in out
    assert (
        "ingredient: child-bad-signature.jpg [componentOf] invalid: claimSignature.mismatch" in out
    )


def test_text_output_makes_bidi_controls_visible(capsys) -> None:
    code, out, _ = run(capsys, str(corpus().hostile))
    assert code == 0
    assert "\u202e" not in out and "<U+202E>" in out
    assert "\x00" not in out and "\x1b" not in out


def test_unsupported_media_is_processed_with_exit_0(capsys, tmp_path: Path) -> None:
    page = tmp_path / "page.jpg"
    page.write_text("<!doctype html><script>alert(1)</script>")
    code, out, _ = run(capsys, "--json", str(page))
    (report,) = json.loads(out)
    assert code == 0
    assert (report["state"], report["error"]["code"]) == ("unsupported", "unsupported_media")


@pytest.mark.parametrize("name", ["/no/such/file.jpg", "."])
def test_a_missing_or_unreadable_file_exits_2_with_one_line(capsys, name: str) -> None:
    code, out, err = run(capsys, "--json", str(corpus().intact_jpeg), name)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and name in err


def test_a_failure_of_the_tool_itself_exits_1(capsys, monkeypatch) -> None:
    def broken(path: Path) -> dict:
        raise RuntimeError("native library went away")

    monkeypatch.setattr("authcheck.management.commands.verify.verify_path", broken)
    code, out, err = run(capsys, str(corpus().intact_jpeg))
    assert (code, out) == (1, "")
    assert "internal failure" in err and len(err.strip().splitlines()) == 1
