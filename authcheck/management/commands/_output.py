"""Shared helpers for the command-line interface: exit codes and one-line errors."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand

EXIT_OK = 0
EXIT_TOOL_FAILURE = 1
EXIT_USAGE = 2


def fail(command: BaseCommand, message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print a one-line message on stderr and exit with ``code``."""
    command.stderr.write(" ".join(message.split()))
    sys.exit(code)


def print_json(command: BaseCommand, data: Any) -> None:
    """Print machine-readable output."""
    command.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str))
