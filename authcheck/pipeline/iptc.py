"""IPTC Digital Source Type vocabulary, worded as IPTC defines it
(cv.iptc.org/newscodes/digitalsourcetype, release 2024-10-23), plus the C2PA source types.

``generative_ai`` follows the C2PA Asset Signals Rubric's ``$genai_dst_types``; ``synthetic`` means
IPTC says no real-life capture is the source. ``algorithmicMedia`` is synthetic but NOT generative
AI: IPTC defines it as made purely by an algorithm without sampled training data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IPTC_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
C2PA_PREFIX = "http://c2pa.org/digitalsourcetype/"


@dataclass(frozen=True)
class SourceType:
    """One digital source type: IPTC's name and definition, and what it declares."""

    name: str
    definition: str
    synthetic: bool = False
    generative_ai: bool = False
    retired: bool = False


_TYPES: dict[str, SourceType] = {
    "digitalCapture": SourceType(
        "Digital capture sampled from real life",
        "The media was captured from a real-life source using a digital camera or digital "
        "recording device.",
    ),
    "computationalCapture": SourceType(
        "Multi-frame computational capture sampled from real life",
        "Several frames captured from a real-life source were merged automatically into one "
        "using signal processing and/or non-generative AI (e.g. smartphone HDR).",
    ),
    "negativeFilm": SourceType(
        "Digitised from a negative on film",
        "The media was digitised from a negative on film or other transparent medium.",
    ),
    "positiveFilm": SourceType(
        "Digitised from a positive on film",
        "The media was digitised from a positive on a transparency or other transparent medium.",
    ),
    "print": SourceType(
        "Digitised from a print on non-transparent medium",
        "The media was digitised from a printed non-transparent medium.",
    ),
    "minorHumanEdits": SourceType(
        "Original media with minor human edits",
        "Minor augmentation or correction by a human, such as a digitally-retouched photo.",
        retired=True,
    ),
    "humanEdits": SourceType(
        "Human-edited media",
        "Augmentation, correction or enhancement by one or more humans using non-generative tools.",
    ),
    "algorithmicallyEnhanced": SourceType(
        "Algorithmically-altered media",
        "Modification or correction by an algorithm without changing the main content, such as "
        "noise reduction or sharpening.",
    ),
    "softwareImage": SourceType(
        "Created by software",
        "The media was created by software, such as a rendering of a 3D scene.",
        synthetic=True,
    ),
    "digitalArt": SourceType(
        "Created by a human using digital tools",
        "Media created by a human using digital tools (digital art).",
        synthetic=True,
    ),
    "digitalCreation": SourceType(
        "Created by a human using non-generative tools",
        "Media created by a human using non-generative tools.",
        synthetic=True,
    ),
    "dataDrivenMedia": SourceType(
        "Data-driven media",
        "Digital media representation of data, such as text-to-speech or a visualisation.",
        synthetic=True,
    ),
    "trainedAlgorithmicMedia": SourceType(
        "Created using generative AI (trained algorithmic media)",
        "The media was created by a model derived from sampled content (generative AI).",
        synthetic=True,
        generative_ai=True,
    ),
    "algorithmicMedia": SourceType(
        "Pure algorithmic media",
        "Media created purely by an algorithm not based on any sampled training data, e.g. an "
        "image made by software from a mathematical formula. Synthetic, but not generative AI.",
        synthetic=True,
    ),
    "screenCapture": SourceType(
        "Screen capture",
        "The media is a capture of what a device's screen showed.",
    ),
    "virtualRecording": SourceType(
        "Virtual recording",
        "Live recording of a virtual event using a virtual camera, e.g. in a game or simulation.",
        synthetic=True,
    ),
    "composite": SourceType(
        "Composite of elements",
        "Mix or composite of several elements of any of the other types.",
    ),
    "compositeCapture": SourceType(
        "Composite of captured elements",
        "Mix or composite of several elements that are all captures of real life.",
    ),
    "compositeSynthetic": SourceType(
        "Composite including synthetic elements",
        "Mix or composite of several elements, at least one of which is synthetic (the C2PA "
        "rubric counts it among generative-AI types).",
        synthetic=True,
        generative_ai=True,
    ),
    "compositeWithTrainedAlgorithmicMedia": SourceType(
        "Composite with generative AI elements (trained algorithmic media)",
        "The media is a mix of content, at least part of which was created or edited with a "
        "model derived from sampled content (generative AI).",
        synthetic=True,
        generative_ai=True,
    ),
}

_C2PA_TYPES: dict[str, SourceType] = {
    "empty": SourceType("Blank canvas (C2PA)", "The media started from an empty canvas."),
    "trainedAlgorithmicData": SourceType(
        "Generative AI data (C2PA)",
        "Non-media data created by a model derived from sampled content.",
        synthetic=True,
        generative_ai=True,
    ),
}


def lookup(uri: Any) -> SourceType | None:
    """The vocabulary entry of a source type URI (or bare IPTC code), None when unknown."""
    text = str(uri or "").strip()
    if text.startswith(C2PA_PREFIX):
        return _C2PA_TYPES.get(text.removeprefix(C2PA_PREFIX).rstrip("/"))
    code = text.removeprefix(IPTC_PREFIX).removeprefix("https://cv.iptc.org/newscodes/")
    code = code.removeprefix("digitalsourcetype/").rstrip("/")
    return _TYPES.get(code)


def describe(uri: Any) -> dict[str, Any] | None:
    """JSON words for a source type: IPTC name, definition, synthetic and AI flags."""
    if not uri:
        return None
    entry = lookup(uri)
    if entry is None:
        return {
            "uri": str(uri),
            "name": "Unknown digital source type",
            "definition": "Not a term of the IPTC or C2PA vocabularies.",
            "synthetic": False,
            "generative_ai": False,
        }
    return {
        "uri": str(uri),
        "name": entry.name + (" (retired term)" if entry.retired else ""),
        "definition": entry.definition,
        "synthetic": entry.synthetic,
        "generative_ai": entry.generative_ai,
    }
