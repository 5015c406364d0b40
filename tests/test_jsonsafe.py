"""Values headed for JSON columns lose NUL and control characters, nothing else."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from authcheck.jsonsafe import clean_text, json_safe


def test_it_strips_nul_and_controls_but_keeps_text_and_markup() -> None:
    assert clean_text("a\x00b\x1bc\u202ed<script>\x85") == "abc\u202ed<script>"
    assert clean_text("line\nnext\ttab") == "line\nnext\ttab"


def test_it_converts_numpy_values_and_drops_non_finite_floats() -> None:
    data = json_safe({"a": np.float32(0.5), "b": np.arange(3), "c": float("nan"), 1: b"\x01"})
    assert data == {"a": 0.5, "b": [0, 1, 2], "c": None, "1": "01"}


@given(
    st.recursive(
        st.text() | st.integers() | st.floats() | st.none() | st.booleans(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    )
)
def test_whatever_goes_in_comes_out_as_strict_json_without_nul(value: object) -> None:
    text = json.dumps(json_safe(value), allow_nan=False)
    assert "\\u0000" not in text
    text.encode("utf-8")
