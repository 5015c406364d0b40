"""C2PA Asset Signals Rubric 1.0, evaluated in Python (SPEC section 3, issue 8 item 2).

The rubric (``trust_data/asset-rubric-signals-local.yml``) writes each statement as a
json-formula expression over a manifest; there is no json-formula package here, so every
expression is implemented below, one function per statement id, reading the rubric's own
variables (action lists, source-type lists) and report words from the YAML. The expressions are
the specification: a statement that reads ``assertions.'c2pa.actions.v2'`` reads only that
assertion, never the v1 ``c2pa.actions`` one.

The manifests are those of the SDK's crJSON (``Reader.crjson()``), the format the rubric is
written for: assertions keyed by label, the claim as ``claim.v2``. Pure: no Django, no c2pa.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

RUBRIC_PATH = Path(__file__).resolve().parents[1] / "trust_data" / "asset-rubric-signals-local.yml"
_EMPTY = "http://c2pa.org/digitalsourcetype/empty"
_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"

Manifest = dict[str, Any]


@functools.cache
def rubric() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(metadata and variables, statements by id) read from the shipped rubric file."""
    with open(RUBRIC_PATH, encoding="utf-8") as handle:
        head, statements = list(yaml.safe_load_all(handle))
    return head, {s["id"]: s for s in statements}


def rubric_version() -> str:
    """Name and version of the rubric, recorded with every classification."""
    meta = rubric()[0]["rubric_metadata"]
    return f"{meta['name']} {meta['version']} ({meta['date'][:10]})"


def _variable(name: str) -> list[str]:
    return list(rubric()[0]["variables"][name])


def _assertion(manifest: Manifest, label: str) -> dict[str, Any] | None:
    """``assertions.'<label>'`` of a crJSON manifest (None when absent)."""
    assertions = manifest.get("assertions")
    value = assertions.get(label) if isinstance(assertions, dict) else None
    return value if isinstance(value, dict) else None


def _actions(manifest: Manifest) -> list[dict[str, Any]]:
    """``_manifest_signalActions``: the actions of ``c2pa.actions.v2`` (null -> empty)."""
    data = _assertion(manifest, "c2pa.actions.v2") or {}
    return [a for a in data.get("actions") or [] if isinstance(a, dict)]


def _created_with(manifest: Manifest, *source_types: str) -> bool:
    """``_createdWithDst``: a created/opened action with one of these digital source types."""
    return any(
        a.get("action") in ("c2pa.created", "c2pa.opened")
        and a.get("digitalSourceType") in source_types
        for a in _actions(manifest)
    )


def _edits(manifest: Manifest) -> list[dict[str, Any]]:
    """Actions that are neither inception nor non-editorial (the perceptible transformations)."""
    skip = set(_variable("$inception_actions")) | set(_variable("$non_editorial_actions"))
    return [a for a in _actions(manifest) if a.get("action") not in skip | {None}]


def _unknown_provenance(manifest: Manifest) -> bool:
    ingredient = _assertion(manifest, "c2pa.ingredient.v3")
    if ingredient is None:
        return False
    return ingredient.get("activeManifest") is None


def _ambiguous(manifest: Manifest) -> bool:
    actions = _actions(manifest)
    data = _assertion(manifest, "c2pa.actions.v2") or {}
    claim = manifest.get("claim.v2")
    gathered = claim.get("gathered_assertions") if isinstance(claim, dict) else None
    return (
        not actions
        or data.get("allActionsIncluded") is not True
        or any(
            isinstance(a.get("action"), str) and not a["action"].startswith("c2pa.")
            for a in actions
        )
        or any(a.get("action") == "c2pa.unknown" for a in actions)
        or any("c2pa.actions" in str((g or {}).get("url", "")) for g in gathered or [])
    )


def _dst_in(action: dict[str, Any], name: str) -> bool:
    return action.get("digitalSourceType") in _variable(name)


