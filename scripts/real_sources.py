"""The real photographs the indicators are calibrated and evaluated on, and how they are split.

Every source is a photograph (or a camera clip) installed from a wheel or a Debian package, never
downloaded by this code. Sources are grouped by *scene*: two files of the same scene (a stereo
pair, two frames of one sequence) form one group, and a group goes to exactly one split:

- ``reference``: the percentile tables of ``authcheck/detectors/reference_data.json``;
- ``calibration``: where ``scripts/build_reference.py`` sets each indicator's ``indicator_high``
  threshold (at most 1% of real samples above it) and its strict threshold;
- ``evaluation``: the real class of ``scripts/build_evalset.py``, never seen by the other two.

The split is by group, never by crop, and deterministic: within each origin (wheel or package)
groups are ordered by the SHA-256 of their name and dealt round-robin, so every split gets a mix
of origins. A source whose file is not installed is skipped (and listed by ``missing()``), so the
scripts still run on a machine with only the wheels; ``scripts/test`` installs the packages.

Excluded on purpose (not camera images): renders and illustrations (every GNOME and UKUI wallpaper
installed here, most KDE wallpapers, Blender_Suzanne, HappyFish, logos, pic1-6, cards, smarties),
paintings (starry_night), edited or synthetic-blur demos (ela_modified, licenseplate_motion,
text_defocus, text_motion), KDE ``Kite`` (a logo composited onto a photo), animation (Megamind).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

SPLITS = ("reference", "calibration", "evaluation")
# Large wallpapers are downscaled (Lanczos, never upscaled) so crops look like what a newsroom
# receives and the builds stay bounded; 1600 px is a common platform size.
MAX_SIDE = 1600
OPENCV = Path("/usr/share/doc/opencv-doc/examples/data")
KDE = Path("/usr/share/wallpapers")
KDE_LICENCE = "LGPL-3.0 (metadata.json of the wallpaper)"
OPENCV_LICENCE = (
    "opencv-doc debian/copyright, Files: * (Apache-2.0 AND BSD-3-Clause); test images of "
    "various origin (several are USC-SIPI scans)"
)


@dataclass(frozen=True)
class Source:
    """One installed real photograph or camera clip."""

    name: str  # stable id, e.g. "kde/Path"
    group: str  # the scene; the unit of the split
    origin: str  # wheel or Debian package it ships in
    licence: str
    path: Path
    kind: str = "image"  # "image" or "video"
    author: str = ""


def _skimage(name: str) -> Path:
    import skimage

    return Path(skimage.__file__).parent / "data" / name


def _matplotlib(name: str) -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / name


SKIMAGE_PHOTOS = (
    "astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png",
    "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png", "motorcycle_left.png",
    "motorcycle_right.png", "retina.jpg", "rocket.jpg",
)  # fmt: skip
# scikit-image photos left out: moon.png (an upscaled scan: 2x upsampling peaks), clock_motion.png
# (synthetic motion blur), and the synthetic graphics and microscopy images.
KDE_PHOTOS = {
    "BytheWater": ("2560x1600.jpg", "Maciej Wiklo"),
    "ColdRipple": ("2560x1600.jpg", "Risto Saukonpää"),
    "ColorfulCups": ("2560x1600.jpg", "Dmitri Popov"),
    "DarkestHour": ("2560x1600.jpg", "Risto Saukonpää"),
    "EveningGlow": ("2560x1600.jpg", "Ian Hex"),
    "FallenLeaf": ("2560x1600.jpg", "Martin Klapetek"),
    "Grey": ("2560x1600.jpg", "Sigi Sagi"),
    "OneStandsOut": ("2560x1600.jpg", "Risto Saukonpää"),
    "Path": ("2560x1600.jpg", "Risto Saukonpää"),
    "Volna": ("5120x2880.jpg", "Nikita Babin"),  # CC-BY-SA-4.0, see _kde()
    "summer_1am": ("2560x1600.jpg", "Risto Saukonpää"),
}
# OpenCV sample photographs by scene (one group per scene).
OPENCV_PHOTOS = {
    "aero": ("aero1.jpg", "aero3.jpg"),
    "aloe": ("aloeL.jpg", "aloeR.jpg"),
    "apple": ("apple.jpg",),
    "baboon": ("baboon.jpg",),
    "basketball": ("basketball1.png", "basketball2.png"),
    "board": ("board.jpg",),
    "box": ("box_in_scene.png",),
    "building": ("building.jpg",),
    "butterfly": ("butterfly.jpg",),
    "chicky": ("chicky_512.png",),
    "ela": ("ela_original.jpg",),
    "fruits": ("fruits.jpg",),
    "graf": ("graf1.png", "graf3.png"),
    "home": ("home.jpg",),
    "leuven": ("leuvenA.jpg", "leuvenB.jpg"),
    "messi": ("messi5.jpg",),
    "orange": ("orange.jpg",),
    "rubberwhale": ("rubberwhale1.png", "rubberwhale2.png"),
    "squirrel": ("squirrel_cls.jpg",),
    "stereo_calib": ("left01.jpg", "right01.jpg", "left07.jpg", "right07.jpg"),
    "stuff": ("stuff.jpg",),
}
# Real camera footage (a fixed surveillance camera, pedestrians), used by the evaluation only.
OPENCV_CLIPS = {"vtest": "vtest.avi"}


def catalogue() -> list[Source]:
    """Every known source, installed or not, in a fixed order."""
    out = [
        Source(f"skimage/{n}", f"skimage/{n}", "scikit-image wheel", "BSD-3-Clause (scikit-image "
               "data/README; some images public domain or CC0)", _skimage(n))
        for n in SKIMAGE_PHOTOS
    ]  # fmt: skip
    out.append(
        Source("matplotlib/grace_hopper.jpg", "matplotlib/grace_hopper.jpg", "matplotlib wheel",
               "public domain (US Navy photograph)", _matplotlib("grace_hopper.jpg"))
    )  # fmt: skip
    for name, (file, author) in KDE_PHOTOS.items():
        licence = "CC-BY-SA-4.0 (metadata.json)" if name == "Volna" else KDE_LICENCE
        path = KDE / name / "contents" / "images" / file
        out.append(Source(f"kde/{name}", f"kde/{name}", "plasma-workspace-wallpapers", licence,
                          path, author=author))  # fmt: skip
    for group, files in OPENCV_PHOTOS.items():
        for file in files:
            out.append(Source(f"opencv/{file}", f"opencv/{group}", "opencv-doc", OPENCV_LICENCE,
                              OPENCV / file))  # fmt: skip
    for group, file in OPENCV_CLIPS.items():
        out.append(Source(f"opencv/{file}", f"opencv/{group}", "opencv-doc", OPENCV_LICENCE,
                          OPENCV / file, kind="video"))  # fmt: skip
    return out


def _order(group: str) -> str:
    return hashlib.sha256(group.encode()).hexdigest()


def split_of_groups(sources: list[Source]) -> dict[str, str]:
    """Group -> split, dealt round-robin per origin in SHA-256 order (deterministic)."""
    out: dict[str, str] = {}
    for origin in sorted({s.origin for s in sources}):
        groups = sorted({s.group for s in sources if s.origin == origin and s.kind == "image"},
                        key=_order)  # fmt: skip
        for i, group in enumerate(groups):
            out[group] = SPLITS[i % len(SPLITS)]
    for s in sources:
        if s.kind == "video":  # the only camera footage: kept for the evaluation
            out[s.group] = "evaluation"
    return out


def installed() -> list[Source]:
    """The catalogued sources whose files exist on this machine."""
    return [s for s in catalogue() if s.path.is_file()]


def missing() -> list[Source]:
    """The catalogued sources not installed here (their package is missing)."""
    return [s for s in catalogue() if not s.path.is_file()]


def sources(split: str, kind: str = "image") -> list[Source]:
    """The installed sources of one split (split assignment ignores what is installed)."""
    splits = split_of_groups(catalogue())
    return [s for s in installed() if splits[s.group] == split and s.kind == kind]


def load(source: Source, max_side: int = MAX_SIDE) -> np.ndarray:
    """The source photograph as RGB, downscaled (Lanczos) so its longer side is <= max_side."""
    with Image.open(source.path) as img:
        rgb = img.convert("RGB")
    if max(rgb.size) > max_side:
        scale = max_side / max(rgb.size)
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(rgb)


def photos(split: str) -> list[tuple[str, np.ndarray]]:
    """(name, RGB) of every installed photograph of ``split``."""
    return [(s.name, load(s)) for s in sources(split)]


def table() -> Iterator[str]:
    """Markdown rows: source, origin, licence, split, installed (for docs/EVALUATION.md)."""
    splits = split_of_groups(catalogue())
    for s in catalogue():
        yield (f"| {s.name} | {s.group} | {s.origin} | {s.licence} | {splits[s.group]} | "
               f"{'yes' if s.path.is_file() else 'no'} |")  # fmt: skip


if __name__ == "__main__":
    for row in table():
        print(row)
