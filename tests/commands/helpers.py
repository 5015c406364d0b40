"""Running a management command the way a shell would see it: exit code, stdout, stderr."""

from __future__ import annotations

import pytest
from django.core.management import call_command


def run_command(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``manage.py ARGS...`` in-process; return (exit code, stdout, stderr)."""
    try:
        call_command(*args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
