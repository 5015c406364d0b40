"""Running a check through the pipeline (SPEC section 5): one orchestrating function.

``check_process`` -> ``_examine`` reads top to bottom: claim, fetch or store, hash, provenance,
probe, frames, detectors, similar media, verdict. Each step is a call to a pure stage (in
``authcheck.pipeline``) or to the one service that stores its result, wrapped in the stage's
own bookkeeping. Results are stored per media (unique per trust configuration and SDK version,
per detector version), so media already examined with the current versions is not examined
again.
"""

from __future__ import annotations

import dataclasses
import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects

import authcheck
from authcheck.errors import AuthcheckError, FetchError, MediaError, TransientFetchError
from authcheck.limits import fetch_policy, ffmpeg_limits
from authcheck.models import Check, CheckStatus, Media, ProvenanceReport, Signal, Verdict
from authcheck.pipeline import fetch as fetch_stage
from authcheck.pipeline import hashing, probe, provenance
from authcheck.pipeline import resolve as resolve_stage
from authcheck.pipeline.alignment import with_trace
from authcheck.pipeline.verdict import (
    RULES_VERSION,
    Decision,
    ReportFacts,
    SignalFacts,
    decide,
)
from authcheck.registry import detector_versions, page_resolvers
from authcheck.selectors import evidence_pick
from authcheck.services import detection, lifecycle, publish
from authcheck.services.lifecycle import stage
from authcheck.services.media import media_adopt, media_path, tmp_dir
from authcheck.services.remote_manifests import ocsp_fetcher, remote_manifest_fetcher
from authcheck.services.similar import similarity_record
from authcheck.services.trace import trace_known, trace_media
from authcheck.services.trust import trust_config_current

log = logging.getLogger(__name__)

NOTHING_ELSE = frozenset({"absent", "unsupported", "error"})


def versions_current(trust_version: str) -> dict[str, Any]:
    """Every version a verdict depends on."""
    return {
        "app": authcheck.__version__,
        "rules": RULES_VERSION,
        "c2pa_sdk": provenance.sdk_version(),
        "trust": trust_version,
        "detectors": detector_versions(),
    }


# --- the path of a check, in order ---------------------------------------------------------


def check_process(check_id: int, *, retry_transient: bool = True, inline: bool = True) -> str:
    """Run one check to a terminal state (or to its detector fan-out when ``inline`` is false).

    Safe to call twice: returns what happened (done, failed, waiting, not_claimed).
    """
    check = lifecycle.check_claim(check_id)
    if check is None:
        return "not_claimed"
    if check.attempts > settings.AUTHCHECK_MAX_ATTEMPTS:
        _fail(check, _poison(check))
        return "failed"
    try:
        with lifecycle.check_lease_heartbeat(check.pk, check.claimed_by):
            outcome = _examine(check, inline=inline)
        if outcome == "waiting":
            # Detector tasks renew the lease once they run; until then it must outlast their
            # wait in the queue (about one detector's time limit), or the sweeper re-runs the
            # check while its fan-out is merely queued.
            lifecycle.check_lease_renew(check.pk, check.claimed_by, seconds=_fanout_lease())
        return outcome
    except TransientFetchError as exc:
        if retry_transient:
            lifecycle.check_release(check, f"transient fetch error: {exc.message}")
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


def _fanout_lease() -> int:
    return settings.AUTHCHECK_LEASE_SECONDS + settings.AUTHCHECK_DETECTOR_TIME_LIMIT


def _examine(check: Check, *, inline: bool) -> str:
    """Resolve a page, fetch or store, hash, provenance, probe, frames and detectors, then
    conclude."""
    media = check.media or _fetch_and_store(check)
    report = _provenance(check, media)
    probe_error = _probe(check, media, report)
    if probe_error is not None:
        lifecycle.stage_skip(
            check, "detectors", f"not run: {probe_error.code}: {probe_error.message}"
        )
    elif not _detectors(check, media, inline=inline):
        return "waiting"  # the fan-out's last detector task concludes (check_collect)
    return _conclude(check, media)


