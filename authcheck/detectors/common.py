"""Helpers shared by several detectors (not a plugin): generator names, luma, original pixels.

Detector plugins import this module and the contract (``base``), never each other.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
from numpy.typing import NDArray
from PIL import Image

from authcheck.errors import MediaError, MediaTooLarge

MAX_PIXELS = 50_000_000

# Generator names. Matched case-insensitively as whole words; words that are ordinary Spanish or
# product words on their own ("Imagen", "Veo", "Firefly", "Flux") need a qualifier or version.
GENERATORS: tuple[tuple[str, str], ...] = (
    ("openai_dalle", r"dall[\s\-\u00b7]?e(?:[\s\-]?[23])?"),
    ("openai_sora", r"sora(?:[\s\-]?2)?"),
    ("openai_gpt_image", r"gpt[\s\-]?image[\s\-]?\d*|gpt[\s\-]?4o|chatgpt"),
    ("midjourney", r"midjourney"),
    ("stable_diffusion", r"stable[\s\-]?diffusion|sdxl|stability[\s.]?ai"),
    ("adobe_firefly", r"adobe\s+firefly|firefly\s+image(?:\s+\d)?"),
    ("google_imagen", r"google\s+imagen|imagen\s?\d"),
    ("google_veo", r"google\s+veo|veo\s?\d"),
    ("google_gemini", r"gemini(?:\s+\d[\w.]*)?\s+(?:flash\s+)?image|nano\s?banana"),
    ("runway", r"runway(?:\s?ml)?(?:\s+gen[\s\-]?\d)?"),
    ("kling", r"kling(?:\s?ai)?|klingmuse"),
    ("novelai", r"novel\s?ai"),
    ("leonardo_ai", r"leonardo[\s.]?ai"),
    ("ideogram", r"ideogram"),
    ("black_forest_labs_flux", r"flux\.1|flux\s+(?:pro|dev|schnell|kontext)|black\s+forest\s+labs"),
    ("comfyui", r"comfy\s?ui"),
    ("automatic1111", r"automatic1111"),
    ("invokeai", r"invoke\s?ai"),
    ("fooocus", r"fooocus"),
    ("pika", r"pika(?:\s?labs|\.art|\s+\d[\w.]*)"),
    ("luma", r"luma\s+(?:ai|dream\s+machine|ray\s?\d)|dream\s+machine"),
    ("hailuo_minimax", r"hailuo(?:\s?ai)?|minimax"),
    ("bytedance_jimeng", r"jimeng|dreamina|seedream|seedance|\u5373\u68a6"),
    ("vidu", r"vidu"),
    ("hunyuan", r"hunyuan"),
    ("craiyon", r"craiyon"),
)
_GENERATOR_RES = tuple(
    (producer, re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])", re.IGNORECASE))
    for producer, pattern in GENERATORS
)

pillow_heif.register_heif_opener()  # iPhone HEIC decodes like a JPEG


def generator_named(text: str) -> str | None:
    """The producer id of the first generator named (as a whole word) in ``text``, else None."""
    text = text[:1000]
    for producer, pattern in _GENERATOR_RES:
        if pattern.search(text):
            return producer
    return None


def to_gray(rgb: NDArray[Any]) -> NDArray[np.float64]:
    """Luma (BT.601 weights) as float64."""
    f = np.asarray(rgb, dtype=np.float64)
    return f @ np.array([0.299, 0.587, 0.114]) if f.ndim == 3 else f


def load_original(path: Path, max_pixels: int = MAX_PIXELS) -> NDArray[np.uint8]:
    """Decode the original image at full resolution as RGB (MediaTooLarge above
    ``max_pixels``, 50 MP unless the caller says otherwise)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > max_pixels:
                    raise MediaTooLarge(
                        f"{img.width}x{img.height} exceeds the {max_pixels:,} pixel decode cap"
                    )
                return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise MediaTooLarge(f"decompression bomb refused: {exc}") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise MediaError(f"image could not be decoded: {exc}") from exc
