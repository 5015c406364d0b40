"""IPTC Digital Source Type vocabulary, worded exactly as IPTC publishes it, plus the C2PA types.

Names (``prefLabel``) and definitions (en-GB) are those of the NewsCodes scheme
http://cv.iptc.org/newscodes/digitalsourcetype/ (JSON-LD release 2024-10-23), copied verbatim,
without trailing full stops as IPTC writes them; retired terms keep their last published wording
and IPTC's retirement note. ``tests/pipeline/test_iptc.py`` restates every term.

``generative_ai`` follows the C2PA Asset Signals Rubric's ``$genai_dst_types``; ``synthetic`` means
IPTC says no real-life capture is the source. ``algorithmicMedia`` is synthetic but NOT generative
AI: IPTC defines it as made purely by an algorithm without sampled training data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IPTC_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
C2PA_PREFIX = "http://c2pa.org/digitalsourcetype/"
VOCABULARY_RELEASE = "2024-10-23"


@dataclass(frozen=True)
class SourceType:
    """One digital source type: IPTC's name and definition, and what it declares."""

    name: str
    definition: str
    synthetic: bool = False
    generative_ai: bool = False
    retired: bool = False
    note: str = ""  # IPTC's note (retired terms: what to use instead)


_TYPES: dict[str, SourceType] = {
    "digitalCapture": SourceType(
        "Digital capture sampled from real life",
        "The media was captured from a real-life source using a digital camera or digital "
        "recording device",
    ),
    "computationalCapture": SourceType(
        "Multi-frame computational capture sampled from real life",
        "The media is the result of capturing multiple frames from a real-life source using a "
        "digital camera or digital recording device, then automatically merging them into a "
        "single frame using digital signal processing techniques and/or non-generative AI. "
        "Includes High Dynamic Range (HDR) processing common in smartphone camera apps.",
    ),
    "negativeFilm": SourceType(
        "Digitised from a transparent negative",
        "The media was digitised from a negative on film or other transparent medium",
    ),
    "positiveFilm": SourceType(
        "Digitised from a transparent positive",
        "The media was digitised from a positive on a transparency or other transparent medium",
    ),
    "print": SourceType(
        "Digitised from a non-transparent medium",
        "The media was digitised from a non-transparent medium such as a photographic print",
    ),
    "minorHumanEdits": SourceType(
        "Original media with minor human edits",
        "Minor augmentation or correction by a human, such as a digitally-retouched photo used "
        "in a magazine",
        retired=True,
        note="Retired. Use *humanEdits* instead.",
    ),
    "humanEdits": SourceType(
        "Human-edited media",
        "Augmentation, correction or enhancement by one or more humans using non-generative tools",
    ),
    "compositeWithTrainedAlgorithmicMedia": SourceType(
        "Edited using Generative AI",
        "Augmentation, correction or enhancement using a Generative AI model, such as with "
        "inpainting or outpainting operations",
        synthetic=True,
        generative_ai=True,
    ),
    "algorithmicallyEnhanced": SourceType(
        "Algorithmically-altered media",
        "Modification or correction by algorithm without changing the main content of the media, "
        "initiated or configured by a human, such as sharpening or applying noise reduction",
    ),
    "softwareImage": SourceType(
        "Created by software",
        "The digital image was created by computer software",
        synthetic=True,
        retired=True,
        note="Retired in June 2022. Use more specific terms instead.",
    ),
    "digitalArt": SourceType(
        "Digital art",
        "Media created by a human using digital tools",
        synthetic=True,
        retired=True,
        note="Retired. Use *digitalCreation* instead.",
    ),
    "digitalCreation": SourceType(
        "Digital creation",
        "Media created by a human using non-generative tools",
        synthetic=True,
    ),
    "dataDrivenMedia": SourceType(
        "Data-driven media",
        "Digital media representation of data via human programming or creativity",
        synthetic=True,
    ),
    "trainedAlgorithmicMedia": SourceType(
        "Created using Generative AI",
        "Digital media created algorithmically using an Artificial Intelligence model trained on "
        "captured content",
        synthetic=True,
        generative_ai=True,
    ),
    "algorithmicMedia": SourceType(
        "Pure algorithmic media",
        "Media created purely by an algorithm not based on any sampled training data, e.g. an "
        "image created by software using a mathematical formula",
        synthetic=True,
    ),
    "screenCapture": SourceType(
        "Screen capture",
        "A capture of the contents of the screen of a computer or mobile device",
    ),
    "virtualRecording": SourceType(
        "Virtual event recording",
        "Live recording of virtual event based on Generative AI and/or captured elements",
        synthetic=True,
    ),
    "composite": SourceType(
        "Composite of elements",
        "Mix or composite of several elements, any of which may or may not be generative AI",
    ),
    "compositeCapture": SourceType(
        "Composite of captured elements",
        "Mix or composite of several elements that are all captures of real life",
    ),
    "compositeSynthetic": SourceType(
        "Composite including generative AI elements",
        "Mix or composite of several elements, at least one of which is Generative AI",
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
            "note": None,
            "synthetic": False,
            "generative_ai": False,
        }
    return {
        "uri": str(uri),
        "name": entry.name + (" (retired term)" if entry.retired else ""),
        "definition": entry.definition,
        "note": entry.note or None,
        "synthetic": entry.synthetic,
        "generative_ai": entry.generative_ai,
    }
