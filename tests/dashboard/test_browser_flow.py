"""End to end in real Chromium against a live server: a journalist submits, the queue row goes
from running to done by itself, an editor decides with a second editor's sign-off, exports are
right, and another journalist gets a 404."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from authcheck.models import Check, Role
from tests import c2pa_fixtures as c2pa
from tests.dashboard.browser import FileServer, login
from tests.dashboard.conftest import PASSWORD, person
from tests.mediagen import make_video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def media_server(tmp_path):
    make_video(tmp_path / "clip.mp4", seconds=1, size="160x120")
    server = FileServer(tmp_path)
    yield server
    server.close()


@pytest.fixture
def people(db):
    return {
        name: person(name, role)
        for name, role in [
            ("jo", Role.JOURNALIST),
            ("kim", Role.JOURNALIST),
            ("ed", Role.EDITOR),
            ("eve", Role.EDITOR),
        ]
    }


def test_journalist_submits_and_the_row_finishes_without_a_reload(
    browser, live_server, media_server, people, settings, tasks_run
) -> None:
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    base = live_server.url
    page = login(browser, base, "jo", PASSWORD)
    page.fill("#s-url", f"{media_server.url}/clip.mp4")
    page.click("text=Check this URL")
    page.wait_for_url(f"{base}/dashboard/")
    check = Check.objects.get(submitter__username="jo")
    row = page.locator(f"#row-{check.pk}")
    assert row.count() == 1
    page.evaluate("window.__noReload = 1")
    page.wait_for_selector(f"#row-{check.pk}[data-status=done]", timeout=60_000)
    assert page.evaluate("window.__noReload") == 1  # htmx swapped the row; no page load
    assert row.get_attribute("hx-trigger") is None  # a finished row stops polling

    page.click("#submit summary")  # the submit panel is folded once the queue has rows
    page.set_input_files("#s-file", str(c2pa.corpus().bad_ingredient))
    page.click("text=Upload and check")
    page.wait_for_url(f"{base}/dashboard/")
    upload = Check.objects.filter(submitter__username="jo").latest("id")
    page.wait_for_selector(f"#row-{upload.pk}[data-status=done]", timeout=60_000)

    page.keyboard.press("/")
    page.keyboard.type("bad-ingredient")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*q=parent-with-bad-ingredient|.*q=bad-ingredient"))
    assert page.locator("tr.row").count() == 1
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/dashboard/checks/{upload.pk}")
    panel = page.locator("section[aria-labelledby=h-prov]")
    assert "Issued by an unknown source" in panel.inner_text()
    ingredients = panel.locator("ul.tree").inner_text()
    assert "child-bad-signature.jpg" in ingredients and "claimSignature.mismatch" in ingredients
    assert page.locator("text=Record a decision").count() == 0  # journalists do not review


def test_editor_decides_with_signoff_and_exports(browser, live_server, people, settings) -> None:
    settings.AUTHCHECK_REVIEW_SIGNOFF = 2
    from tests.dashboard.conftest import analyzed

    check = analyzed(people["jo"], c2pa.corpus().intact_jpeg)
    base = live_server.url
    ed = login(browser, base, "ed", PASSWORD)
    ed.goto(f"{base}/dashboard/checks/{check.pk}")
    ed.select_option("#d-decision", "authentic")
    ed.fill("#d-note", "Signer confirmed by phone")
    ed.click("text=Record decision")
    assert "Awaiting sign-off" in ed.locator("#review").inner_text()
    ed.goto(f"{base}/dashboard/?reviewed=signoff")
    assert ed.locator(f"#row-{check.pk}").count() == 1

    eve = login(browser, base, "eve", PASSWORD)
    eve.goto(f"{base}/dashboard/checks/{check.pk}")
    eve.click("text=Sign off this decision")
    assert "Decision: authentic" in eve.locator("#review").inner_text()
    timeline = eve.locator("#audit-body").inner_text()
    assert "decision.signed_off" in timeline and "Chain intact" in timeline

    exported = json.loads(eve.request.get(f"{base}/dashboard/checks/{check.pk}/export.json").text())
    assert exported["verdict"]["decision"] == "authentic"
    assert "decision.signed_off" in [e["action"] for e in exported["audit"]["events"]]
    text = eve.request.get(f"{base}/dashboard/queue.csv?reviewed=yes").text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(int(r["id"]), r["decision"]) for r in rows] == [(check.pk, "authentic")]

    kim = login(browser, base, "kim", PASSWORD)
    response = kim.goto(f"{base}/dashboard/checks/{check.pk}")
    assert response is not None and response.status == 404
    assert kim.locator("text=Record a decision").count() == 0
