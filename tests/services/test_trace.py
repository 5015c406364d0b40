"""Source tracing against the reference archive, end to end on footage made from real photos.

A 3-minute "broadcast" (nine scikit-image photographs, 20 s each, panned) is indexed as
reference; derivatives of the stretch 47-67 s are submitted as checks and must be traced to it
within a second, through re-encoding and upscaling, a moving opaque patch, a 10 % speed-up, a
10 % crop with letterbox bars and a burned-in caption. A clip of other photographs matches
nothing, and the patched copy's tile report points at the patch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from authcheck.models import AuditEvent, Check, CheckClient, FrameHash, ReferenceItem, User
from authcheck.services import checks, processing, reference
from tests.mediagen import OTHER_PHOTOS, derive_clip, make_photo_footage

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXCERPT_START = 47.0
EXCERPT_SECONDS = 20.0
# The patch: an opaque grey rectangle of 39 % x 39 % of the frame (15 % of its area) in the upper
# left, drifting right by a tenth of the width over the clip (a stand-in for a swapped face).
# (drawbox cannot move: its ``t`` is the line thickness, so overlay a colour source instead.)
PATCH = "color=c=gray:s=250x140[p];[s][p]overlay=x='W*(0.05+0.005*t)':y=H*0.08:shortest=1"
# A lower-third caption: a dark bar with burned-in text (DejaVu from fonts-dejavu-core; without
# the font, drawtext cannot run and the bar alone stands in for the caption).
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
CAPTION = "drawbox=x=0:y=ih*0.78:w=iw:h=ih*0.16:color=black@0.8:t=fill" + (
    f",drawtext=fontfile={FONT}:text='BREAKING\\: minister resigns':x=20:y=h*0.8:"
    "fontsize=28:fontcolor=white"
    if FONT.exists()
    else ""
)
DERIVATIVES = {
    "excerpt_720p_crf33": {"vf": "scale=1280:720", "crf": 33},
    "patched": {"vf": f"scale=640:360[s];{PATCH}", "crf": 28},
    "speed_110": {"vf": "scale=640:360", "crf": 28, "speed": 1.1},
    "crop_letterbox": {
        "vf": "crop=iw*0.9:ih*0.9,scale=640:360,pad=640:480:0:60:black",
        "crf": 28,
    },
    "caption": {"vf": f"scale=640:360,{CAPTION}", "crf": 28},
}


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("footage")
    source = make_photo_footage(folder / "Evening news 2026-11-30.mp4")
    clips = {"source": source}
    for name, options in DERIVATIVES.items():
        clips[name] = derive_clip(
            source,
            folder / f"{name}.mp4",
            start=EXCERPT_START,
            seconds=EXCERPT_SECONDS,
            vf=str(options["vf"]),
            crf=int(options["crf"]),  # type: ignore[call-overload]
            speed=float(options.get("speed", 1.0)),  # type: ignore[arg-type]
        )
    clips["unrelated"] = make_photo_footage(
        folder / "unrelated.mp4", OTHER_PHOTOS, seconds_per_photo=7
    )
    return clips


@pytest.fixture
def archive(footage: dict[str, Path], settings) -> ReferenceItem:
    settings.AUTHCHECK_TASKS_IN_PROCESS = True
    item, created = reference.reference_register(
        footage["source"], collection="newsroom", source_url="https://example.org/evening-news"
    )
    assert created
    assert reference.reference_enqueue(item) == "indexed"
    item.refresh_from_db()
    return item


def _check(path: Path) -> Check:
    user, _ = User.objects.get_or_create(username="ed", defaults={"role": "journalist"})
    with open(path, "rb") as handle:
        created = checks.check_create(
            user=user, client=CheckClient.CLI, upload=handle, filename=path.name, enqueue=False
        )
    processing.check_process(created.check.pk, retry_transient=False)
    return Check.objects.get(pk=created.check.pk)


def _summary(check: Check) -> str:
    return check.verdicts.get(author__isnull=True).summary


def _references(check: Check) -> list[dict]:
    return [m for m in check.similar if m.get("kind") == "reference"]


def test_indexing_stores_dense_frames_with_tiles_and_creates_no_check(
    archive: ReferenceItem,
) -> None:
    assert archive.state == "indexed"
    assert archive.duration == pytest.approx(180, abs=0.5)
    # About a frame a second plus the eight cuts between shots.
    assert 180 <= archive.frames_indexed <= 200
    variants = set(FrameHash.objects.filter(media=archive.media).values_list("variant", flat=True))
    assert {"full", "c90", "t00", "t11", "t22"} <= variants
    assert FrameHash.objects.filter(media=archive.media).count() == 11 * archive.frames_indexed
    assert not Check.objects.exists()
    assert AuditEvent.objects.filter(action="reference.added", object_id=str(archive.pk)).exists()


@pytest.mark.parametrize("name", list(DERIVATIVES))
def test_each_derivative_is_traced_to_the_right_segment(
    archive: ReferenceItem, footage: dict[str, Path], name: str
) -> None:
    check = _check(footage[name])
    matches = _references(check)
    assert len(matches) == 1, matches
    match = matches[0]
    assert match["reference_id"] == archive.pk
    assert match["collection"] == "newsroom"
    assert match["source_url"] == "https://example.org/evening-news"
    first, last = match["segments"][0], match["segments"][-1]
    assert first["source_start"] - first["query_start"] * match["scale"] == pytest.approx(
        EXCERPT_START, abs=1.0
    )
    assert first["query_start"] <= 1.0 and last["query_end"] >= EXCERPT_SECONDS - 1.5
    assert last["source_end"] == pytest.approx(
        EXCERPT_START + last["query_end"] * DERIVATIVES[name].get("speed", 1.0), abs=1.0
    )
    assert match["scale"] == pytest.approx(DERIVATIVES[name].get("speed", 1.0), abs=0.03)
    assert match["share_aligned"] >= 0.8
    traced = _summary(check).split("Source tracing: ", 1)[1]
    assert traced.startswith("frames 0:00\u20130:")
    assert "match 'Evening news 2026-11-30' at 0:4" in traced
    assert "authentic" not in traced.lower()


def test_an_unrelated_clip_matches_nothing(
    archive: ReferenceItem, footage: dict[str, Path]
) -> None:
    check = _check(footage["unrelated"])
    assert _references(check) == []
    assert "Source tracing" not in _summary(check)


def test_the_tile_report_of_the_patched_copy_points_at_the_patch(
    archive: ReferenceItem, footage: dict[str, Path]
) -> None:
    match = _references(_check(footage["patched"]))[0]
    heat = match["heat_map"]
    # The patch covers x 5-54 %, y 8-47 %: the upper-left quarter cells; the lower half and the
    # right column are intact.
    upper_left = [heat[r][c] for r in (0, 1) for c in (0, 1)]
    elsewhere = [heat[r][c] for r in range(4) for c in range(4) if r >= 2 or c == 3]
    assert min(upper_left) >= 0.5
    assert max(elsewhere) <= 0.2
    assert match["differs"]["area"] >= 0.1
    assert match["differs"]["query_end"] - match["differs"]["query_start"] >= 15


def test_reference_commands_list_and_remove_with_an_audit_event(
    archive: ReferenceItem, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("reference_list")
    assert "Evening news 2026-11-30" in capsys.readouterr().out
    call_command("reference_remove", str(archive.pk))
    assert not ReferenceItem.objects.exists()
    assert not FrameHash.objects.filter(media=archive.media).exists()
    assert AuditEvent.objects.filter(action="reference.removed").exists()


def test_known_media_is_answered_at_once_with_its_earlier_trace(
    archive: ReferenceItem, footage: dict[str, Path]
) -> None:
    first = _check(footage["excerpt_720p_crf33"])
    user = User.objects.get(username="ed")
    with open(footage["excerpt_720p_crf33"], "rb") as handle:
        again = checks.check_create(
            user=user, client=CheckClient.CLI, upload=handle, filename="again.mp4", enqueue=False
        ).check
    again.refresh_from_db()
    assert again.status == "done"  # answered from stored results, nothing sampled again
    assert _references(again) == _references(first) != []
    assert "Source tracing: frames 0:00" in _summary(again)
