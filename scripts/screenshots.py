"""Screenshots of the dashboard for docs/screenshots/, made with Debian's Chromium.

Builds a throw-away instance (temporary AUTHCHECK_DATA_DIR, SQLite), fills it with generated
media analysed by the real pipeline, serves it on an ephemeral loopback port in this process
and photographs the queue, a check with signals and plots, the provenance panel, the stats
page and an admin page, at 1280x800 and at 390 px wide.

    .venv/bin/python scripts/screenshots.py [OUT_DIR]   # default docs/screenshots
"""

from __future__ import annotations

import os
import secrets
import socketserver
import sys
import tempfile
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="authcheck-shots-"))
os.environ.update(
    AUTHCHECK_DATA_DIR=str(DATA),
    DJANGO_SETTINGS_MODULE="authcheck.settings",
    AUTHCHECK_REVIEW_SIGNOFF="2",
    DJANGO_ALLOW_ASYNC_UNSAFE="true",  # Playwright's sync API keeps a loop on this thread
)
os.environ.pop("DATABASE_URL", None)
os.environ.pop("CELERY_BROKER_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

PASSWORD = secrets.token_urlsafe(16)  # a throw-away instance
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-background-networking"]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _Threaded(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _analyse(user, path: Path, note: str = ""):  # type: ignore[no-untyped-def]
    from authcheck.services import processing
    from authcheck.services.checks import check_create

    with path.open("rb") as handle:
        check = check_create(
            user=user, upload=handle, filename=path.name, note=note, client="dashboard",
            enqueue=False,
        ).check  # fmt: skip
    if check.status == "queued":
        processing.check_process(check.pk)
    return check


def seed() -> dict[str, int]:
    """People, analysed media, a decision, a pending sign-off, comments and an assignment."""
    from authcheck.services import workflow
    from authcheck.services.checks import check_create
    from authcheck.services.people import user_upsert
    from tests import c2pa_fixtures as c2pa
    from tests.mediagen import letterboxed_copy, make_photo_video

    people = {
        n: user_upsert(username=n, role=r, password=PASSWORD)[0]
        for n, r in [("ada", "admin"), ("ed", "editor"), ("eve", "editor"), ("jo", "journalist")]
    }
    media = DATA / "seed"
    media.mkdir()
    corpus = c2pa.corpus()
    jo, ed, eve = people["jo"], people["ed"], people["eve"]
    pan = make_photo_video(media / "harbour-pan.mp4", seconds=3.0, size="640x360")
    first = _analyse(jo, pan, "Posted by @citizen_cam, claims: harbour fire last night")
    ids = {"pan": first.pk}
    _analyse(jo, corpus.intact_jpeg, "Agency photo, credentials attached")
    _analyse(jo, corpus.ai_jpeg, "Viral image, looks generated")
    ids["ingredient"] = _analyse(jo, corpus.bad_ingredient, "Composite from a forum").pk
    _analyse(jo, corpus.unsigned_jpeg)
    copy = letterboxed_copy(pan, media / "reupload.mp4", width=480, crf=30)
    ids["copy"] = _analyse(jo, copy, "Same clip re-uploaded on another platform").pk
    check_create(user=jo, url="https://video.example.org/live/clip-0417.mp4", enqueue=False)
    workflow.workflow_assign(check=first, actor=ed, assignee=ed)
    workflow.comment_add(check=first, author=jo, body="The uploader says it is from Tuesday.")
    workflow.comment_add(check=first, author=ed, body="Frames match an earlier upload; checking.")
    pending = workflow.decision_submit(
        check=first, user=ed, decision="misattributed", note="Same footage as an older upload."
    )
    del pending
    from authcheck.models import Check

    decided = Check.objects.get(pk=ids["ingredient"])
    proposal = workflow.decision_submit(
        check=decided, user=eve, decision="manipulated", note="Ingredient signature broken."
    )
    workflow.decision_confirm(pending=proposal, user=ed)  # type: ignore[arg-type]
    return ids


def shoot(base: str, out: Path, ids: dict[str, int]) -> list[Path]:
    """Log in and photograph each page; returns the files written."""
    from playwright.sync_api import sync_playwright

    written: list[Path] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for width, height, suffix in [(1280, 800, ""), (390, 844, "-390")]:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.goto(f"{base}/dashboard/login/")
            if not suffix:
                written.append(_snap(page, out / "login.png"))
            page.fill("#id_username", "ada")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/dashboard/")
            written.append(_snap(page, out / f"queue{suffix}.png"))
            page.goto(f"{base}/dashboard/checks/{ids['copy']}")
            written.append(_snap(page, out / f"detail{suffix}.png", full=True))
            if not suffix:
                page.goto(f"{base}/dashboard/checks/{ids['ingredient']}#h-prov")
                written.append(_snap(page, out / "provenance.png", full=True))
                page.goto(f"{base}/dashboard/checks/{ids['pan']}")
                written.append(_snap(page, out / "review-signoff.png", full=True))
                page.goto(f"{base}/dashboard/admin/people")
                written.append(_snap(page, out / "admin-people.png"))
                page.goto(f"{base}/dashboard/admin/tokens")
                page.fill("#t-user", "cms-plugin")
                page.fill("#t-name", "CMS plugin")
                page.click("text=Create token")  # its show-once page is not kept: a secret
                page.goto(f"{base}/dashboard/admin/tokens")
                written.append(_snap(page, out / "admin-tokens.png"))
                page.goto(f"{base}/dashboard/admin/anchors")
                written.append(_snap(page, out / "admin-anchors.png"))
            page.goto(f"{base}/dashboard/stats")
            written.append(_snap(page, out / f"stats{suffix}.png", full=True))
            context.close()
        browser.close()
    return written


def _snap(page, path: Path, full: bool = False) -> Path:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=full)
    return path


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    ids = seed()
    server = make_server("127.0.0.1", 0, get_wsgi_application(), _Threaded, _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for path in shoot(base, out, ids):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
