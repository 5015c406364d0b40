"""Whole-frame and tile PDQ hashes of a sampled frame, for tracing partly altered footage.

After black-border removal (``near_duplicate.black_borders``), each frame gets:

- ``full``: the PDQ hash of the whole picture;
- ``c90``: the centre 90 % (only stored for reference frames), so a copy cropped by up to ~10 %
  and then scaled back up still finds its source frame on the whole-frame hash;
- ``t<r><c>``: a fixed grid of ``GRID`` x ``GRID`` overlapping tiles, each half the picture's
  width and height, placed every quarter (tile ``t00`` covers the top-left quarter-by-quarter
  cells 0-1 x 0-1, ``t22`` the bottom-right ones). A face, mouth, logo or caption replaced in one
  region changes the hashes of the tiles that contain it and leaves the others matching.

For the report the picture is divided into ``CELLS`` x ``CELLS`` cells (quarters of each side);
a cell is *differing* when every tile that covers it failed to match, so one altered tile never
marks the cells it shares with intact tiles.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from authcheck.detectors.near_duplicate import black_borders, pdq

GRID = 3  # tiles per side
CELLS = GRID + 1  # tiles of half size placed every quarter cover 4 x 4 quarter cells
CROP_VARIANT = "c90"
FULL = "full"
TILE_VARIANTS = tuple(f"t{r}{c}" for r in range(GRID) for c in range(GRID))


def tile_cells(variant: str) -> list[tuple[int, int]]:
    """The four (row, column) quarter cells that tile ``variant`` (``t<r><c>``) covers."""
    r, c = int(variant[1]), int(variant[2])
    return [(r + dr, c + dc) for dr in (0, 1) for dc in (0, 1)]


def frame_entries(
    rgb: NDArray[np.uint8], *, frame_index: int, timestamp: float, reference: bool
) -> list[dict[str, Any]]:
    """Hash entries (near-duplicate evidence shape) of one frame: full, tiles, and c90 for
    reference frames. Every entry is kept, low quality included (the lookup skips those)."""
    picture = np.asarray(rgb, dtype=np.uint8)
    top, bottom, left, right = black_borders(picture)
    content = picture[top : picture.shape[0] - bottom, left : picture.shape[1] - right]
    height, width = content.shape[:2]
    pictures: dict[str, NDArray[np.uint8]] = {FULL: content}
    if reference:
        dy, dx = height // 20, width // 20
        pictures[CROP_VARIANT] = content[dy : height - dy, dx : width - dx]
    half_h, half_w = height // 2, width // 2
    for r in range(GRID):
        for c in range(GRID):
            y, x = r * height // 4, c * width // 4
            pictures[f"t{r}{c}"] = content[y : y + half_h, x : x + half_w]
    entries = []
    for variant, part in pictures.items():
        value, quality = pdq(part)
        entries.append(
            {
                "frame_index": frame_index,
                "timestamp": round(float(timestamp), 3),
                "variant": variant,
                "quality": quality,
                "hash": f"{value:064x}",
            }
        )
    return entries
