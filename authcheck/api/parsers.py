"""A JSON parser that refuses deep nesting before the recursive decoder sees it.

Python's ``json`` recurses once per array or object: about 1,000 levels (a few KB of ``[``)
raise ``RecursionError``, which is not a ``ValueError`` and would surface as a 500. The depth is
measured on the raw bytes first, with string contents removed so brackets inside strings do not
count; the body is already capped by ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
"""

from __future__ import annotations

import io
import re
from typing import Any

from rest_framework.parsers import JSONParser

# No request body of this API nests deeper than a few levels; 64 leaves room for extension data.
MAX_JSON_DEPTH = 64
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(raw: bytes) -> int:
    """The deepest array/object nesting in ``raw`` JSON bytes (0 for a scalar); strings ignored."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser behind a nesting-depth check (400 ``json_too_deep``)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """Parse ``stream`` as JSON unless it nests deeper than ``MAX_JSON_DEPTH``."""
        # Imported here: DRF loads this parser while authcheck.api.errors is still importing.
        from authcheck.api.errors import ApiProblem

        raw = stream.read() if stream is not None else b""
        if json_depth(raw) > MAX_JSON_DEPTH:
            raise ApiProblem(
                f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels",
                code="json_too_deep",
                status=400,
            )
        return super().parse(io.BytesIO(raw), media_type, parser_context)