_STATEMENTS: dict[str, Callable[[Manifest], bool]] = {
    "inception:signal_blankCanvas": lambda m: _created_with(m, _EMPTY),
    "inception:signal_capturedMedia": lambda m: _created_with(
        m, _IPTC + "digitalCapture", _IPTC + "computationalCapture"
    ),
    "inception:signal_capturedMediaStitched": lambda m: _created_with(
        m, _IPTC + "compositeCapture"
    ),
    "inception:signal_compositionMayContainGenAI": lambda m: _created_with(m, _IPTC + "composite"),
    "inception:signal_fullyGenAIMedia": lambda m: _created_with(
        m, _IPTC + "trainedAlgorithmicMedia"
    ),
    "inception:signal_mediaUnknownProvenance": _unknown_provenance,
    "inception:signal_nonGenAIDigitalCreation": lambda m: _created_with(
        m, _IPTC + "digitalCreation"
    ),
    "inception:signal_partlyGenAICreation": lambda m: _created_with(
        m, _IPTC + "compositeWithTrainedAlgorithmicMedia"
    ),
    "inception:signal_screenCaptureMayContainGenAI": lambda m: _created_with(
        m, _IPTC + "screenCapture"
    ),
    "transformation:signal_ambiguousActions": _ambiguous,
    "transformation:signal_nonEditorial": lambda m: any(
        a.get("action") in _variable("$non_editorial_actions") for a in _actions(m)
    ),
    "transformation:signal_perceptibleGenAI": lambda m: any(
        _dst_in(a, "$genai_dst_types") for a in _edits(m)
    ),
    "transformation:signal_perceptibleNonGenAI": lambda m: any(
        a.get("digitalSourceType") is not None and not _dst_in(a, "$genai_dst_types")
        for a in _edits(m)
    ),
    "transformation:signal_perceptiblePossiblyGenAI": lambda m: any(
        _dst_in(a, "$possibly_genai_dst_types") for a in _edits(m)
    ),
}


def classify(manifest: Manifest) -> list[dict[str, Any]]:
    """Every rubric statement for one crJSON manifest: id, value and the rubric's words."""
    statements = rubric()[1]
    out = []
    for statement_id, test in _STATEMENTS.items():
        value = bool(test(manifest))
        words = statements[statement_id]["reportText"][str(value).lower()]["en"]
        out.append({"id": statement_id, "value": value, "text": words})
    return out


def present(signals: list[dict[str, Any]]) -> list[str]:
    """The ids of the statements that hold."""
    return [s["id"] for s in signals if s["value"]]


def classify_store(crjson: str | None) -> dict[str, list[dict[str, Any]]]:
    """Statements for every manifest of a crJSON store, by manifest label ({} if unreadable)."""
    try:
        store = json.loads(crjson or "{}")
    except ValueError:
        return {}
    manifests = store.get("manifests") if isinstance(store, dict) else None
    return {
        str(m.get("label")): classify(m)
        for m in manifests or []
        if isinstance(m, dict) and m.get("label")
    }


# Plain words for the summary sentence, in the order a history is told.
_INCEPTION_WORDS = {
    "inception:signal_capturedMedia": "captured with a camera or recorder",
    "inception:signal_capturedMediaStitched": "stitched from captured media",
    "inception:signal_fullyGenAIMedia": "generated by AI",
    "inception:signal_partlyGenAICreation": "created partly with AI",
    "inception:signal_compositionMayContainGenAI": "composed from elements that may include AI",
    "inception:signal_screenCaptureMayContainGenAI": "a screen capture (which may show AI content)",
    "inception:signal_nonGenAIDigitalCreation": "created digitally without AI",
    "inception:signal_blankCanvas": "started from a blank canvas",
    "inception:signal_mediaUnknownProvenance": "made from media of unknown provenance",
}
_TRANSFORMATION_WORDS = {
    "transformation:signal_perceptibleGenAI": "edited with AI",
    "transformation:signal_perceptiblePossiblyGenAI": "edited in ways that may use AI",
    "transformation:signal_perceptibleNonGenAI": "edited without AI",
    "transformation:signal_nonEditorial": "changed without editorial effect (e.g. converted)",
}


def sentence(signals: list[dict[str, Any]]) -> str:
    """ "Content Credentials say: captured with a camera, then edited without AI" (or "")."""
    held = set(present(signals))
    first = [w for k, w in _INCEPTION_WORDS.items() if k in held]
    then = [w for k, w in _TRANSFORMATION_WORDS.items() if k in held]
    if not first and not then:
        return ""
    parts = ", ".join(first) if first else "history does not say how it began"
    if then:
        parts += ", then " + " and ".join(then)
    if "transformation:signal_ambiguousActions" in held:
        parts += " (the recorded actions are incomplete or non-standard)"
    return f"Content Credentials say: {parts}."