def _resolve_page(check: Check) -> tuple[fetch_stage.Fetched, hashing.Sniffed]:
    """Find the media on a page (the resolve and fetch stages): the page of a page-only check,
    or the target of a clicked link, which may be the media or a page showing it."""
    url = check.page_url if check.page_only else check.source_url
    with stage(check, "resolve"), stage(check, "fetch"):
        found = resolve_stage.resolve(url, tmp_dir(), fetch_policy(), page_resolvers())
    lifecycle.check_record_resolution(check, found.chosen.url, found.to_dict())
    return found.fetched, found.sniffed


def _fetch_and_store(check: Check) -> Media:
    """URL checks: download (SSRF-safe; a page or clicked link is resolved to its media
    first), then sniff and adopt the bytes as media."""
    resolving = lifecycle.check_needs_resolution(check)
    if resolving:
        fetched, sniffed = _resolve_page(check)
    else:
        with stage(check, "fetch"):
            fetched = fetch_stage.fetch(check.source_url, tmp_dir(), fetch_policy())
    with stage(check, "hash"):
        try:
            if not resolving:
                sniffed = hashing.sniff(fetched.path)
        except AuthcheckError:
            fetched.path.unlink(missing_ok=True)
            raise
        media = media_adopt(fetched.path, sha256=fetched.sha256, size=fetched.size, sniffed=sniffed)
    lifecycle.check_attach_media(check, media, final_url=fetched.final_url)
    return media


def _provenance(check: Check, media: Media) -> ProvenanceReport:
    with stage(check, "provenance"):
        return provenance_ensure(media)


def _probe(check: Check, media: Media, report: ProvenanceReport) -> MediaError | None:
    """Probe the container and parse the embedded metadata once (every detector reads both);
    a probe failure is returned (detectors skipped) when the report still has evidence."""
    try:
        with stage(check, "probe"):
            detection.metadata_ensure(media)  # never raises: problems become notes
            probe_ensure(media)
    except MediaError as exc:
        if report.state in NOTHING_ELSE:
            raise  # nothing else to go on: the media could not be examined
        return exc
    return None


def _detectors(check: Check, media: Media, *, inline: bool) -> bool:
    """Sample frames once, then run (or fan out) the pending detectors; True when all are in.

    The detectors stage spans the fan-out: it is closed by ``check_collect`` once the last
    detector run has finished.
    """
    pending = detection.detectors_pending(media)
    with stage(check, "detectors", close=inline or not pending):
        if not pending:
            return True
        frames = detection.frames_ensure(media)  # sampled once, before the detectors or fan-out
        if inline:
            detection.detectors_run_inline(media, pending, frames)
            return True
        detection.detector_runs_queue(media, pending)
    for detector in pending:
        transaction.on_commit(partial(_publish_detector, check.pk, detector.name))
    return False


def _publish_detector(check_id: int, name: str) -> None:
    try:
        publish.detector_publish(check_id, name)
    except Exception:
        # The sweeper re-runs the check once its lease expires; finished runs are kept.
        log.exception("could not publish detector %s of check %s", name, check_id)


def _conclude(check: Check, media: Media) -> str:
    """Similar media, then the verdict on exactly the evidence of the current versions."""
    versions = versions_current(provenance_ensure(media).trust_version)
    media = Media.objects.get(pk=media.pk)  # fresh: the detector tasks wrote its signals
    report, signals = _evidence(media, versions)
    with stage(check, "similar"):
        similar = similarity_record(check, media, signals)
        traced = trace_media(media)
    with stage(check, "verdict"):
        decision = _traced(decide(_report_facts(report), _facts(signals)), traced)
        similar += traced
        lifecycle.verdict_issue(
            check, decision, versions, similar=similar, report=report, signals=signals
        )
    return "done"


def decision_current(
    media: Media, versions: dict[str, Any]
) -> tuple[Decision, ProvenanceReport | None, tuple[Signal, ...]]:
    """Examine ``media`` under ``versions`` (provenance and any detector not yet run, inline)
    and decide, with the evidence the decision rests on. Used by re-verification."""
    provenance_ensure(media)
    pending = detection.detectors_pending(media)
    if pending and media.probe is not None:
        detection.frames_ensure(media)
        detection.detectors_run_inline(media, pending)
    media = Media.objects.get(pk=media.pk)
    report, signals = _evidence(media, versions)
    return decide(_report_facts(report), _facts(signals)), report, signals


