"""``python manage.py analyze [--json] URL_OR_FILE...``: the full pipeline, synchronously.

Each run is recorded as a check like any other (client ``cli``), so it shows up in the
dashboard and the audit trail. With one input the output is that check's result (and a refused
input exits 2). With several, every input is analyzed in turn: ``--json`` prints a list with one
entry per input (a result, or ``{"target", "error": {code, message}}``), text output prints one
block per input; the exit code is 2 when any input was refused, 1 when the tool itself failed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck import presenters
from authcheck.errors import AuthcheckError
from authcheck.models import Check, CheckClient, SourceType, User
from authcheck.selectors import checks_with_evidence
from authcheck.services import checks, processing
from authcheck.services.tokens import cli_user_ensure

from ._output import EXIT_TOOL_FAILURE, EXIT_USAGE, fail, print_json


def _submit(target: str, user: User) -> int:
    if target.startswith(("http://", "https://")) or "://" in target:
        return checks.check_create(
            user=user, client=CheckClient.CLI, url=target, enqueue=False
        ).check.pk
    path = Path(target)
    if not path.is_file():
        raise AuthcheckError(f"no such file: {target}", code="file_not_found")
    with open(path, "rb") as handle:
        return checks.check_create(
            user=user,
            client=CheckClient.CLI,
            upload=handle,
            filename=path.name,
            source_type=SourceType.FILE,
            enqueue=False,
        ).check.pk


class Command(BaseCommand):
    help = "Run the full pipeline on a URL or a local file and print the result."
    # The system checks import every URLconf and view (the API schema among them): about a
    # second of start-up a one-shot analysis never uses (``manage.py check`` runs them).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("targets", metavar="URL_OR_FILE", nargs="+")
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument("--user", default="cli", help="record the check as this user")

    def handle(self, *args: Any, **options: Any) -> None:
        targets: list[str] = options["targets"]
        try:
            user = cli_user_ensure(options["user"])
        except AuthcheckError as exc:
            fail(self, f"analyze: {exc}")
        if len(targets) == 1:
            self._one(targets[0], user, as_json=options["json"])
            return
        self._several(targets, user, as_json=options["json"])

    def _one(self, target: str, user: User, *, as_json: bool) -> None:
        try:
            check_id = _submit(target, user)
        except (AuthcheckError, OSError) as exc:
            fail(self, f"analyze: {exc}")
        data = self._run(check_id, user)
        if as_json:
            print_json(self, data)
        else:
            self._print_text(data)

    def _several(self, targets: list[str], user: User, *, as_json: bool) -> None:
        entries: list[dict[str, Any]] = []
        for target in targets:
            try:
                check_id = _submit(target, user)
            except (AuthcheckError, OSError) as exc:
                code = exc.code if isinstance(exc, AuthcheckError) else "file_unreadable"
                message = exc.message if isinstance(exc, AuthcheckError) else str(exc)
                entries.append({"target": target, "error": {"code": code, "message": message}})
                self.stderr.write(" ".join(f"analyze: {target}: {code}: {message}".split()))
                continue
            entries.append({"target": target, **self._run(check_id, user)})
            if not as_json:
                self._print_text(entries[-1])
        if as_json:
            print_json(self, entries)
        if any("check_id" not in entry for entry in entries):
            sys.exit(EXIT_USAGE)

    def _run(self, check_id: int, user: User) -> dict[str, Any]:
        try:
            processing.check_process(check_id, retry_transient=False)
        except Exception as exc:  # the tool itself failed, not the media
            fail(self, f"analyze: internal failure: {exc}", EXIT_TOOL_FAILURE)
        return self._result(check_id, user)

    @staticmethod
    def _result(check_id: int, user: User) -> dict[str, Any]:
        check = checks_with_evidence(Check.objects.all()).get(pk=check_id)
        full = presenters.check_to_dict(check)
        return {
            "check_id": check.pk,
            "status": full["status"],
            "media": full["media"],
            "verdict": full["verdict"],
            "provenance": full["provenance"],
            "signals": full["signals"],
            "similar": full["similar"],
            "stages": full["stages"],
            "error": full["error"],
        }

    def _print_text(self, data: dict[str, Any]) -> None:
        verdict = data["verdict"] or {}
        media = data["media"] or {}
        self.stdout.write(f"check #{data['check_id']}: {data['status']}")
        if media:
            self.stdout.write(f"media: {media['sha256']} ({media['mime']}, {media['size']} bytes)")
        self.stdout.write(f"verdict: {verdict.get('label')} [{verdict.get('rule')}]")
        self.stdout.write(f"  {verdict.get('summary', '')}")
        provenance = data["provenance"] or {}
        if provenance:
            self.stdout.write(f"provenance: {provenance.get('state')}")
            for failure in provenance.get("failures") or []:
                self.stdout.write(f"  - {failure.get('code')}: {failure.get('explanation')}")
