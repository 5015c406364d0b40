"""``python manage.py verify [--json] FILE...``: the C2PA report of each file (SPEC section 3).

Exit 0 when every file was processed, whatever its state; 2 when a file is missing or
unreadable (nothing is verified then); 1 when the tool itself fails.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.services.verify import verify_path

from ._output import EXIT_TOOL_FAILURE, fail, print_json

STATE_TEXT = {
    "trusted": "signed by a signer on a configured trust list",
    "valid": "intact, but the signer is on no configured trust list: unknown source, not verified",
    "invalid": "Content Credentials are present but fail validation",
    "absent": "no Content Credentials (this is not evidence of authenticity)",
    "unsupported": "not a format the C2PA verifier reads",
    "error": "the Content Credentials could not be verified",
}


def visible(text: Any) -> str:
    """Make invisible format characters (bidi overrides, zero-width) visible in a terminal."""
    return "".join(
        f"<U+{ord(ch):04X}>" if unicodedata.category(ch) in {"Cf", "Cc"} else ch for ch in str(text)
    )


class Command(BaseCommand):
    help = "Verify the C2PA Content Credentials of local files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--json", action="store_true", help="print a JSON array")

    def handle(self, *args: Any, **options: Any) -> None:
        paths = [Path(name) for name in options["files"]]
        for path in paths:
            if not path.is_file() or not os.access(path, os.R_OK):
                fail(self, f"verify: cannot read {path}: no such readable file")
        reports = []
        for path in paths:
            try:
                reports.append(verify_path(path))
            except OSError as exc:
                fail(self, f"verify: cannot read {path}: {exc.strerror or exc}")
            except Exception as exc:  # the tool failed, not the media
                fail(self, f"verify: internal failure on {path}: {exc}", EXIT_TOOL_FAILURE)
        if options["json"]:
            print_json(self, reports)
        else:
            for report in reports:
                self._print_text(report)

    def _print_text(self, report: dict[str, Any]) -> None:
        write = self.stdout.write
        write(f"{visible(report['file'])}")
        write(
            f"  sha256: {report['sha256']} ({report['mime'] or 'unknown type'}, "
            f"{report['size']} bytes)"
        )
        state = report["state"]
        write(f"  state: {state} - {STATE_TEXT.get(state, state)}")
        if report.get("error"):
            write(f"  error: {report['error']['code']}: {visible(report['error']['message'])}")
        self._print_manifest(report.get("active_manifest"))
        if report.get("ai_declared"):
            decl = report["ai_declaration"] or {}
            where = "an ingredient" if decl.get("in_ingredient") else "the active manifest"
            write(
                f"  AI declared in {where}: {visible(decl.get('digital_source_type'))} "
                f"(software agent: {visible(decl.get('software_agent'))})"
            )
        for failure in report.get("failures") or []:
            write(f"  failure {failure['code']}: {visible(failure['explanation'])}")
        self._print_trust(report.get("trust"))
        if report.get("signals_summary"):
            write(f"  {visible(report['signals_summary'])}")
        for signal in (report.get("active_manifest") or {}).get("signals") or []:
            if signal["value"]:
                write(f"  signal {signal['id']}: {visible(signal['text'])}")
        remote = report.get("remote_manifest")
        if remote:
            fetched = f"fetched, sha256 {remote.get('sha256')}" if remote.get("fetched") else ""
            write(
                f"  remote manifest: {visible(remote.get('url'))} {fetched or remote.get('error')}"
            )
        self._print_ingredients(report.get("ingredients") or [], depth=1)

    def _print_trust(self, trust: dict[str, Any] | None) -> None:
        if not trust:
            return
        write = self.stdout.write
        write(f"  trust lists matched: {', '.join(trust['matched_lists']) or 'none'}")
        for cert in trust.get("chain") or []:
            write(
                f"  certificate: {visible(str(cert.get('subject')))} "
                f"(valid {cert.get('not_before')} to {cert.get('not_after')})"
            )
        stamp = trust.get("timestamp") or {}
        if stamp.get("present"):
            lists = ", ".join(stamp.get("matched_lists") or []) or "no list"
            state = "trusted" if stamp.get("trusted") else "untrusted"
            who = visible(stamp.get("authority"))
            write(f"  timestamp: {stamp.get('time')} by {who}, {state} ({lists})")
        legacy = trust.get("legacy")
        if legacy:
            state = f"trusted via {legacy['via']}" if legacy["trusted"] else "not on it"
            write(f"  {legacy['label']}: {state} (not the C2PA trusted state)")
        revocation = trust.get("revocation") or {}
        if revocation.get("checked"):
            write(f"  OCSP: {revocation.get('status')} at {revocation.get('produced_at')}")

    def _print_manifest(self, manifest: dict[str, Any] | None) -> None:
        if not manifest:
            return
        signer = manifest.get("signer") or {}
        self.stdout.write(f"  title: {visible(manifest.get('title'))}")
        self.stdout.write(f"  claim generator: {visible(manifest.get('claim_generator'))}")
        self.stdout.write(
            f"  signer: {visible(signer.get('common_name'))} "
            f"(issued by {visible(signer.get('issuer'))}, {signer.get('algorithm')})"
        )
        for action in manifest.get("actions") or []:
            self.stdout.write(
                f"  action: {visible(action.get('action'))} "
                f"{visible(action.get('digital_source_type') or '')}"
            )

    def _print_ingredients(self, ingredients: list[dict[str, Any]], depth: int) -> None:
        for ingredient in ingredients:
            codes = ", ".join(f["code"] for f in ingredient.get("failures") or [])
            self.stdout.write(
                f"{'  ' * depth}ingredient: {visible(ingredient.get('title'))} "
                f"[{ingredient.get('relationship')}] {ingredient.get('state')}"
                + (f": {visible(codes)}" if codes else "")
            )
            self._print_ingredients(ingredient.get("ingredients") or [], depth + 1)
