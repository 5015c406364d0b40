"""C2PA verification (SPEC section 3): the only module that imports c2pa.

Pure: ``read(path, mime, trust)`` returns frozen ``ProvenanceFindings`` and never raises for bad
input. Every read goes through an explicit ``c2pa.Context`` built from a ``TrustConfig``, with
the network closed: no remote manifest fetch, no OCSP, no allowed hosts (SECURITY findings 1-3).
Contexts are built lazily per process, because a Context built before ``fork()`` is invalid in
the child (finding 4, Celery prefork).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.x509.oid import NameOID

from authcheck.jsonsafe import json_safe
from authcheck.pipeline import cose, iptc, ocsp, rubric

log = logging.getLogger(__name__)

# Bump when the settings below change meaning: it is part of every TrustConfig version.
SETTINGS_REVISION = "2"  # 2: named lists, legacy pass, rubric signals
MAX_INGREDIENT_DEPTH = 16
MAX_INGREDIENTS = 500

_SUCCESS_SUFFIXES = (".match", ".validated", ".trusted", ".insideValidity", ".skipped")
_UNTRUSTED = "signingCredential.untrusted"
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\s+([A-Za-z0-9+/=\s]+?)-----END \1-----")
_STATES = {"Trusted": "trusted", "Valid": "valid", "Invalid": "invalid"}


def normalise_pem(text: str) -> str:
    """Canonical form of a PEM bundle: unique blocks, whitespace removed, sorted."""
    blocks = {
        (kind.decode(), re.sub(rb"\s+", b"", body).decode())
        for kind, body in _PEM_BLOCK.findall(text.encode())
    }
    return "".join(
        f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n" for kind, body in sorted(blocks)
    )


@dataclass(frozen=True)
class TrustConfig:
    """What the verifier trusts: anchors (TSA roots included), an allowed list and limits.

    ``anchors_pem`` is everything the SDK trusts (the C2PA trusted state). ``lists`` names its
    parts ((name, pem): ``c2pa``, ``tsa``, ``newsroom``) so a report can say which one matched.
    The ``legacy_*`` fields, when set, drive a second pass whose result is labelled "legacy
    interim list" and never changes the C2PA state.
    """

    anchors_pem: str = ""
    allowed_pem: str = ""
    max_manifest_mb: int = 16
    lists: tuple[tuple[str, str], ...] = ()
    legacy_anchors_pem: str = ""
    legacy_allowed_pem: str = ""
    legacy_ekus: tuple[str, ...] = ()
    remote_manifests: bool = False  # fetch remote manifests ourselves (never c2pa)
    ocsp: bool = False  # ask OCSP responders ourselves (never c2pa), see pipeline/ocsp.py

    @functools.cached_property
    def version(self) -> str:
        """SHA-256 over the normalised configuration, recorded on every report."""
        payload = json.dumps(
            {
                "anchors": normalise_pem(self.anchors_pem),
                "allowed": normalise_pem(self.allowed_pem),
                "max_manifest_mb": self.max_manifest_mb,
                "settings": SETTINGS_REVISION,
                "lists": [[name, normalise_pem(pem)] for name, pem in self.lists],
                "remote_manifests": self.remote_manifests,
                "ocsp": self.ocsp,
                "legacy": [
                    normalise_pem(self.legacy_anchors_pem),
                    normalise_pem(self.legacy_allowed_pem),
                    sorted(self.legacy_ekus),
                ],
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class Failure:
    """One validation failure code with the SDK's explanation."""

    code: str
    explanation: str
    url: str = ""


