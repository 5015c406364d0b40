"""Logging: one JSON object per line in production, with secrets masked before formatting.

Events carry their context as ``extra`` fields (``check_id``, ``stage``, ``duration_ms``), so
a log pipeline can filter on them. Nothing logs media bytes; the redaction filter also masks
API tokens, bearer credentials and passwords in URLs should a message or argument carry one.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_REDACTIONS = (
    (re.compile(r"(?i)\b(bearer)\s+[^\s\"',]{8,}"), r"\1 [redacted]"),
    # authcheck API tokens: ac_<prefix>_<secret>; the prefix alone identifies, never grants
    (re.compile(r"\bac_([A-Za-z0-9]{4,16})_[A-Za-z0-9_\-]{8,}"), r"ac_\1_[redacted]"),
    # user:password@ in database, broker and storage URLs
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@]*):[^/\s@]+@"), r"\1:[redacted]@"),
    (re.compile(r"(?i)\b(aws_secret_access_key|secret_key|password)=\S+"), r"\1=[redacted]"),
)


def redact(text: str) -> str:
    """``text`` with tokens, bearer credentials and URL passwords masked."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Masks secrets in a record's message (arguments included) and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the event
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # Formatters re-render exc_info when it is present; keep only the masked text.
            record.exc_text, record.exc_info = redact(record.exc_text), None
        return True


def logging_config(*, level: str, as_json: bool) -> dict[str, Any]:
    """The ``LOGGING`` dict: JSON lines (``as_json``) or plain text, both redacted."""
    json_formatter = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        "timestamp": False,
        "datefmt": "%Y-%m-%dT%H:%M:%S%z",
    }
    text_formatter = {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "authcheck.logs.RedactSecrets"}},
        "formatters": {"default": json_formatter if as_json else text_formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # Django logs every 4xx with the request path; ours are in the access log already.
        "loggers": {"django.request": {"level": "ERROR"}},
    }
