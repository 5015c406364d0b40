"""Make attacker-influenced values safe for JSON columns (PostgreSQL rejects NUL in jsonb)."""

from __future__ import annotations

import math
import re
from typing import Any

# C0 controls except tab/newline/carriage return, DEL and C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(value: str, limit: int | None = None) -> str:
    """Strip control characters (including NUL) and lone surrogates from a string, and cap its
    length at ``limit`` characters. The one cleaner for attacker-controlled text."""
    value = value.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(value) else value
    cleaned = _CONTROL.sub("", value)
    return cleaned if limit is None else cleaned[:limit]


def _has_surrogate(value: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in value)


def json_safe(value: Any) -> Any:
    """Recursively convert to plain JSON types with clean strings (numpy scalars included)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {clean_text(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return json_safe(value.tolist())
    return clean_text(str(value))
