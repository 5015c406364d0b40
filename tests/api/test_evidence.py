"""A check shows exactly the evidence of its verdict, lists cost constant queries, and the audit
trail alone says which bytes were judged, under which versions, on which evidence."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authcheck.models import (
    AuditEvent,
    Check,
    CheckStage,
    CheckStatus,
    DetectorRun,
    ProvenanceReport,
    RunState,
    Signal,
    User,
)
from authcheck.services import checks, detection, processing
from tests.commands.helpers import run_command
from tests.factories import DoneCheckFactory, SignalFactory, VerdictFactory
from tests.mediagen import make_audio, make_image
from tests.pipeline.test_fetch import TestServer

pytestmark = pytest.mark.django_db

LIST = "/api/v1/checks"
LOUD = "tests.services.fake_detectors.LoudnessDetector"
LOUD_V2 = "tests.services.fake_detectors.LoudnessDetectorV2"
CRASH = "tests.services.fake_detectors.CrashingDetector"


@pytest.fixture
def audio(tmp_path: Path) -> bytes:
    return make_audio(tmp_path / "a.wav").read_bytes()


def _upload(data: bytes, name: str = "a.wav") -> dict[str, Any]:
    handle = io.BytesIO(data)
    handle.name = name
    return {"file": handle}


def _submit(jo: Any, data: bytes) -> int:
    response = jo.post(LIST, _upload(data), format="multipart")
    assert response.status_code in {200, 202}, response.content
    return int(response.json()["id"])


# --- item 1: the evidence of the verdict, nothing else ---------------------------------------


def test_a_check_re_examined_after_a_version_bump_shows_only_its_own_versions_evidence(
    jo, audio, enqueued, settings
) -> None:
    settings.AUTHCHECK_DETECTORS = [LOUD]
    first = _submit(jo, audio)
    assert processing.check_process(first) == "done"
    before = jo.get(f"{LIST}/{first}").json()
    media = DetectorRun.objects.get().media
    # A report under another trust configuration appears later (newest row): not this
    # verdict's evidence, so neither check may show it.
    ProvenanceReport.objects.create(
        media=media, trust_version="other", sdk_version="x", state="trusted",
        report={"state": "trusted", "trust_version": "other"},
    )  # fmt: skip
    settings.AUTHCHECK_DETECTORS = [LOUD_V2]
    second = _submit(jo, audio)
    assert processing.check_process(second) == "done"

    old = jo.get(f"{LIST}/{first}").json()
    new = jo.get(f"{LIST}/{second}").json()
    assert [(s["detector"], s["version"]) for s in old["signals"]] == [("loudness", "1")]
    assert [(s["detector"], s["version"]) for s in new["signals"]] == [("loudness", "2")]
    assert old["signals"] == before["signals"]  # a later run does not change shown evidence
    trust = new["verdict"]["versions"]["trust"]
    assert trust != "other"
    named = ProvenanceReport.objects.get(
        media=media, trust_version=trust, sdk_version=new["verdict"]["versions"]["c2pa_sdk"]
    )
    assert new["provenance"] == named.report == old["provenance"]
    assert new["provenance"]["state"] == "absent"
    media_view = jo.get(f"/api/v1/media/{media.sha256}").json()
    assert media_view["check_id"] == second
    assert [s["version"] for s in media_view["signals"]] == ["2"]
    assert media_view["provenance"] == named.report


def test_a_pending_detector_run_never_appears_among_signals(
    jo, audio, enqueued, settings, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    settings.AUTHCHECK_DETECTORS = [LOUD, CRASH]
    monkeypatch.setattr("authcheck.services.publish.detector_publish", lambda c, d: None)
    check_id = _submit(jo, audio)
    with django_capture_on_commit_callbacks(execute=True):
        assert processing.check_process(check_id, inline=False) == "waiting"
    waiting = jo.get(f"{LIST}/{check_id}").json()
    assert waiting["signals"] == []
    assert {(r["detector"], r["state"]) for r in waiting["progress"]} == {
        ("loudness", "pending"),
        ("crashing", "pending"),
    }
    detection.detector_task_run(check_id, "loudness")
    half = jo.get(f"{LIST}/{check_id}").json()
    assert half["signals"] == []  # a finished run is not evidence before the verdict
    assert [r["detector"] for r in half["progress"]] == ["crashing"]
    detection.detector_task_run(check_id, "crashing")
    assert processing.check_collect(check_id) == "done"
    done = jo.get(f"{LIST}/{check_id}").json()
    assert sorted(s["detector"] for s in done["signals"]) == ["crashing", "loudness"]
    assert done["progress"] == []
    assert not Signal.objects.filter(label="pending").exists()


def test_analyze_json_shows_the_same_evidence_as_the_api(
    ed, audio, settings, capsys, tmp_path
) -> None:
    settings.AUTHCHECK_DETECTORS = [LOUD]
    path = tmp_path / "cli.wav"
    path.write_bytes(audio)
    code, out, _ = run_command(capsys, "analyze", "--json", str(path))
    assert code == 0
    data = json.loads(out)
    body = ed.get(f"{LIST}/{data['check_id']}").json()
    assert [s["detector"] for s in data["signals"]] == ["loudness"]
    assert data["signals"] == body["signals"] and data["provenance"] == body["provenance"]


# --- item 2: bounded queries ------------------------------------------------------------------


def _checks_with_everything(n: int, editor: User) -> None:
    for i in range(n):
        check = DoneCheckFactory(status=CheckStatus.DONE if i % 2 else CheckStatus.RUNNING)
        media = check.media
        SignalFactory(media=media)
        SignalFactory(media=media, detector="container_profile", version="1")
        ProvenanceReport.objects.create(
            media=media, trust_version="t1", sdk_version="sdk1", state="absent",
            report={"state": "absent"}, raw_manifest=b"{}" * 100,
        )  # fmt: skip
        DetectorRun.objects.create(media=media, detector="spectral", version="1")
        DetectorRun.objects.create(
            media=media, detector="ai_labels", version="1", state=RunState.DONE
        )
        CheckStage.objects.bulk_create(
            CheckStage(check_ref=check, name=name, position=p)
            for p, name in enumerate(checks.FILE_STAGES)
        )
        VerdictFactory(check_ref=check, author=editor, label="", decision="synthetic", note="n")


def test_listing_checks_costs_the_same_queries_for_1_and_100(
    ed, editor, django_assert_max_num_queries
) -> None:
    _checks_with_everything(1, editor)
    with CaptureQueriesContext(connection) as one:
        first = ed.get(LIST, {"limit": 100})
    assert first.status_code == 200 and len(first.json()["results"]) == 1
    assert first.json()["results"][0]["signals"]  # the prefetch really feeds the evidence
    _checks_with_everything(99, editor)
    with django_assert_max_num_queries(len(one)):
        page = ed.get(LIST, {"limit": 100})
    body = page.json()["results"]
    assert len(body) == 100
    # container_profile is not among the verdict's detector versions: stored, not evidence.
    assert all([s["detector"] for s in c["signals"]] == ["ai_labels"] for c in body)
    assert all(c["verdict"]["reviewer"] == "ed" and c["provenance"] for c in body)
    running = [c for c in body if c["status"] == "running"]
    assert running and all([r["detector"] for r in c["progress"]] == ["spectral"] for c in running)
    assert len(one) <= 12


# --- item 3: the audit trail proves what was examined ---------------------------------------


@pytest.fixture
def server() -> Iterator[TestServer]:
    srv = TestServer()
    yield srv
    srv.close()


def test_the_audit_trail_alone_names_the_bytes_report_and_signals_of_a_url_check(
    jo, server, tmp_path, enqueued, settings
) -> None:
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    settings.AUTHCHECK_DETECTORS = [
        "authcheck.detectors.ai_labels.AiLabelsDetector",
        "authcheck.detectors.container_profile.ContainerProfileDetector",
    ]
    image = make_image(tmp_path / "p.png", size=(40, 30)).read_bytes()
    server.body("/real.png", image, content_type="image/png")
    server.redirect("/short", server.url("/real.png"))
    check_id = jo.post(LIST, {"url": server.url("/short")}, format="json").json()["id"]
    assert processing.check_process(check_id) == "done"

    trail = jo.get(f"{LIST}/{check_id}/audit").json()
    assert trail["chain"]["ok"]
    events = {e["action"]: e["data"] for e in trail["events"]}
    attached, issued = events["media.attached"], events["verdict.issued"]
    # Which bytes: the sha256 and size of exactly what the server sent, and from where.
    assert attached["sha256"] == hashlib.sha256(image).hexdigest() == issued["media_sha256"]
    assert attached["size"] == len(image) and attached["mime"] == "image/png"
    assert attached["final_url"] == server.url("/real.png")
    # Which report and which signals, under which versions: they are what the check shows.
    report = ProvenanceReport.objects.get(pk=issued["report_id"])
    assert report.media.sha256 == attached["sha256"]
    assert report.trust_version == issued["versions"]["trust"]
    assert report.sdk_version == issued["versions"]["c2pa_sdk"]
    assert issued["raw_manifest_sha256"] == report.raw_manifest_sha256
    shown = jo.get(f"{LIST}/{check_id}").json()
    assert shown["provenance"] == report.report
    assert sorted(s["id"] for s in shown["signals"]) == issued["signal_ids"]
    signals = Signal.objects.filter(pk__in=issued["signal_ids"])
    assert {(s.detector, s.version) for s in signals} == set(
        issued["versions"]["detectors"].items()
    )
    assert issued["label"] == shown["verdict"]["label"]


def test_a_claim_taking_over_a_lost_lease_is_audited(jo, jpeg, enqueued) -> None:
    check_id = _submit(jo, jpeg.read_bytes())
    Check.objects.filter(pk=check_id).update(
        status="running", claimed_by="elsewhere:1", attempts=1,
        lease_expires_at=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip
    assert checks.check_claim(check_id) is not None
    lost = AuditEvent.objects.get(check_id=check_id, action="check.lease_lost")
    assert '"previous_worker":"elsewhere:1"' in lost.body and "lease expired" in lost.body
    actions = list(AuditEvent.objects.filter(check_id=check_id).values_list("action", flat=True))
    assert actions[-2:] == ["check.lease_lost", "check.started"]


def _checks_with_matches(n: int, owner: User, other: User) -> None:
    """``n`` finished checks of ``owner`` without embedded credentials, each matching one earlier
    check of ``owner`` (visible to them) and one of ``other`` (hidden), both with signed media."""
    for _ in range(n):
        matched = []
        for submitter in (owner, other):
            earlier = DoneCheckFactory(submitter=submitter)
            ProvenanceReport.objects.create(
                media=earlier.media, trust_version="t1", sdk_version="sdk1", state="valid",
                report={"state": "valid", "active_manifest": {"signer": {"common_name": "S"}}},
            )  # fmt: skip
            matched.append({"check_id": earlier.pk, "sha256": earlier.media.sha256, "distance": 4})
        check = DoneCheckFactory(submitter=owner, similar=matched)
        ProvenanceReport.objects.create(
            media=check.media, trust_version="t1", sdk_version="sdk1", state="absent",
            report={"state": "absent"},
        )  # fmt: skip


def test_a_list_of_checks_with_matches_costs_the_same_queries_for_2_and_10_and_reads_no_file(
    jo, journalist, monkeypatch
) -> None:
    """Matches on a journalist's checks are filtered by one query per page, and the "why no
    Content Credentials?" account (it reads the metadata cache and the matched media's reports)
    is left to ``GET /checks/{id}``."""
    other = User.objects.create(username="kim", role="journalist")
    reads: list[str] = []
    real_read_text, real_open = Path.read_text, Path.open

    def read_text(self: Path, *args: Any, **kwargs: Any) -> str:
        reads.append(str(self))
        return real_read_text(self, *args, **kwargs)

    def path_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        reads.append(str(self))
        return real_open(self, *args, **kwargs)

    assert jo.get(LIST).status_code == 200  # the token's first use is recorded once (a write)
    counts = []
    for n in (2, 8):
        _checks_with_matches(n, journalist, other)
        monkeypatch.setattr(Path, "read_text", read_text)
        monkeypatch.setattr(Path, "open", path_open)
        with CaptureQueriesContext(connection) as queries:
            page = jo.get(LIST, {"limit": 100})
        monkeypatch.undo()
        assert page.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert reads == []
    matched = [c for c in page.json()["results"] if c["similar"]]
    assert len(matched) == 10
    for check in matched:
        own, hidden = check["similar"]
        assert own["check_id"] is not None and own["sha256"]
        assert hidden == {"check_id": None, "sha256": None, "distance": 4, "matched_frames": []}
        assert "no_credentials" not in check
    # The detail view still explains the absence, naming the visible signed match only.
    one = jo.get(f"{LIST}/{matched[0]['id']}").json()
    step = next(s for s in one["no_credentials"]["tried"] if s["step"] == "near_duplicate_signed")
    assert [m["check_id"] for m in step["matches"]] == [matched[0]["similar"][0]["check_id"]]