@dataclass(frozen=True)
class ProvenanceFindings:
    """The result of verifying one file's Content Credentials."""

    state: str
    failures: tuple[Failure, ...] = ()
    active_manifest: dict[str, Any] | None = None
    ingredients: tuple[dict[str, Any], ...] = ()
    ai_declared: bool = False
    ai_declaration: dict[str, Any] | None = None
    synthetic_declaration: dict[str, Any] | None = None
    raw_json: bytes | None = None
    raw_sha256: str = ""
    sdk_version: str = ""
    trust_version: str = ""
    error_code: str = ""
    error_message: str = ""
    ingredients_invalid: bool = field(default=False)
    trust: dict[str, Any] | None = None
    remote_manifest: dict[str, Any] | None = None

    def to_report(self) -> dict[str, Any]:
        """JSON-safe projection (no NUL or control characters: PostgreSQL jsonb accepts it).

        Text is kept otherwise as is (HTML, bidi controls): escaping belongs to the renderers.
        """
        error = (
            {"code": self.error_code, "message": self.error_message} if self.error_code else None
        )
        return json_safe(
            {
                "state": self.state,
                "failures": [
                    {"code": f.code, "explanation": f.explanation, "url": f.url}
                    for f in self.failures
                ],
                "active_manifest": self.active_manifest,
                "ingredients": list(self.ingredients),
                "ingredients_invalid": self.ingredients_invalid,
                "trust": self.trust,
                "remote_manifest": self.remote_manifest,
                "ai_declared": self.ai_declared,
                "ai_declaration": self.ai_declaration,
                "synthetic_declaration": self.synthetic_declaration,
                "signals_summary": rubric.sentence(
                    (self.active_manifest or {}).get("signals") or []
                ),
                "rubric_version": rubric.rubric_version(),
                "sdk_version": self.sdk_version,
                "trust_version": self.trust_version,
                "raw_sha256": self.raw_sha256,
                "error_code": self.error_code,
                "error": error,
            }
        )


def sdk_version() -> str:
    """The c2pa-rs version doing the verification (part of every report's identity)."""
    return str(c2pa.sdk_version())


# --- context ---------------------------------------------------------------------------------


def settings_dict(trust: TrustConfig) -> dict[str, Any]:
    """The c2pa settings for ``trust``: verification on, network off."""
    return {
        "version": 1,
        "verify": {
            "verify_after_reading": True,
            "verify_trust": True,
            "verify_timestamp_trust": True,
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
        },
        "core": {
            "allowed_network_hosts": [],
            "allow_redirects": False,
            "max_decompressed_manifest_size_in_mb": trust.max_manifest_mb,
        },
        "trust": {
            "trust_anchors": trust.anchors_pem or None,
            "allowed_list": trust.allowed_pem or None,
        },
    }


_contexts: dict[tuple[int, str], c2pa.Context] = {}
_contexts_lock = threading.Lock()


def context_for(trust: TrustConfig) -> c2pa.Context:
    """The Context for ``trust`` in this process, built on first use (never inherited by fork)."""
    settings = settings_dict(trust)
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
    key = (os.getpid(), digest)
    with _contexts_lock:
        ctx = _contexts.get(key)
        if ctx is None or not ctx.is_valid:
            for stale in [k for k in _contexts if k[0] != key[0]]:
                # Built by a parent before fork: unusable here, and not ours to free.
                del _contexts[stale]
            if len(_contexts) >= 16:  # main + per-list + legacy contexts; trust changes are rare
                _contexts.clear()
            ctx = c2pa.Context.from_dict(settings)
            _contexts[key] = ctx
        return ctx


# --- reading ---------------------------------------------------------------------------------


# Fetches a remote manifest's bytes through the SSRF-safe client; raises ``RemoteFetchError``.
RemoteFetcher = Callable[[str], bytes]
_REMOTE_URL = re.compile(r"from url (\S+)")


class RemoteFetchError(Exception):
    """A remote manifest could not (or may not) be fetched; the message says why."""


# Where the file's ``c2pa.signature`` labels are (``cose.LabelScan``), or None: search the file.
LabelOffsets = Callable[[], Sequence[int] | None]


