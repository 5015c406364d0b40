"""JSON logs: one object per line with check id, stage and duration; no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pythonjsonlogger.json import JsonFormatter

from authcheck.logs import RedactSecrets, logging_config
from authcheck.models import Role, User
from authcheck.services import checks, processing
from tests.mediagen import make_image


def _json_handler(stream: io.StringIO) -> logging.Handler:
    """The production handler: the formatter and filter exactly as LOGGING configures them."""
    options: dict[str, Any] = dict(
        logging_config(level="INFO", as_json=True)["formatters"]["default"]
    )
    assert options.pop("()") == "pythonjsonlogger.json.JsonFormatter"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(**options))
    handler.addFilter(RedactSecrets())
    return handler


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = _json_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _events(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
def test_each_stage_logs_one_json_line_with_check_stage_and_duration(
    json_lines: io.StringIO, tmp_path: Path, enqueued: list[int], settings
) -> None:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    user = User.objects.create(username="l", role=Role.JOURNALIST)
    data = make_image(tmp_path / "p.jpg", size=(64, 48)).read_bytes()
    check = checks.check_create(user=user, upload=io.BytesIO(data), filename="p.jpg").check
    processing.check_process(check.pk)
    stages = [e for e in _events(json_lines) if e.get("event") == "stage"]
    assert [e["stage"] for e in stages] == [
        "provenance",
        "probe",
        "detectors",
        "similar",
        "verdict",
    ]
    for event in stages:
        assert event["check_id"] == check.pk and event["outcome"] == "done"
        assert isinstance(event["duration_ms"], float) and event["level"] == "INFO"
        assert {"time", "logger", "message", "process"} <= set(event)
    detector = next(e for e in _events(json_lines) if e.get("event") == "detector")
    assert detector["sha256"] == check.media.sha256 and detector["detector"] == "ai_labels"
    # Media bytes never reach a log line, not even their first bytes.
    assert data[:16].hex() not in json_lines.getvalue()


def test_tokens_and_passwords_are_masked_in_messages_and_arguments(json_lines: io.StringIO) -> None:
    log = logging.getLogger("authcheck.test")
    log.warning("token %s rejected", "ac_ab12cd34_s3cr3tS3CR3Ts3cr3t")
    log.warning("Authorization: Bearer abcdefghijklmnop")
    log.warning("broker %s down", "amqp://app:hunter2hunter2@rabbit:5672//")
    try:
        raise ValueError("postgres://app:pw-in-traceback@db/authcheck")
    except ValueError:
        log.exception("database")
    text = json_lines.getvalue()
    for secret in ("s3cr3tS3CR3Ts3cr3t", "abcdefghijklmnop", "hunter2hunter2", "pw-in-traceback"):
        assert secret not in text
    events = _events(json_lines)
    assert events[0]["message"] == "token ac_ab12cd34_[redacted] rejected"
    assert "amqp://app:[redacted]@rabbit" in events[2]["message"]
    assert len(events) == 4  # the traceback stays inside its event's line


def test_text_format_is_available_for_a_terminal() -> None:
    config = logging_config(level="DEBUG", as_json=False)
    assert "()" not in config["formatters"]["default"]
    assert config["handlers"]["console"]["filters"] == ["redact"]
