"""Every IPTC digital source type is worded as IPTC publishes it (issue 8).

The expected words are restated here from the IPTC NewsCodes scheme
http://cv.iptc.org/newscodes/digitalsourcetype/ (JSON-LD, release 2024-10-23: ``prefLabel`` and
``definition`` in en-GB, retired terms with their last wording), independently of
``authcheck/pipeline/iptc.py``, so a paraphrase or a stale label fails its own test.
"""

from __future__ import annotations

import json

import pytest

from authcheck.pipeline import iptc
from authcheck.pipeline.provenance import findings_from_json
from dashboard.wording import source_type_words

# code: (name, definition, retired)
PUBLISHED = {
    "digitalCapture": (
        "Digital capture sampled from real life",
        "The media was captured from a real-life source using a digital camera or digital "
        "recording device",
        False,
    ),
    "computationalCapture": (
        "Multi-frame computational capture sampled from real life",
        "The media is the result of capturing multiple frames from a real-life source using a "
        "digital camera or digital recording device, then automatically merging them into a "
        "single frame using digital signal processing techniques and/or non-generative AI. "
        "Includes High Dynamic Range (HDR) processing common in smartphone camera apps.",
        False,
    ),
    "negativeFilm": (
        "Digitised from a transparent negative",
        "The media was digitised from a negative on film or other transparent medium",
        False,
    ),
    "positiveFilm": (
        "Digitised from a transparent positive",
        "The media was digitised from a positive on a transparency or other transparent medium",
        False,
    ),
    "print": (
        "Digitised from a non-transparent medium",
        "The media was digitised from a non-transparent medium such as a photographic print",
        False,
    ),
    "minorHumanEdits": (
        "Original media with minor human edits",
        "Minor augmentation or correction by a human, such as a digitally-retouched photo used "
        "in a magazine",
        True,
    ),
    "humanEdits": (
        "Human-edited media",
        "Augmentation, correction or enhancement by one or more humans using non-generative tools",
        False,
    ),
    "compositeWithTrainedAlgorithmicMedia": (
        "Edited using Generative AI",
        "Augmentation, correction or enhancement using a Generative AI model, such as with "
        "inpainting or outpainting operations",
        False,
    ),
    "algorithmicallyEnhanced": (
        "Algorithmically-altered media",
        "Modification or correction by algorithm without changing the main content of the media, "
        "initiated or configured by a human, such as sharpening or applying noise reduction",
        False,
    ),
    "softwareImage": (
        "Created by software",
        "The digital image was created by computer software",
        True,
    ),
    "digitalArt": ("Digital art", "Media created by a human using digital tools", True),
    "digitalCreation": (
        "Digital creation",
        "Media created by a human using non-generative tools",
        False,
    ),
    "dataDrivenMedia": (
        "Data-driven media",
        "Digital media representation of data via human programming or creativity",
        False,
    ),
    "trainedAlgorithmicMedia": (
        "Created using Generative AI",
        "Digital media created algorithmically using an Artificial Intelligence model trained on "
        "captured content",
        False,
    ),
    "algorithmicMedia": (
        "Pure algorithmic media",
        "Media created purely by an algorithm not based on any sampled training data, e.g. an "
        "image created by software using a mathematical formula",
        False,
    ),
    "screenCapture": (
        "Screen capture",
        "A capture of the contents of the screen of a computer or mobile device",
        False,
    ),
    "virtualRecording": (
        "Virtual event recording",
        "Live recording of virtual event based on Generative AI and/or captured elements",
        False,
    ),
    "composite": (
        "Composite of elements",
        "Mix or composite of several elements, any of which may or may not be generative AI",
        False,
    ),
    "compositeCapture": (
        "Composite of captured elements",
        "Mix or composite of several elements that are all captures of real life",
        False,
    ),
    "compositeSynthetic": (
        "Composite including generative AI elements",
        "Mix or composite of several elements, at least one of which is Generative AI",
        False,
    ),
}

RETIREMENT_NOTES = {
    "minorHumanEdits": "Retired. Use *humanEdits* instead.",
    "softwareImage": "Retired in June 2022. Use more specific terms instead.",
    "digitalArt": "Retired. Use *digitalCreation* instead.",
}


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_each_source_type_has_iptcs_published_name_and_definition(code: str) -> None:
    name, definition, retired = PUBLISHED[code]
    described = iptc.describe(iptc.IPTC_PREFIX + code)
    assert described is not None
    assert described["name"] == name + (" (retired term)" if retired else "")
    assert described["definition"] == definition
    assert described["note"] == RETIREMENT_NOTES.get(code)
    # The dashboard says the same words.
    assert source_type_words(iptc.IPTC_PREFIX + code) == described["name"]


def test_the_vocabulary_has_every_published_term_and_no_other() -> None:
    assert set(iptc._TYPES) == set(PUBLISHED)


@pytest.mark.parametrize(
    ("code", "synthetic", "generative_ai"),
    [
        ("digitalCapture", False, False),
        ("softwareImage", True, False),
        ("digitalArt", True, False),
        ("digitalCreation", True, False),
        ("algorithmicMedia", True, False),
        ("trainedAlgorithmicMedia", True, True),
        ("compositeSynthetic", True, True),
        ("compositeWithTrainedAlgorithmicMedia", True, True),
        ("composite", False, False),
    ],
)
def test_what_each_term_declares(code: str, synthetic: bool, generative_ai: bool) -> None:
    entry = iptc.lookup(code)
    assert entry is not None
    assert (entry.synthetic, entry.generative_ai) == (synthetic, generative_ai)


def test_software_and_human_digital_creations_are_synthetic_declarations_never_ai() -> None:
    for code in ("softwareImage", "digitalArt", "digitalCreation"):
        store = {
            "active_manifest": "m",
            "manifests": {
                "m": {
                    "assertions": [
                        {
                            "label": "c2pa.actions.v2",
                            "data": {
                                "actions": [
                                    {
                                        "action": "c2pa.created",
                                        "digitalSourceType": iptc.IPTC_PREFIX + code,
                                    }
                                ]
                            },
                        }
                    ]
                }
            },
            "validation_state": "Valid",
        }
        findings = findings_from_json(json.dumps(store))
        assert findings.ai_declared is False, code
        assert findings.synthetic_declaration is not None, code
        assert findings.synthetic_declaration["source_type"]["name"].startswith(PUBLISHED[code][0])


def test_an_unknown_term_is_named_as_unknown_not_guessed() -> None:
    described = iptc.describe(iptc.IPTC_PREFIX + "somethingElse")
    assert described is not None and described["name"] == "Unknown digital source type"
    assert source_type_words(iptc.IPTC_PREFIX + "somethingElse") == "somethingElse"
    assert source_type_words("") == "not stated"