def read(
    path: Path,
    mime: str,
    trust: TrustConfig,
    remote: RemoteFetcher | None = None,
    ocsp_fetch: ocsp.OcspFetcher | None = None,
    label_offsets: LabelOffsets | None = None,
) -> ProvenanceFindings:
    """Verify the Content Credentials of the file at ``path``; never raises for bad input.

    A file that only points at a remote manifest gets the reference recorded; with ``remote``
    (the setting on) its bytes are fetched by that callable and handed to c2pa as manifest data,
    so c2pa itself never opens a connection. ``ocsp_fetch`` (the OCSP setting on) asks the
    signer's responder when its chain ends at a configured list. ``label_offsets``, asked only
    after the SDK read, saves the signer-chain lookup a search through the whole file.
    """
    base = ProvenanceFindings(state="error", sdk_version=sdk_version(), trust_version=trust.version)
    findings, error = _read_once(path, mime, trust, base, None, ocsp_fetch, label_offsets)
    if findings.error_code != "c2pa_remote_manifest_required":
        return findings
    match = _REMOTE_URL.search(error)
    info: dict[str, Any] = {"url": match.group(1) if match else None, "fetched": False}
    if remote is None or not info["url"]:
        info["error"] = "remote manifests are not fetched (AUTHCHECK_C2PA_REMOTE_MANIFESTS off)"
        return replace(findings, remote_manifest=info)
    try:
        data = remote(info["url"])
    except RemoteFetchError as exc:
        info["error"] = str(exc)
        return replace(findings, remote_manifest=info)
    info.update(fetched=True, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    fetched, _ = _read_once(path, mime, trust, base, data, ocsp_fetch)
    return replace(fetched, remote_manifest=info)


def _read_once(
    path: Path,
    mime: str,
    trust: TrustConfig,
    base: ProvenanceFindings,
    data: bytes | None,
    ocsp_fetch: ocsp.OcspFetcher | None = None,
    label_offsets: LabelOffsets | None = None,
) -> tuple[ProvenanceFindings, str]:
    """One SDK read (``data``: manifest bytes fetched for it); (findings, SDK error text)."""
    try:
        ctx = context_for(trust)
        with open(path, "rb") as stream:
            reader = c2pa.Reader.try_create(mime, stream, data, context=ctx)
            if reader is None:
                return replace(base, state="absent"), ""
            with reader:
                raw = reader.json()
                crjson = reader.crjson()
    except c2pa.C2paError as exc:
        return _from_error(exc, path, base), str(exc)
    except OSError as exc:
        return replace(base, error_code="c2pa_error", error_message=str(exc)), str(exc)
    except Exception as exc:  # a wrapper bug must not become a crashed worker or a 500
        log.exception("c2pa read failed unexpectedly for %s", path)
        message = f"{type(exc).__name__}: {exc}"
        return replace(base, error_code="c2pa_error", error_message=message), message
    findings = findings_from_json(raw, base, crjson)
    if findings.state in ("trusted", "valid"):
        offsets = label_offsets() if label_offsets is not None and data is None else None
        report = trust_report(path, mime, trust, raw, crjson, data, ocsp_fetch, offsets)
        findings = replace(findings, trust=report)
    return findings, ""


def _has_jumbf(path: Path) -> bool:
    # Cheap evidence that the file carries a C2PA store at all (JUMBF box with a c2pa label).
    with open(path, "rb") as handle:
        tail = b""
        while chunk := handle.read(1024 * 1024):
            if b"c2pa" in tail + chunk and b"jumb" in tail + chunk:
                return True
            tail = chunk[-8:]
    return False


def _from_error(exc: c2pa.C2paError, path: Path, base: ProvenanceFindings) -> ProvenanceFindings:
    """Map an SDK error to a state and a stable code."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, c2pa.C2paError.ManifestNotFound):
        return replace(base, state="absent")
    if isinstance(exc, c2pa.C2paError.NotSupported):
        state, code = "unsupported", "unsupported_media"
    elif isinstance(exc, c2pa.C2paError.RemoteManifest) or message.startswith("Remote"):
        # The asset only points at a manifest URL; we never fetch it (finding 1).
        state, code = "error", "c2pa_remote_manifest_required"
    elif _has_jumbf(path):
        state, code = "error", "c2pa_malformed"
    else:
        # The container itself could not be parsed and holds no C2PA store: corrupt media,
        # not broken credentials.
        state, code = "error", "media_malformed"
    return replace(base, state=state, error_code=code, error_message=message)


def findings_from_json(
    raw: str, base: ProvenanceFindings | None = None, crjson: str | None = None
) -> ProvenanceFindings:
    """Build findings from the manifest store JSON the SDK returned (``base``: versions).

    ``crjson`` (the same store as crJSON) feeds the C2PA signals rubric; without it every
    manifest's ``signals`` list is empty."""
    base = base or ProvenanceFindings(state="error")
    raw_bytes = raw.encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(raw_bytes).hexdigest()
    try:
        store = json.loads(raw)
    except ValueError as exc:
        return replace(
            base,
            error_code="c2pa_malformed",
            error_message=f"unreadable manifest store JSON: {exc}",
            raw_json=raw_bytes,
            raw_sha256=digest,
        )
    manifests = store.get("manifests") or {}
    label = store.get("active_manifest") or ""
    active = manifests.get(label) if isinstance(manifests, dict) else None
    results = store.get("validation_results") or {}
    deltas = _deltas_by_uri(results)
    signals = rubric.classify_store(crjson)
    walker = _IngredientWalker(manifests, deltas, signals)
    ingredients = tuple(walker.children(label, active or {}, depth=0))
    declaration = _declaration(label, active or {}, walker, generative_ai=True)
    synthetic = _declaration(label, active or {}, walker, generative_ai=False)
    return replace(
        base,
        state=_STATES.get(str(store.get("validation_state")), "invalid"),
        failures=_top_failures(results),
        active_manifest=_manifest_summary(
            label, active, signals.get(label, []), _crjson_signature(crjson, label)
        )
        if active
        else None,
        ingredients=ingredients,
        ai_declared=declaration is not None,
        ai_declaration=declaration,
        synthetic_declaration=synthetic if declaration is None else None,
        raw_json=raw_bytes,
        raw_sha256=digest,
        ingredients_invalid=any(i["state"] == "invalid" for i in walker.visited),
    )


# --- validation results ----------------------------------------------------------------------


def _failure(entry: dict[str, Any]) -> Failure:
    return Failure(
        code=str(entry.get("code", "")),
        explanation=str(entry.get("explanation") or ""),
        url=str(entry.get("url") or ""),
    )


def _top_failures(results: dict[str, Any]) -> tuple[Failure, ...]:
    """The active manifest's failures followed by those of the ingredient deltas."""
    entries = list((results.get("activeManifest") or {}).get("failure") or [])
    for delta in results.get("ingredientDeltas") or []:
        entries += (delta.get("validationDeltas") or {}).get("failure") or []
    return tuple(_failure(e) for e in entries if isinstance(e, dict))


def _deltas_by_uri(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        str(d.get("ingredientAssertionURI")): d.get("validationDeltas") or {}
        for d in results.get("ingredientDeltas") or []
        if isinstance(d, dict)
    }


def _recorded_failures(ingredient: dict[str, Any]) -> list[dict[str, Any]]:
    """Failures recorded in the ingredient assertion when the parent was signed."""
    results = ingredient.get("validation_results")
    if isinstance(results, dict):
        return list((results.get("activeManifest") or {}).get("failure") or [])
    status = ingredient.get("validation_status") or []  # older ingredient assertions
    return [s for s in status if not str(s.get("code", "")).endswith(_SUCCESS_SUFFIXES)]


def _family(code: str) -> str:
    return code.rsplit(".", 1)[0]


def _current_failures(recorded: list[dict[str, Any]], delta: dict[str, Any]) -> list[Failure]:
    """Recorded failures updated by this read's deltas.

    c2pa reports only what changed since signing: a recorded ``signingCredential.untrusted``
    becomes ``signingCredential.trusted`` once its CA is configured, while a recorded
    ``claimSignature.mismatch`` with no delta still stands.
    """
    resolved = {
        (_family(str(s.get("code", ""))), s.get("url"))
        for s in delta.get("success") or []
        if isinstance(s, dict)
    }
    kept = [
        f
        for f in recorded
        if isinstance(f, dict) and (_family(str(f.get("code", ""))), f.get("url")) not in resolved
    ]
    kept += [f for f in delta.get("failure") or [] if isinstance(f, dict)]
    seen: set[tuple[str, str]] = set()
    out = []
    for failure in map(_failure, kept):
        if (failure.code, failure.url) not in seen:
            seen.add((failure.code, failure.url))
            out.append(failure)
    return out


def _state_of(failures: list[Failure], has_manifest: bool) -> str:
    if not has_manifest:
        return "absent"
    codes = {f.code for f in failures}
    if codes - {_UNTRUSTED}:
        return "invalid"
    return "valid" if _UNTRUSTED in codes else "trusted"


class _IngredientWalker:
    """Builds the ingredient tree with each ingredient's own state, bounded against cycles."""

    def __init__(
        self,
        manifests: dict[str, Any],
        deltas: dict[str, dict[str, Any]],
        signals: dict[str, list[dict[str, Any]]],
    ) -> None:
        self.manifests = manifests if isinstance(manifests, dict) else {}
        self.deltas = deltas
        self.signals = signals
        self.visited: list[dict[str, Any]] = []

    def children(
        self, label: str, manifest: dict[str, Any], depth: int, path: frozenset[str] = frozenset()
    ) -> list[dict[str, Any]]:
        """The ingredient nodes of ``manifest`` (whose label is ``label``)."""
        nodes = []
        for ingredient in manifest.get("ingredients") or []:
            if not isinstance(ingredient, dict) or len(self.visited) >= MAX_INGREDIENTS:
                break
            nodes.append(self._node(label, ingredient, depth, path | {label}))
        return nodes

    def _node(
        self, parent: str, ingredient: dict[str, Any], depth: int, path: frozenset[str]
    ) -> dict[str, Any]:
        child_label = str(ingredient.get("active_manifest") or "")
        uri = f"self#jumbf=/c2pa/{parent}/c2pa.assertions/{ingredient.get('label', '')}"
        failures = _current_failures(_recorded_failures(ingredient), self.deltas.get(uri, {}))
        child = self.manifests.get(child_label) if child_label else None
        node: dict[str, Any] = {
            "title": ingredient.get("title"),
            "relationship": ingredient.get("relationship"),
            "format": ingredient.get("format"),
            "manifest_label": child_label or None,
            "state": _state_of(failures, bool(child_label)),
            "failures": [{"code": f.code, "explanation": f.explanation} for f in failures],
            "ingredients": [],
            "signals": self.signals.get(child_label, []) if child_label else [],
        }
        self.visited.append(node)
        if child_label in path or depth >= MAX_INGREDIENT_DEPTH:
            node["truncated"] = "cycle" if child_label in path else "depth"
        elif isinstance(child, dict):
            node["ingredients"] = self.children(child_label, child, depth + 1, path)
        return node


# --- manifest content ------------------------------------------------------------------------


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for assertion in manifest.get("assertions") or []:
        if not isinstance(assertion, dict):
            continue
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            if isinstance(action, dict):
                out.append(_action(action))
    return out


def _action(action: dict[str, Any]) -> dict[str, Any]:
    agent = action.get("softwareAgent")
    if isinstance(agent, dict):
        agent = agent.get("name")
    return {
        "action": action.get("action"),
        "digital_source_type": action.get("digitalSourceType"),
        "source_type": iptc.describe(action.get("digitalSourceType")),
        "software_agent": agent,
        "when": action.get("when"),
    }


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        name, version = info[0].get("name"), info[0].get("version")
        return f"{name} {version}" if version else name
    generator = manifest.get("claim_generator")
    return str(generator) if generator else None


def _manifest_summary(
    label: str,
    manifest: dict[str, Any],
    signals: list[dict[str, Any]],
    cr_signature: dict[str, Any] | None = None,
) -> dict[str, Any]:
    signature = manifest.get("signature_info") or {}
    tsa = _timestamp_certificate(cr_signature or {})
    actions = _actions(manifest)
    source_types = [a["digital_source_type"] for a in actions if a["digital_source_type"]]
    return {
        "label": label,
        "title": manifest.get("title"),
        "claim_generator": _claim_generator(manifest),
        "signer": {
            "common_name": signature.get("common_name"),
            "issuer": signature.get("issuer"),
            "algorithm": signature.get("alg"),
            # Present only when the signature carries an RFC 3161 timestamp.
            "signing_time": signature.get("time"),
            "timestamp_authority": tsa.get("common_name"),
        },
        "actions": actions,
        "digital_source_type": source_types[0] if source_types else None,
        # C2PA Asset Signals Rubric statements for this manifest (ids, values, rubric words).
        "signals": signals,
    }


def _declaration(
    label: str, active: dict[str, Any], walker: _IngredientWalker, *, generative_ai: bool
) -> dict[str, Any] | None:
    """The first generative-AI (or, with ``generative_ai=False``, other synthetic) source type
    declared in the active manifest, then in the ingredient manifests."""
    labels = [label] + [n["manifest_label"] for n in walker.visited if n["manifest_label"]]
    for where, manifest_label in enumerate(labels):
        manifest = active if where == 0 else walker.manifests.get(manifest_label)
        if not isinstance(manifest, dict):
            continue
        for action in _actions(manifest):
            entry = iptc.lookup(action["digital_source_type"])
            if entry is None or not entry.synthetic or entry.generative_ai != generative_ai:
                continue
            return {
                "manifest_label": manifest_label,
                "in_ingredient": where > 0,
                "action": action["action"],
                "digital_source_type": action["digital_source_type"],
                "source_type": action["source_type"],
                "software_agent": action["software_agent"],
            }
    return None


# --- which trust list matched ------------------------------------------------------------------

_SIGNER_TRUSTED = "signingCredential.trusted"
_TSA_TRUSTED = "timeStamp.trusted"
LEGACY_LABEL = "legacy interim list"


def _active_codes(raw: str) -> set[str]:
    """Every status code of the active manifest (success, informational and failure)."""
    try:
        results = (json.loads(raw).get("validation_results") or {}).get("activeManifest") or {}
    except (ValueError, AttributeError):
        return set()
    return {
        str(entry.get("code", ""))
        for kind in ("success", "informational", "failure")
        for entry in results.get(kind) or []
        if isinstance(entry, dict)
    }


def _codes_under(
    path: Path, mime: str, anchors_pem: str, max_mb: int, data: bytes | None = None
) -> set[str]:
    """The active manifest's codes when only ``anchors_pem`` is trusted (a second SDK read)."""
    sub = TrustConfig(anchors_pem=anchors_pem, max_manifest_mb=max_mb)
    try:
        with open(path, "rb") as stream:
            reader = c2pa.Reader.try_create(mime, stream, data, context=context_for(sub))
            if reader is None:
                return set()
            with reader:
                return _active_codes(reader.json())
    except (c2pa.C2paError, OSError):
        return set()


def _signer_certificate(raw: str, crjson: str | None) -> dict[str, Any]:
    """The signing certificate as the SDK reports it: subject, issuer, serial, validity."""
    store = json.loads(raw)
    label = store.get("active_manifest") or ""
    info = ((store.get("manifests") or {}).get(label) or {}).get("signature_info") or {}
    signature = _crjson_signature(crjson, label)
    cert = signature.get("certificateInfo") or {}
    cert = cert if isinstance(cert, dict) else {}
    validity = cert.get("validity") or {}
    return {
        "subject": cert.get("subject") or {"CN": info.get("common_name")},
        "issuer": cert.get("issuer") or {"O": info.get("issuer")},
        "serial_number": str(info.get("cert_serial_number") or ""),
        "not_before": validity.get("notBefore"),
        "not_after": validity.get("notAfter"),
        "signing_time": info.get("time"),
        "timestamp_authority": _timestamp_certificate(signature) or None,
    }


def _crjson_signature(crjson: str | None, label: str) -> dict[str, Any]:
    """The crJSON ``signature`` object of manifest ``label`` ({} when absent or unreadable)."""
    try:
        for manifest in json.loads(crjson or "{}").get("manifests") or []:
            if isinstance(manifest, dict) and manifest.get("label") == label:
                signature = manifest.get("signature") or {}
                return signature if isinstance(signature, dict) else {}
    except (ValueError, AttributeError):
        pass
    return {}


def _timestamp_certificate(signature: dict[str, Any]) -> dict[str, Any]:
    """The RFC 3161 time-stamp authority's certificate as the SDK read it from the token.

    c2pa-python 0.38.1 leaves ``signature_info.timestamp_authority`` empty; the crJSON
    ``timeStampInfo`` names the TSA certificate (subject, issuer, serial, validity)."""
    stamp = _mapping(signature.get("timeStampInfo"))
    cert = _mapping(stamp.get("certificateInfo"))
    if not cert:
        return {}
    subject, validity = _mapping(cert.get("subject")), _mapping(cert.get("validity"))
    return {
        "common_name": subject.get("CN"),
        "subject": subject,
        "issuer": cert.get("issuer"),
        "serial_number": cert.get("serialNumber"),
        "not_before": validity.get("notBefore"),
        "not_after": validity.get("notAfter"),
        "time": stamp.get("timestamp"),
    }


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def trust_report(
    path: Path,
    mime: str,
    trust: TrustConfig,
    raw: str,
    crjson: str | None,
    data: bytes | None = None,
    ocsp_fetch: ocsp.OcspFetcher | None = None,
    label_offsets: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Which configured list trusts the signer and the timestamp authority, and the legacy pass.

    c2pa-python 0.38.1 reports *that* a signer is trusted, not by which anchor, so each named
    list is checked by a read trusting only that list; this costs one extra read per list, and
    only for media the SDK already found trusted (or with a trusted timestamp).
    """
    codes = _active_codes(raw)
    signer_lists: list[str] = []
    tsa_lists: list[str] = []
    if codes & {_SIGNER_TRUSTED, _TSA_TRUSTED}:
        for name, pem in trust.lists:
            if not pem.strip():
                continue
            sub = _codes_under(path, mime, pem, trust.max_manifest_mb, data)
            # A list is named only for what the full configuration trusts.
            if _SIGNER_TRUSTED in sub & codes:
                signer_lists.append(name)
            if _TSA_TRUSTED in sub & codes:
                tsa_lists.append(name)
    certificate = _signer_certificate(raw, crjson)
    certs = cose.signer_certs(path, certificate["serial_number"], data, label_offsets)
    chain = [cose.describe(c) for c in certs]
    timestamp_codes = sorted(c for c in codes if c.startswith("timeStamp."))
    return {
        "signer_trusted": _SIGNER_TRUSTED in codes,
        "matched_lists": signer_lists,
        # Read from the COSE x5chain, leaf first; the SDK's own view of the leaf otherwise.
        "chain": chain or [certificate],
        "timestamp": {
            "present": bool(timestamp_codes) or bool(certificate["signing_time"]),
            "time": certificate["signing_time"],
            # The TSA's common name, and its certificate as read from the time-stamp token.
            "authority": (certificate["timestamp_authority"] or {}).get("common_name"),
            "certificate": certificate["timestamp_authority"],
            "trusted": _TSA_TRUSTED in codes,
            "codes": timestamp_codes,
            "matched_lists": tsa_lists,
        },
        "legacy": _legacy_pass(path, mime, trust, certificate, data),
        "revocation": _revocation(certs, trust, ocsp_fetch),
    }


def _revocation(
    certs: list[x509.Certificate], trust: TrustConfig, fetch: ocsp.OcspFetcher | None
) -> dict[str, Any]:
    if fetch is None:
        return {"checked": False, "status": None, "reason": "OCSP is off (AUTHCHECK_C2PA_OCSP)"}
    return ocsp.check(certs, list(_allowed_certificates(trust.anchors_pem)), fetch)


@functools.lru_cache(maxsize=4)
def _allowed_certificates(pem: str) -> tuple[x509.Certificate, ...]:
    try:
        return tuple(x509.load_pem_x509_certificates(pem.encode()))
    except ValueError:
        return ()


def _name_matches(name: x509.Name, wanted: dict[str, Any]) -> bool:
    oids = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME}
    for key, oid in oids.items():
        if key in wanted:
            values = [a.value for a in name.get_attributes_for_oid(oid)]
            if wanted[key] not in values:
                return False
    return True


def _allowed_match(trust: TrustConfig, certificate: dict[str, Any]) -> bool:
    """The signing certificate is on the legacy allowed list: same issuer, serial and subject,
    and (when the store config names EKUs) one of those extended key usages."""
    try:
        serial = int(certificate["serial_number"])
    except ValueError:
        return False
    for cert in _allowed_certificates(trust.legacy_allowed_pem):
        if cert.serial_number != serial or not _name_matches(cert.issuer, certificate["issuer"]):
            continue
        if not _name_matches(cert.subject, certificate["subject"]):
            continue
        if not trust.legacy_ekus:
            return True
        try:
            ekus = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            return False
        return bool({oid.dotted_string for oid in ekus} & set(trust.legacy_ekus))
    return False


def _legacy_pass(
    path: Path,
    mime: str,
    trust: TrustConfig,
    certificate: dict[str, Any],
    data: bytes | None = None,
) -> dict[str, Any] | None:
    """The optional pass against the frozen legacy interim list (None when it is off).

    The SDK ignores ``trust.allowed_list`` (c2pa-python 0.38.1), so anchors are checked by an
    SDK read trusting only the legacy anchors, and the allowed list of end-entity certificates
    by comparing the signing certificate's issuer, serial number and subject (and EKU).
    """
    if not (trust.legacy_anchors_pem or trust.legacy_allowed_pem):
        return None
    via = ""
    if trust.legacy_anchors_pem and _SIGNER_TRUSTED in _codes_under(
        path, mime, trust.legacy_anchors_pem, trust.max_manifest_mb, data
    ):
        via = "anchor"
    elif trust.legacy_allowed_pem and _allowed_match(trust, certificate):
        via = "allowed list"
    return {
        "label": LEGACY_LABEL,
        "trusted": bool(via),
        "via": via or None,
        "note": "A frozen pre-C2PA list; never the C2PA trusted state.",
    }
