"""Attacker-controlled text made safe to show: escaped, control characters made visible, long
values cut with the full value one click away. Output is built only from escaped pieces
(``escape``/``format_html``), never by marking raw input safe."""

from __future__ import annotations

import unicodedata

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

# Bidirectional overrides and isolates reorder what a reader sees (the "Trojan Source" trick);
# zero-width characters hide text. All are shown as a visible marker instead.
_INVISIBLE = {
    0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
    0x2066, 0x2067, 0x2068, 0x2069, 0x061C, 0xFEFF, 0x2060, 0x00AD,
}  # fmt: skip


def _is_hidden(ch: str) -> bool:
    code = ord(ch)
    if ch in "\n\t":
        return False
    return code in _INVISIBLE or unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cs"}


def _marker(ch: str) -> SafeString:
    code = f"U+{ord(ch):04X}"
    name = unicodedata.name(ch, "control character")
    return format_html('<span class="ctl" title="{}">[{}]</span>', name, code)


def visible(value: object) -> SafeString:
    """Escape ``value`` and replace every control or bidi character with a visible marker."""
    text = "" if value is None else str(value)
    out = SafeString("")
    run: list[str] = []
    for ch in text:
        if _is_hidden(ch):
            out += escape("".join(run)) + _marker(ch)
            run = []
        else:
            run.append(ch)
    return out + escape("".join(run))


def has_hidden(value: object) -> bool:
    """True when the text holds a control or bidi character (worth a warning)."""
    return any(_is_hidden(ch) for ch in str(value or ""))


def clipped(value: object, limit: int = 160) -> SafeString:
    """``visible`` text cut at ``limit`` characters; the full value sits in a <details>."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return visible(text)
    return format_html(
        '<details class="clip"><summary>{}… <span class="more">(show all {} characters)</span>'
        '</summary><div class="full">{}</div></details>',
        visible(text[:limit]),
        len(text),
        visible(text),
    )
