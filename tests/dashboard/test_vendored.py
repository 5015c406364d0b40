"""The vendored browser code is what the lockfile pins, and nothing is loaded from elsewhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def test_vendored_htmx_is_the_locked_version() -> None:
    lock = json.loads((DASHBOARD / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/htmx.org"]["version"]
    package = json.loads((DASHBOARD / "package.json").read_text())
    assert package["dependencies"]["htmx.org"] == locked  # exact pin, no range
    vendored = (DASHBOARD / "static/dashboard/vendor/htmx.min.js").read_text()
    assert f'version:"{locked}"' in vendored
    assert f"| {locked} |" in (DASHBOARD / "VENDOR.md").read_text()


def test_templates_load_nothing_from_another_origin() -> None:
    for template in (DASHBOARD / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), template
        assert "|safe" not in text and "autoescape off" not in text, template
        assert not re.search(r"\son[a-z]+=", text), template  # no inline event handlers
        assert "style=" not in text, template  # the CSP allows no inline styles
