"""C2PA Asset Signals Rubric 1.0: every statement on manifests signed by the real SDK.

Each case signs a JPEG whose actions should make exactly the named statements hold, reads it
back through ``provenance.read`` and checks the rubric ids, values and words in the report. The
actions are signed as *created* assertions (the claim generator attests them); gathered actions
are ambiguous by the rubric's own definition, tested separately.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import c2pa
import pytest

from authcheck.pipeline import iptc, provenance, rubric
from authcheck.pipeline.verdict import ReportFacts, decide
from tests.c2pa_fixtures import IPTC, test_ca
from tests.mediagen import make_image

C2PA_DST = "http://c2pa.org/digitalsourcetype/"
TRUST = provenance.TrustConfig(anchors_pem=test_ca().root_pem)


def _definition(actions: list[dict[str, Any]], *, all_included: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {"actions": actions}
    if all_included:
        data["allActionsIncluded"] = True
    return {
        "claim_generator_info": [{"name": "authcheck-tests", "version": "1.0"}],
        "title": "rubric.jpg",
        "assertions": [{"label": "c2pa.actions.v2", "data": data}],
    }


def _created(dst: str) -> dict[str, Any]:
    return {"action": "c2pa.created", "digitalSourceType": dst}


def _sign(
    dst: Path,
    definition: dict[str, Any],
    *,
    ingredients: tuple[Path, ...] = (),
    created: bool = True,
    relationship: str = "parentOf",
) -> Path:
    # The SDK matches the base label: "c2pa.actions" makes the v2 actions a created assertion.
    labels = ["c2pa.actions", "c2pa.actions.v2"] if created else []
    context = c2pa.Context.from_dict(
        {
            "builder": {"thumbnail": {"enabled": False}, "created_assertion_labels": labels},
            "verify": {"verify_after_sign": False},
        }
    )
    builder = c2pa.Builder(definition, context=context)
    for path in ingredients:
        with open(path, "rb") as stream:
            ingredient = {"title": path.name, "relationship": relationship}
            builder.add_ingredient(json.dumps(ingredient), "image/jpeg", stream)
    src = make_image(dst.with_name("src-" + dst.name), size=(48, 32), fmt="JPEG")
    with open(src, "rb") as source, open(dst, "w+b") as out:
        builder.sign(test_ca().signer(), "image/jpeg", source, out)
    return dst


def _read(tmp_path: Path, definition: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    path = _sign(tmp_path / "rubric.jpg", definition, **kwargs)
    findings = provenance.read(path, "image/jpeg", TRUST)
    assert findings.state == "trusted", findings
    return findings.to_report()


def _held(report: dict[str, Any]) -> set[str]:
    return set(rubric.present(report["active_manifest"]["signals"]))


EDIT = {"action": "c2pa.edited"}
CASES = [
    ("inception:signal_blankCanvas", [_created(C2PA_DST + "empty")]),
    ("inception:signal_capturedMedia", [_created(IPTC + "digitalCapture")]),
    ("inception:signal_capturedMedia", [_created(IPTC + "computationalCapture")]),
    ("inception:signal_capturedMediaStitched", [_created(IPTC + "compositeCapture")]),
    ("inception:signal_compositionMayContainGenAI", [_created(IPTC + "composite")]),
    ("inception:signal_fullyGenAIMedia", [_created(IPTC + "trainedAlgorithmicMedia")]),
    ("inception:signal_nonGenAIDigitalCreation", [_created(IPTC + "digitalCreation")]),
    (
        "inception:signal_partlyGenAICreation",
        [_created(IPTC + "compositeWithTrainedAlgorithmicMedia")],
    ),
    ("inception:signal_screenCaptureMayContainGenAI", [_created(IPTC + "screenCapture")]),
    (
        "transformation:signal_nonEditorial",
        [_created(IPTC + "digitalCapture"), {"action": "c2pa.resized.proportional"}],
    ),
    (
        "transformation:signal_perceptibleGenAI",
        [
            _created(IPTC + "digitalCapture"),
            {**EDIT, "digitalSourceType": IPTC + "compositeWithTrainedAlgorithmicMedia"},
        ],
    ),
    (
        "transformation:signal_perceptibleNonGenAI",
        [_created(IPTC + "digitalCapture"), {**EDIT, "digitalSourceType": IPTC + "humanEdits"}],
    ),
    (
        "transformation:signal_perceptiblePossiblyGenAI",
        [_created(IPTC + "digitalCapture"), {**EDIT, "digitalSourceType": IPTC + "digitalArt"}],
    ),
]


@pytest.mark.parametrize(
    ("statement", "actions"), CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)]
)
def test_each_signal_holds_on_a_signed_manifest_and_no_other_inception(
    tmp_path: Path, statement: str, actions: list[dict[str, Any]]
) -> None:
    report = _read(tmp_path, _definition(actions))
    held = _held(report)
    assert statement in held
    # The other inception statements stay false: the classification is not "everything".
    inceptions = {s for s in held if s.startswith("inception:")}
    if statement.startswith("inception:"):
        assert inceptions == {statement}
    assert "transformation:signal_ambiguousActions" not in held
    signal = next(s for s in report["active_manifest"]["signals"] if s["id"] == statement)
    words = rubric.rubric()[1][statement]["reportText"]["true"]["en"]
    assert signal["text"] == words


def test_every_rubric_statement_is_implemented_and_tested() -> None:
    assert set(rubric.rubric()[1]) == set(rubric._STATEMENTS)
    tested = {c[0] for c in CASES} | {
        "inception:signal_mediaUnknownProvenance",
        "transformation:signal_ambiguousActions",
    }
    assert tested == set(rubric._STATEMENTS)


def test_ambiguous_when_actions_are_custom_or_not_all_included(tmp_path: Path) -> None:
    custom = _definition([_created(IPTC + "digitalCapture"), {"action": "com.example.warp"}])
    assert "transformation:signal_ambiguousActions" in _held(_read(tmp_path, custom))
    partial = _definition([_created(IPTC + "digitalCapture")], all_included=False)
    assert "transformation:signal_ambiguousActions" in _held(_read(tmp_path, partial))
    gathered = _definition([_created(IPTC + "digitalCapture")])
    assert "transformation:signal_ambiguousActions" in _held(
        _read(tmp_path, gathered, created=False)
    )


def test_unknown_provenance_for_an_ingredient_without_credentials(tmp_path: Path) -> None:
    plain = make_image(tmp_path / "plain.jpg", size=(32, 32), fmt="JPEG")
    definition = _definition(
        [_created(IPTC + "digitalCapture"), {**EDIT, "digitalSourceType": IPTC + "humanEdits"}]
    )
    report = _read(tmp_path, definition, ingredients=(plain,))
    assert "inception:signal_mediaUnknownProvenance" in _held(report)


def test_ingredient_manifests_are_classified_too(tmp_path: Path) -> None:
    child = _sign(tmp_path / "child.jpg", _definition([_created(IPTC + "trainedAlgorithmicMedia")]))
    parent = _definition([_created(IPTC + "digitalCreation")])
    report = _read(tmp_path, parent, ingredients=(child,), relationship="componentOf")
    node = report["ingredients"][0]
    assert "inception:signal_fullyGenAIMedia" in rubric.present(node["signals"])
    assert "inception:signal_fullyGenAIMedia" not in _held(report)


def test_summary_says_what_the_credentials_say(tmp_path: Path) -> None:
    actions = [
        _created(IPTC + "digitalCapture"),
        {**EDIT, "digitalSourceType": IPTC + "humanEdits"},
    ]
    report = _read(tmp_path, _definition(actions))
    assert report["signals_summary"] == (
        "Content Credentials say: captured with a camera or recorder, then edited without AI."
    )
    decision = decide(ReportFacts.from_report(report))
    assert decision.label == "provenance_verified"
    assert report["signals_summary"] in decision.summary


def test_algorithmic_media_is_synthetic_but_not_an_ai_declaration(tmp_path: Path) -> None:
    report = _read(tmp_path, _definition([_created(IPTC + "algorithmicMedia")]))
    assert report["ai_declared"] is False
    assert report["synthetic_declaration"]["source_type"]["name"] == "Pure algorithmic media"
    decision = decide(ReportFacts.from_report(report))
    assert decision.label == "provenance_verified"
    assert "not a generative-AI declaration" in decision.summary
    assert "inception:signal_fullyGenAIMedia" not in _held(report)


def test_trained_algorithmic_media_is_an_ai_declaration(tmp_path: Path) -> None:
    report = _read(tmp_path, _definition([_created(IPTC + "trainedAlgorithmicMedia")]))
    assert report["ai_declared"] is True
    assert report["synthetic_declaration"] is None
    assert decide(ReportFacts.from_report(report)).label == "declared_synthetic"


@pytest.mark.parametrize(
    ("code", "synthetic", "ai"),
    [
        ("digitalCapture", False, False),
        ("algorithmicMedia", True, False),
        ("trainedAlgorithmicMedia", True, True),
        ("compositeWithTrainedAlgorithmicMedia", True, True),
        ("digitalArt", True, False),
    ],
)
def test_iptc_words(code: str, synthetic: bool, ai: bool) -> None:
    words = iptc.describe(IPTC + code)
    assert words is not None
    assert (words["synthetic"], words["generative_ai"]) == (synthetic, ai)
    assert iptc.describe("urn:made-up")["name"] == "Unknown digital source type"  # type: ignore[index]
