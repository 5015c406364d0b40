"""Pure reading of an audit event's body, shared by the audit writer and the read side."""

from __future__ import annotations

import datetime as dt
from typing import Any


def event_time(body: Any) -> dt.datetime | None:
    """The hashed time of an event (its body's ``at``), or None if the body has none."""
    text = body.get("at") if isinstance(body, dict) else None
    try:
        return dt.datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
