"""Attacker-controlled text helpers and the Range parser, as pure functions."""

from __future__ import annotations

import pytest

from dashboard.text import clipped, has_hidden, visible
from dashboard.views.detail import _byte_range
from dashboard.wording import failure_sentence, label_words, provenance_words


def test_visible_escapes_markup_and_marks_every_hidden_character() -> None:
    out = visible('<b onclick="x">\u202eabc\u200b\x00\x1b')
    assert "<b" not in out and "&lt;b onclick=&quot;x&quot;&gt;" in out
    for code in ("U+202E", "U+200B", "U+0000", "U+001B"):
        assert f"[{code}]" in out
    assert not any(ch in out for ch in "\u202e\u200b\x00\x1b")


def test_newlines_and_tabs_stay_text() -> None:
    assert visible("a\nb\tc") == "a\nb\tc"
    assert has_hidden("a\u2066b") and not has_hidden("plain")


def test_clipped_cuts_long_values_and_keeps_the_full_one_escaped() -> None:
    out = clipped("<i>" + "y" * 300, 50)
    assert "show all 303 characters" in out
    assert out.count("&lt;i&gt;") == 2 and "<i>" not in out
    assert clipped("short", 50) == "short"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-10", (990, 999)),
        ("bytes=900-5000", (900, 999)),
        ("bytes=1000-", None),
        ("bytes=5-2", None),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_byte_range(header: str, expected) -> None:
    assert _byte_range(header, 1000) == expected


def test_wording_never_calls_valid_verified() -> None:
    assert "verified" not in provenance_words("valid").lower()
    assert "unknown source" in label_words("provenance_untrusted")
    assert "not evidence of authenticity" in label_words("no_provenance")
    assert failure_sentence("assertion.somethingNew") == (
        "A statement inside the credentials failed its check."
    )