def check_collect(check_id: int) -> str:
    """Called by each detector task: close the detectors stage and conclude once every
    detector run has finished (at most once: the verdict is issued once)."""
    check = (
        Check.objects.select_related("media")
        .filter(pk=check_id, status=CheckStatus.RUNNING)
        .first()
    )
    if check is None or check.media is None or detection.detectors_pending(check.media):
        return "waiting"
    lifecycle.stage_end(check, "detectors")
    return _conclude(check, check.media)


# --- results stored once per media and version ---------------------------------------------


def provenance_ensure(media: Media) -> ProvenanceReport:
    """The media's C2PA report under the current trust configuration, computed at most once."""
    trust = trust_config_current()
    sdk = provenance.sdk_version()
    found = ProvenanceReport.objects.filter(
        media=media, trust_version=trust.version, sdk_version=sdk
    ).first()
    if found:
        return found
    findings = provenance.read(
        media_path(media), media.mime, trust, remote_manifest_fetcher(), ocsp_fetcher()
    )
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
        result = probe.probe(
            media_path(media),
            media.kind,
            ffmpeg_limits(),
            max_pixels=settings.AUTHCHECK_MAX_IMAGE_PIXELS,
        )
        media.probe = result.to_dict()
        Media.objects.filter(pk=media.pk).update(probe=media.probe)
    return media.probe


def _evidence(
    media: Media, versions: dict[str, Any]
) -> tuple[ProvenanceReport | None, tuple[Signal, ...]]:
    return evidence_pick(
        media,
        trust=versions["trust"],
        sdk=versions["c2pa_sdk"],
        detectors=versions["detectors"],
    )


def _report_facts(report: ProvenanceReport | None) -> ReportFacts | None:
    return ReportFacts.from_report(report.report) if report else None


def _facts(signals: tuple[Signal, ...]) -> list[SignalFacts]:
    """What the verdict rules read of each signal (a declaration's producer and an indicator's
    calibration included)."""
    return [
        SignalFacts.from_dict(
            {
                "detector": s.detector,
                "label": s.label,
                "score": s.score,
                "error": s.error,
                "evidence": s.evidence or {},
            }
        )
        for s in signals
    ]


# --- answering at once, and failing ----------------------------------------------------------


def answer_from_known(check: Check, media: Media) -> Verdict | None:
    """Answer a new check at once when its media was already examined with current versions;
    returns the verdict issued, or None. ``media`` keeps its reports and signals prefetched,
    so showing the answer reads them no second time."""
    trust = trust_config_current()
    versions = versions_current(trust.version)
    if media.probe is None or detection.detectors_pending(media):
        return None
    prefetch_related_objects([media], "provenance_reports", "signals")
    report, signals = _evidence(media, versions)
    if report is None:
        return None
    lifecycle.stage_skip_pending(check, "known media: answered from stored results")
    similar = similarity_record(check, media, signals)
    traced = trace_known(media)  # sampling again would break the at-once answer
    decision = _traced(decide(_report_facts(report), _facts(signals)), traced)
    similar += traced
    issued = lifecycle.verdict_issue(
        check,
        decision,
        versions,
        from_status=CheckStatus.QUEUED,
        similar=similar,
        report=report,
        signals=signals,
    )
    return issued


def _traced(decision: Decision, traced: list[dict[str, Any]]) -> Decision:
    """The decision with the reference matches named in its summary (label and rule kept)."""
    if not traced:
        return decision
    return dataclasses.replace(decision, summary=with_trace(decision.summary, traced))


def _poison(check: Check) -> MediaError:
    return MediaError(
        f"examining this media stopped the worker {check.attempts - 1} times; it was set aside",
        code="poison_input",
    )


def _fail(check: Check, exc: AuthcheckError) -> None:
    decision = decide(None, (), (exc.code, exc.message))
    lifecycle.verdict_issue(check, decision, versions_current(trust_config_current().version))
    lifecycle.stage_skip_pending(check, f"not run: {exc.code}")


def check_timed_out(check_id: int) -> None:
    """Record that a check ran past its soft time limit (the message is then acknowledged)."""
    check = Check.objects.filter(pk=check_id, status=CheckStatus.RUNNING).first()
    if check:
        _fail(
            check,
            MediaError("examining the media took longer than the time limit", code="media_timeout"),
        )
