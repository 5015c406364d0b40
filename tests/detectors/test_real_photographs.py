"""Real photographs exported as an editor or a platform would (JPEG q80 through Pillow, no
metadata) never get a ``synthetic_indicators`` verdict from the registered detectors.

The photographs are from the evaluation split of ``scripts/real_sources.py``: neither the
reference tables nor the thresholds were measured on them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image

from authcheck.detectors.runner import run_detector
from authcheck.management.commands.evaluate_detectors import _context
from authcheck.pipeline.verdict import SignalFacts, decide
from authcheck.registry import detectors_enabled

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import real_sources

HANDFUL = 6


def _handful() -> list[real_sources.Source]:
    photos = real_sources.sources("evaluation")
    by_origin: dict[str, list[real_sources.Source]] = {}
    for source in photos:
        by_origin.setdefault(source.origin, []).append(source)
    picked = [s for group in zip(*by_origin.values(), strict=False) for s in group]
    return (picked + [p for p in photos if p not in picked])[:HANDFUL]


@pytest.mark.slow
@pytest.mark.parametrize("source", _handful(), ids=lambda s: s.name)
def test_a_real_photograph_exported_at_jpeg_q80_gets_no_synthetic_indicators(source, tmp_path):
    path = tmp_path / "export.jpg"
    rgb = Image.fromarray(real_sources.load(source, max_side=1200))
    rgb.save(path, "JPEG", quality=80)  # an editor's "export for web": no metadata
    ctx = _context(path)

    signals = [run_detector(d, ctx) for d in detectors_enabled() if ctx.kind in d.media_kinds]
    facts = [
        SignalFacts.from_dict({"detector": d.name, "label": s.label, "score": s.score,
                               "error": s.error, "evidence": s.evidence})
        for d, s in zip((d for d in detectors_enabled() if ctx.kind in d.media_kinds), signals,
                        strict=True)
    ]  # fmt: skip

    decision = decide(None, facts)

    assert decision.label == "no_provenance", decision.summary
    assert any(f.detector == "spectral_artifacts" and f.score is not None for f in facts)
