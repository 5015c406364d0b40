"""Template filters for attacker-controlled text, badges and plain-language wording."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from dashboard import text, wording

register = template.Library()


@register.filter
def visible(value: object) -> SafeString:
    """Escaped text with control and bidi characters shown as markers."""
    return text.visible(value)


@register.filter
def clip(value: object, limit: int = 160) -> SafeString:
    """Escaped, marked text cut at ``limit`` characters with the full value in a <details>."""
    return text.clipped(value, int(limit))


@register.filter
def has_hidden(value: object) -> bool:
    """True when the text holds control or bidi characters."""
    return text.has_hidden(value)


@register.filter
def label_words(value: str) -> str:
    """A verdict label or reviewer decision in words."""
    return wording.label_words(value)


@register.filter
def badge_class(value: str) -> str:
    """The CSS class of a verdict label's badge (colour is never the only carrier)."""
    return wording.badge_class(value)


@register.filter
def provenance_words(value: str) -> str:
    """A C2PA report state in words; ``valid`` is never called verified."""
    return wording.provenance_words(value)


@register.filter
def failure_words(code: str) -> str:
    """A plain sentence explaining a C2PA failure code."""
    return wording.failure_sentence(code)


@register.filter
def source_type_words(value: str) -> str:
    """An IPTC digital source type in words."""
    return wording.source_type_words(value)


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """``mapping[key]`` in a template, None when absent."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def pct(value: Any) -> str:
    """A fraction in [0, 1] as a whole-number percentile text."""
    try:
        return f"{float(value) * 100:.0f}"
    except (TypeError, ValueError):
        return "n/a"


@register.filter
def domain(url: str) -> str:
    """The host of a URL, for the queue's source column."""
    from urllib.parse import urlsplit

    try:
        return urlsplit(url or "").hostname or ""
    except ValueError:
        return ""


@register.filter
def review_state(check: Any) -> dict[str, str]:
    """A queue row's review state: decided, awaiting sign-off, in review or new."""
    if getattr(check, "current_decision", ""):
        return {"text": "Decided", "css": "ok"}
    if getattr(check, "awaiting", False):
        return {"text": "Awaiting sign-off", "css": "warn"}
    try:
        workflow = check.workflow
    except AttributeError:  # RelatedObjectDoesNotExist: no workflow row yet
        workflow = None
    if workflow is not None and workflow.state == "in_review":
        return {"text": "In review", "css": "info"}
    return {"text": "New", "css": "neutral"}


@register.filter
def assignee_name(check: Any) -> str:
    """The assignee's user name, or empty."""
    try:
        workflow = check.workflow
    except AttributeError:
        return ""
    return workflow.assignee.username if workflow and workflow.assignee else ""


@register.filter
def running(check: Any) -> bool:
    """True while a check is queued or running (its queue row polls)."""
    return getattr(check, "status", "") in {"queued", "running"}


@register.filter
def as_text(value: Any) -> str:
    """A scalar as it is; a list or dict as compact JSON (escaped by the template)."""
    import json

    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return "" if value is None else str(value)
