"""Running a check through the pipeline (SPEC section 5), one recorded stage at a time.

fetch -> hash & dedupe -> C2PA -> probe -> detectors -> similar -> verdict. Results are stored
per media (unique per trust configuration and SDK version, per detector version), so media that
was already examined with the current versions is never examined again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

import authcheck
from authcheck.detectors.registry import detector_versions
from authcheck.errors import AuthcheckError, FetchError, MediaError, TransientFetchError
from authcheck.models import Check, CheckStage, CheckStatus, Media, ProvenanceReport, StageState
from authcheck.pipeline import fetch as fetch_stage
from authcheck.pipeline import hashing, probe, provenance
from authcheck.pipeline.verdict import RULES_VERSION, decide
from authcheck.services import checks, detection
from authcheck.services.media import media_adopt, media_path, tmp_dir
from authcheck.services.similar import similarity_record
from authcheck.services.trust import trust_config_current
from authcheck.telemetry import stage_report

log = logging.getLogger(__name__)


def versions_current(trust_version: str) -> dict[str, Any]:
    """Every version a verdict depends on."""
    return {
        "app": authcheck.__version__,
        "rules": RULES_VERSION,
        "c2pa_sdk": provenance.sdk_version(),
        "trust": trust_version,
        "detectors": detector_versions(),
    }


@contextmanager
def stage(check: Check, name: str) -> Iterator[None]:
    """Record a stage's start, end, outcome and duration around the work it wraps."""
    rows = CheckStage.objects.filter(check_ref=check, name=name)
    rows.update(state=StageState.RUNNING, started_at=timezone.now(), error="")
    started = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        seconds = time.perf_counter() - started
        rows.update(
            state=StageState.FAILED,
            finished_at=timezone.now(),
            duration_ms=seconds * 1000,
            error=str(exc)[:1000],
        )
        stage_report(check.pk, name, "failed", seconds)
        raise
    seconds = time.perf_counter() - started
    rows.update(state=StageState.DONE, finished_at=timezone.now(), duration_ms=seconds * 1000)
    stage_report(check.pk, name, "done", seconds)


def _fetch_media(check: Check) -> Media:
    with stage(check, "fetch"):
        fetched = fetch_stage.fetch(check.source_url, tmp_dir(), checks.fetch_policy())
    with stage(check, "hash"):
        try:
            sniffed = hashing.sniff(fetched.path)
        except AuthcheckError:
            fetched.path.unlink(missing_ok=True)
            raise
        media = media_adopt(fetched.path, sha256=fetched.sha256, size=fetched.size, sniffed=sniffed)
    checks.check_attach_media(check, media)
    return media


def provenance_ensure(media: Media) -> ProvenanceReport:
    """The media's C2PA report under the current trust configuration, computed at most once."""
    trust = trust_config_current()
    sdk = provenance.sdk_version()
    found = ProvenanceReport.objects.filter(
        media=media, trust_version=trust.version, sdk_version=sdk
    ).first()
    if found:
        return found
    findings = provenance.read(media_path(media), media.mime, trust)
    try:
        with transaction.atomic():
            return ProvenanceReport.objects.create(
                media=media,
                trust_version=trust.version,
                sdk_version=sdk,
                state=findings.state,
                report=findings.to_report(),
                raw_manifest=findings.raw_json,
                raw_manifest_sha256=findings.raw_sha256,
            )
    except IntegrityError:
        return ProvenanceReport.objects.get(
            media=media, trust_version=trust.version, sdk_version=sdk
        )


def probe_ensure(media: Media) -> dict[str, Any]:
    """The media's probe data, computed once and kept on the media row."""
    if media.probe is None:
        limits = probe.Limits(
            timeout_seconds=settings.AUTHCHECK_FFMPEG_TIMEOUT_SECONDS,
            memory_bytes=settings.AUTHCHECK_FFMPEG_MEMORY_BYTES,
        )
        result = probe.probe(
            media_path(media), media.kind, limits, max_pixels=settings.AUTHCHECK_MAX_IMAGE_PIXELS
        )
        media.probe = result.to_dict()
        Media.objects.filter(pk=media.pk).update(probe=media.probe)
    return media.probe


def _current_results(media: Media) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """Stored report and signals for the current versions, or None if anything is missing."""
    trust = trust_config_current()
    report = ProvenanceReport.objects.filter(
        media=media, trust_version=trust.version, sdk_version=provenance.sdk_version()
    ).first()
    if report is None or media.probe is None or detection.detectors_pending(media):
        return None
    return report.report, detection.signals_current(media)


def answer_from_known(check: Check, media: Media) -> bool:
    """Answer a new check at once when its media was already examined with current versions."""
    results = _current_results(media)
    if results is None:
        return False
    report, signals = results
    checks.stage_skip_all(check, "known media: answered from stored results")
    versions = versions_current(report.get("trust_version", ""))
    decision = decide(report, signals)
    similar = similarity_record(check, media)
    issued = checks.verdict_issue(
        check, decision, versions, from_status=CheckStatus.QUEUED, similar=similar
    )
    return issued is not None


