"""``manage.py analyze``: the full pipeline, recorded as a check, with the SPEC's output shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authcheck.models import Check
from tests.commands.helpers import run_command
from tests.mediagen import make_image, make_photo_video

pytestmark = pytest.mark.django_db


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_command(capsys, "analyze", *args)


def test_it_analyzes_a_video_file_and_records_a_cli_check(tmp_path: Path, capsys) -> None:
    clip = make_photo_video(tmp_path / "clip.mp4", seconds=1)
    code, out, _ = run(capsys, "--json", str(clip))
    assert code == 0
    data = json.loads(out)
    check = Check.objects.get(pk=data["check_id"])
    assert check.client == "cli" and check.status == "done"
    assert data["media"]["mime"] == "video/mp4"
    assert data["media"]["probe"]["video_codec"] == "h264"
    assert data["verdict"]["label"] == "no_provenance"
    assert data["provenance"]["state"] == "absent"
    assert data["similar"] == []


def test_it_prints_a_readable_summary_without_json(tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, str(make_image(tmp_path / "p.png", fmt="PNG")))
    assert code == 0
    assert "verdict: no_provenance" in out and "image/png" in out


@pytest.mark.parametrize("target", ["/no/such/file.jpg", "ftp://example.org/x.jpg"])
def test_unreadable_input_exits_2_with_one_line(tmp_path: Path, capsys, target: str) -> None:
    code, out, err = run(capsys, target)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1


def test_non_media_exits_2_with_the_code(tmp_path: Path, capsys) -> None:
    page = tmp_path / "page.jpg"
    page.write_text("<!doctype html><script>alert(1)</script>")
    code, _, err = run(capsys, str(page))
    assert code == 2 and "unsupported_media" in err


def test_several_inputs_are_each_analyzed_and_a_refused_one_exits_2(tmp_path: Path, capsys) -> None:
    first = make_image(tmp_path / "a.png", fmt="PNG")
    second = make_image(tmp_path / "b.jpg", size=(40, 30))
    code, out, err = run(capsys, "--json", str(first), "/no/such/file.jpg", str(second))
    assert code == 2
    entries = json.loads(out)
    assert [entry["target"] for entry in entries] == [str(first), "/no/such/file.jpg", str(second)]
    assert entries[1]["error"]["code"] == "file_not_found" and "check_id" not in entries[1]
    done = [entry for entry in entries if "check_id" in entry]
    assert [entry["verdict"]["label"] for entry in done] == ["no_provenance"] * 2
    assert Check.objects.filter(status="done").count() == 2
    assert "file_not_found" in err


def test_several_good_inputs_exit_0_with_one_block_each(tmp_path: Path, capsys) -> None:
    files = [
        str(make_image(tmp_path / f"{n}.png", fmt="PNG", color=(10 * n, 30, 30))) for n in range(2)
    ]
    code, out, _ = run(capsys, *files)
    assert code == 0
    assert out.count("verdict: no_provenance") == 2
