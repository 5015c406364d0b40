"""The check page: access, media with Range, provenance wording, hostile text, JSON export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from authcheck.models import User
from tests import c2pa_fixtures as c2pa
from tests.dashboard.conftest import HOSTILE_TITLE, analyzed, client_for, hostile_jpeg
from tests.factories import DoneCheckFactory
from tests.mediagen import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video_check(journalist: User, tmp_path: Path):
    return analyzed(journalist, make_video(tmp_path / "clip.mp4", seconds=1, size="160x120"))


def test_a_journalist_gets_404_for_another_journalists_check(
    journalist: User, other_journalist: User
) -> None:
    theirs = DoneCheckFactory(submitter=other_journalist)
    client = client_for(journalist)
    for suffix in ("", "/export.json", "/media", "/frames/0.jpg", "/audit"):
        assert client.get(f"/dashboard/checks/{theirs.pk}{suffix}").status_code == 404, suffix


def test_a_journalist_sees_no_review_form_on_their_own_check(journalist: User) -> None:
    mine = DoneCheckFactory(submitter=journalist)
    content = client_for(journalist).get(f"/dashboard/checks/{mine.pk}").content
    assert b"Record a decision" not in content and b"Add a comment" in content
    response = client_for(journalist).post(
        f"/dashboard/checks/{mine.pk}/decide", {"decision": "authentic", "note": "x"}
    )
    assert response.status_code == 403


def test_media_range_request_answers_206_with_the_right_bytes(video_check, journalist) -> None:
    client = client_for(journalist)
    whole = b"".join(client.get(f"/dashboard/checks/{video_check.pk}/media").streaming_content)
    response = client.get(f"/dashboard/checks/{video_check.pk}/media", HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response.content == whole[100:200]
    assert response["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert response["Content-Type"] == "video/mp4"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    tail = client.get(f"/dashboard/checks/{video_check.pk}/media", HTTP_RANGE="bytes=-10")
    assert tail.content == whole[-10:]
    bad = client.get(f"/dashboard/checks/{video_check.pk}/media", HTTP_RANGE="bytes=999999-")
    assert bad.status_code == 416


def test_media_is_404_for_someone_who_may_not_see_the_check(video_check, other_journalist) -> None:
    client = client_for(other_journalist)
    assert client.get(f"/dashboard/checks/{video_check.pk}/media").status_code == 404


def test_keyframe_strip_shows_each_sampled_frame_with_its_time(video_check, journalist) -> None:
    client = client_for(journalist)
    content = client.get(f"/dashboard/checks/{video_check.pk}").content.decode()
    assert "Sampled frames" in content and " s</figcaption>" in content
    frame = client.get(f"/dashboard/checks/{video_check.pk}/frames/0.jpg")
    assert frame.status_code == 200 and frame.content[:2] == b"\xff\xd8"
    assert frame["Content-Security-Policy"].startswith("sandbox")


def test_untrusted_signer_is_never_called_verified(journalist: User) -> None:
    check = analyzed(journalist, c2pa.corpus().intact_jpeg)
    content = client_for(journalist).get(f"/dashboard/checks/{check.pk}").content.decode()
    assert "Issued by an unknown source" in content
    assert "verified" not in content.lower().replace("provenance_verified", "")


def test_an_ingredient_failure_is_shown_under_a_valid_parent(journalist: User) -> None:
    check = analyzed(journalist, c2pa.corpus().bad_ingredient)
    content = client_for(journalist).get(f"/dashboard/checks/{check.pk}").content.decode()
    ingredients = content.split("<h3>Ingredients</h3>", 1)[1]
    assert "child-bad-signature.jpg" in ingredients
    assert "<code>claimSignature.mismatch</code>: The signature does not match" in ingredients


def test_hostile_manifest_strings_are_escaped_marked_and_truncated(journalist: User, tmp_path):
    check = analyzed(journalist, hostile_jpeg(tmp_path / "hostile.jpg"), name=HOSTILE_TITLE)
    content = client_for(journalist).get(f"/dashboard/checks/{check.pk}").content.decode()
    assert "<script>window.__xss" not in content
    assert "<img src=x onerror" not in content
    assert 'href="javascript:' not in content
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in content
    assert "\u202e" not in content and "[U+202E]" in content
    assert "show all 430 characters" in content  # the long claim generator, cut with the rest


def test_json_export_has_the_check_its_reviews_and_audit_events(journalist, editor) -> None:
    from authcheck.services import workflow

    check = DoneCheckFactory(submitter=journalist)
    workflow.decision_submit(check=check, user=editor, decision="inconclusive", note="thin")
    workflow.comment_add(check=check, author=journalist, body="source is a stringer")
    response = client_for(journalist).get(f"/dashboard/checks/{check.pk}/export.json")
    data = json.loads(response.content)
    assert data["id"] == check.pk and data["verdict"]["decision"] == "inconclusive"
    assert [r["decision"] for r in data["reviews"]] == ["inconclusive"]
    assert data["comments"][0]["body"] == "source is a stringer"
    actions = [e["action"] for e in data["audit"]["events"]]
    assert "review.recorded" in actions and "comment.added" in actions
    assert data["audit"]["chain"]["ok"] is True


def test_detail_shows_signals_with_server_side_plots(journalist: User, tmp_path) -> None:
    from tests.mediagen import make_photo_video

    check = analyzed(journalist, make_photo_video(tmp_path / "pan.mp4", seconds=1.0))
    content = client_for(journalist).get(f"/dashboard/checks/{check.pk}").content.decode()
    assert content.count('<svg class="plot"') >= 2  # temporal distribution and frame series
    assert "real reference samples" in content


def test_a_running_checks_pipeline_polls_until_it_finishes(journalist: User) -> None:
    from authcheck.models import CheckStage
    from tests.factories import CheckFactory

    check = CheckFactory(submitter=journalist, status="running")
    CheckStage.objects.create(check_ref=check, name="fetch", position=0, state="running")
    client = client_for(journalist)
    page = client.get(f"/dashboard/checks/{check.pk}").content
    assert b'hx-get="/dashboard/checks/%d/stages"' % check.pk in page
    check.status = "done"
    check.save()
    fragment = client.get(f"/dashboard/checks/{check.pk}/stages").content
    assert b"hx-trigger" not in fragment and b"Reload to see the evidence" in fragment


def test_the_ingredient_tree_is_shown_at_every_depth(journalist: User, tmp_path) -> None:
    """Three generations: a damaged great-grandchild stays visible three levels down."""
    level = c2pa.signed_jpeg(tmp_path / "gen0.jpg")
    c2pa.flip_signature(level)
    for depth in range(1, 4):
        level = c2pa.signed_jpeg(
            tmp_path / f"gen{depth}.jpg", ingredients=((level, "image/jpeg", "parentOf"),)
        )
    check = analyzed(journalist, level)
    content = client_for(journalist).get(f"/dashboard/checks/{check.pk}").content.decode()
    tree = content.split("<h3>Ingredients</h3>", 1)[1].split("</section>", 1)[0]
    for depth in range(3):
        assert f"gen{depth}.jpg" in tree
    innermost = tree.split("gen0.jpg", 1)[0]
    assert innermost.count('<ul class="tree">') == 3  # nested three lists deep
    assert "claimSignature.mismatch" in tree.split("gen0.jpg", 1)[1]


def test_the_extensions_report_link_opens_the_check_page(journalist) -> None:
    # extension/src/api.js reportUrl: the badge and the popup link here.
    source = (Path(__file__).parents[2] / "extension" / "src" / "api.js").read_text()
    check = DoneCheckFactory(submitter=journalist)
    found = re.search(r"/dashboard/checks/\$\{Number\(id\)\}[^`]*", source)
    assert found is not None
    url = found.group(0).replace("${Number(id)}", str(check.pk))
    assert client_for(journalist).get(url).status_code == 200


def test_the_signed_report_downloads_and_verifies_offline(journalist) -> None:
    from authcheck import signedjson

    check = DoneCheckFactory(submitter=journalist)
    response = client_for(journalist).get(f"/dashboard/checks/{check.pk}/report.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    verified = signedjson.verify(response.content)
    assert verified.payload["check"]["id"] == check.pk
    with pytest.raises(signedjson.ReportSignatureError):
        signedjson.verify(response.content.replace(b'"id":', b'"id": ', 1))


def test_another_journalists_signed_report_is_a_404(journalist) -> None:
    other = User.objects.create_user("other", role="journalist")
    check = DoneCheckFactory(submitter=other)
    assert (
        client_for(journalist).get(f"/dashboard/checks/{check.pk}/report.json").status_code == 404
    )


def test_a_verdict_changed_under_a_decision_is_flagged_on_the_check_page(journalist) -> None:
    from django.utils import timezone

    from authcheck.models import Check

    check = DoneCheckFactory(submitter=journalist)
    page = client_for(journalist).get(f"/dashboard/checks/{check.pk}").content.decode()
    assert "review needed" not in page
    Check.objects.filter(pk=check.pk).update(review_needed_at=timezone.now())
    page = client_for(journalist).get(f"/dashboard/checks/{check.pk}").content.decode()
    assert "changed the automated verdict after the newsroom's decision: review needed" in page


def test_the_json_export_anonymises_similar_media_the_journalist_may_not_see(
    journalist: User, other_journalist: User
) -> None:
    from authcheck.models import Check

    theirs = DoneCheckFactory(submitter=other_journalist)
    own_earlier = DoneCheckFactory(submitter=journalist)
    check = DoneCheckFactory(submitter=journalist)
    similar = [
        {"check_id": theirs.pk, "sha256": "a" * 64, "distance": 4, "matched_frames": [0]},
        {"check_id": own_earlier.pk, "sha256": "b" * 64, "distance": 9, "matched_frames": [1]},
    ]
    Check.objects.filter(pk=check.pk).update(similar=similar)
    response = client_for(journalist).get(f"/dashboard/checks/{check.pk}/export.json")
    data = json.loads(response.content)
    assert data["similar"][0] == {
        "check_id": None, "sha256": None, "distance": 4, "matched_frames": [0],
    }  # fmt: skip
    assert data["similar"][1] == similar[1]
    assert "a" * 64 not in response.content.decode()