def _probe_and_report(check: Check, media: Media) -> MediaError | None:
    """Verify C2PA and probe; a probe failure is returned when the report still has evidence."""
    if check.source_type != "url":
        CheckStage.objects.filter(check_ref=check, name="hash").update(
            state=StageState.DONE, error="hashed while the upload was stored"
        )
    with stage(check, "provenance"):
        report = provenance_ensure(media).report
    try:
        with stage(check, "probe"):
            probe_ensure(media)
    except MediaError as exc:
        if report.get("state") in {"absent", "unsupported", "error"}:
            raise  # nothing else to go on: the media could not be examined
        return exc
    return None


def _run_detectors(check: Check, media: Media, *, inline: bool) -> bool:
    """Run or fan out the pending detectors; True when every signal is in."""
    rows = CheckStage.objects.filter(check_ref=check, name="detectors")
    pending = detection.detectors_pending(media)
    if not pending:
        rows.update(state=StageState.DONE, error="")
        return True
    if inline:
        with stage(check, "detectors"):
            detection.detectors_run_inline(media, pending)
        return True
    with stage(check, "detectors"):
        detection.frames_ensure(media)  # sample once, before the fan-out
    rows.update(state=StageState.RUNNING, finished_at=None)
    for detector in pending:
        checks.detector_enqueue_on_commit(check.pk, detector.name)
    return False


def check_finish(check: Check) -> str:
    """Trace similar media and issue the verdict from everything stored for the media."""
    media = check.media
    assert media is not None
    CheckStage.objects.filter(check_ref=check, name="detectors", state=StageState.RUNNING).update(
        state=StageState.DONE, finished_at=timezone.now()
    )
    with stage(check, "similar"):
        similar = similarity_record(check, media)
    report = provenance_ensure(media).report
    with stage(check, "verdict"):
        decision = decide(report, detection.signals_current(media))
        versions = versions_current(report.get("trust_version", ""))
    checks.verdict_issue(check, decision, versions, similar=similar)
    return "done"


def check_collect(check_id: int) -> str:
    """Called by each detector task: finish the check once every signal is in (at most once)."""
    check = (
        Check.objects.select_related("media")
        .filter(pk=check_id, status=CheckStatus.RUNNING)
        .first()
    )
    if check is None or check.media is None or detection.detectors_pending(check.media):
        return "waiting"
    return check_finish(check)


def _examine(check: Check, *, inline: bool) -> str:
    media = check.media or _fetch_media(check)
    probe_error = _probe_and_report(check, media)
    if probe_error is not None:
        CheckStage.objects.filter(check_ref=check, name="detectors").update(
            state=StageState.SKIPPED, error=f"not run: {probe_error.code}"
        )
    elif not _run_detectors(check, media, inline=inline):
        return "waiting"
    return check_finish(check)


def _fail(check: Check, exc: AuthcheckError) -> None:
    decision = decide(None, (), (exc.code, exc.message))
    trust_version = trust_config_current().version
    checks.verdict_issue(check, decision, versions_current(trust_version))
    CheckStage.objects.filter(check_ref=check, state=StageState.PENDING).update(
        state=StageState.SKIPPED, error=f"not run: {exc.code}"
    )


def check_process(check_id: int, *, retry_transient: bool = True, inline: bool = True) -> str:
    """Run one check to a terminal state (or to its detector fan-out when ``inline`` is false).

    Safe to call twice: returns what happened (done, failed, waiting, not_claimed).
    """
    check = checks.check_claim(check_id)
    if check is None:
        return "not_claimed"
    if check.attempts > settings.AUTHCHECK_MAX_ATTEMPTS:
        _fail(
            check,
            MediaError(
                f"examining this media stopped the worker {check.attempts - 1} times; "
                "it was set aside",
                code="poison_input",
            ),
        )
        return "failed"
    try:
        return _examine(check, inline=inline)
    except TransientFetchError as exc:
        if retry_transient:
            checks.check_release(check)
            raise
        _fail(
            check, FetchError(f"the URL could not be fetched: {exc.message}", code="fetch_failed")
        )
    except AuthcheckError as exc:
        _fail(check, exc)
    except Exception:
        log.exception("check %s failed unexpectedly", check_id)
        _fail(
            check,
            AuthcheckError(
                "an internal error stopped the examination; it was logged", code="internal_error"
            ),
        )
    return "failed"


def check_timed_out(check_id: int) -> None:
    """Record that a check ran past its soft time limit (the message is then acknowledged)."""
    check = Check.objects.filter(pk=check_id, status=CheckStatus.RUNNING).first()
    if check:
        _fail(
            check,
            MediaError("examining the media took longer than the time limit", code="media_timeout"),
        )
