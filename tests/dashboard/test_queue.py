"""The queue: who sees which rows, filters and search in the URL, keyset pages, live rows, CSV."""

from __future__ import annotations

import csv
import io

import pytest

from authcheck.models import CheckStage, User
from authcheck.selectors_dashboard import QueueFilters, queue_page
from authcheck.services import workflow
from tests.dashboard.conftest import client_for
from tests.factories import CheckFactory, DoneCheckFactory, MediaFactory

pytestmark = pytest.mark.django_db


def _row_ids(response) -> list[int]:
    import re

    return [int(i) for i in re.findall(rb'id="row-(\d+)"', response.content)]


def test_journalists_see_only_their_own_checks(journalist: User, other_journalist: User) -> None:
    mine = DoneCheckFactory(submitter=journalist)
    DoneCheckFactory(submitter=other_journalist)
    assert _row_ids(client_for(journalist).get("/dashboard/")) == [mine.pk]


def test_editors_see_every_check_newest_first(
    editor: User, journalist: User, other_journalist: User
) -> None:
    a = DoneCheckFactory(submitter=journalist)
    b = DoneCheckFactory(submitter=other_journalist)
    assert _row_ids(client_for(editor).get("/dashboard/")) == [b.pk, a.pk]


def test_filters_and_search_come_from_the_url(editor: User, journalist: User) -> None:
    media = MediaFactory(sha256="ab12cd34" + "0" * 56, kind="video")
    video = DoneCheckFactory(submitter=journalist, media=media, note="flood footage")
    running = CheckFactory(submitter=journalist, status="running", source_url="https://x.test/a")
    client = client_for(editor)
    assert _row_ids(client.get("/dashboard/?status=running")) == [running.pk]
    assert _row_ids(client.get("/dashboard/?kind=video")) == [video.pk]
    assert _row_ids(client.get("/dashboard/?q=ab12cd")) == [video.pk]
    assert _row_ids(client.get("/dashboard/?q=flood")) == [video.pk]
    assert _row_ids(client.get("/dashboard/?q=x.test")) == [running.pk]
    assert _row_ids(client.get("/dashboard/?verdict=no_provenance")) == [video.pk]
    assert _row_ids(client.get("/dashboard/?submitter=nobody")) == []
    # The filter form shows the state it was given, so the view can be shared as a link.
    assert b'value="flood"' in client.get("/dashboard/?q=flood").content


def test_reviewed_and_assignee_filters(editor: User, journalist: User) -> None:
    decided = DoneCheckFactory(submitter=journalist)
    workflow.decision_submit(check=decided, user=editor, decision="authentic", note="seen")
    open_one = DoneCheckFactory(submitter=journalist)
    workflow.workflow_assign(check=open_one, actor=editor, assignee=editor)
    client = client_for(editor)
    assert _row_ids(client.get("/dashboard/?reviewed=yes")) == [decided.pk]
    assert _row_ids(client.get("/dashboard/?reviewed=no")) == [open_one.pk]
    assert _row_ids(client.get("/dashboard/?assignee=me")) == [open_one.pk]
    assert _row_ids(client.get("/dashboard/?assignee=none")) == [decided.pk]


def test_keyset_pages_cover_every_row_once(editor: User, journalist: User) -> None:
    ids = sorted((DoneCheckFactory(submitter=journalist).pk for _ in range(7)), reverse=True)
    seen: list[int] = []
    filters = QueueFilters()
    while True:
        page = queue_page(editor, filters, size=3)
        seen += [c.pk for c in page.rows]
        if page.next_after is None:
            break
        filters = QueueFilters(after=page.next_after)
    assert seen == ids
    response = client_for(editor).get(f"/dashboard/?after={ids[2]}")
    assert _row_ids(response) == ids[3:]


def test_malformed_filters_are_ignored_not_errors(editor: User, journalist: User) -> None:
    DoneCheckFactory(submitter=journalist)
    response = client_for(editor).get(
        "/dashboard/?since=yesterday&after=-5&sort=%3Cscript%3E&status=bogus"
    )
    assert response.status_code == 200 and len(_row_ids(response)) == 1


def test_running_rows_poll_and_finished_rows_do_not(editor: User, journalist: User) -> None:
    running = CheckFactory(submitter=journalist, status="running")
    CheckStage.objects.create(check_ref=running, name="fetch", position=0, state="done")
    CheckStage.objects.create(check_ref=running, name="hash", position=1, state="running")
    done = DoneCheckFactory(submitter=journalist)
    client = client_for(editor)
    row = client.get(f"/dashboard/rows/{running.pk}").content
    assert b'hx-trigger="every 2s"' in row and b'value="1"' in row and b"hash" in row
    assert b"hx-trigger" not in client.get(f"/dashboard/rows/{done.pk}").content


def test_a_row_of_someone_elses_check_is_404(journalist: User, other_journalist: User) -> None:
    theirs = CheckFactory(submitter=other_journalist, status="running")
    assert client_for(journalist).get(f"/dashboard/rows/{theirs.pk}").status_code == 404


def test_csv_export_has_the_current_view_and_defuses_formulas(
    editor: User, journalist: User
) -> None:
    DoneCheckFactory(submitter=journalist, note='=HYPERLINK("http://evil")')
    DoneCheckFactory(submitter=journalist, media=MediaFactory(kind="video"))
    response = client_for(editor).get("/dashboard/queue.csv?kind=image")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["kind"] == "image" and rows[0]["verdict"] == "no_provenance"
    assert rows[0]["note"].startswith("'=")


def test_submit_a_url_creates_a_dashboard_check(
    journalist: User, enqueued: list[int], django_capture_on_commit_callbacks
) -> None:
    client = client_for(journalist)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/dashboard/submit",
            {"url": "https://news.example/clip.mp4", "page_url": "https://news.example/"},
        )
    assert response.status_code == 302
    check = journalist.checks.get()
    assert check.client == "dashboard" and check.page_url == "https://news.example/"
    assert enqueued == [check.pk]
    assert _row_ids(client.get("/dashboard/")) == [check.pk]


def test_submit_a_list_of_urls_makes_one_check_each(journalist: User, enqueued) -> None:
    urls = "\n".join(f"https://news.example/{i}.mp4" for i in range(3)) + "\nftp://bad.example/x"
    response = client_for(journalist).post("/dashboard/submit", {"urls": urls}, follow=True)
    assert journalist.checks.count() == 3
    assert b"url_scheme" in response.content  # the bad line is reported with its code


def test_submit_more_than_100_urls_is_refused(journalist: User, enqueued) -> None:
    urls = "\n".join(f"https://news.example/{i}.mp4" for i in range(101))
    response = client_for(journalist).post("/dashboard/submit", {"urls": urls})
    assert response.status_code == 400 and b"too_many_urls" in response.content
    assert journalist.checks.count() == 0


def test_submit_refuses_a_non_media_upload_with_the_api_code(journalist: User, enqueued) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("x.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
    response = client_for(journalist).post("/dashboard/submit", {"file": upload})
    assert response.status_code == 415 and b"unsupported_media" in response.content
    assert journalist.checks.count() == 0


def test_editors_do_not_submit(editor: User) -> None:
    client = client_for(editor)
    assert b'action="/dashboard/submit"' not in client.get("/dashboard/").content
    response = client.post("/dashboard/submit", {"url": "https://news.example/a.mp4"})
    assert response.status_code == 403


def test_queue_shows_awaiting_signoff(editor: User, journalist: User, settings) -> None:
    settings.AUTHCHECK_REVIEW_SIGNOFF = 2
    check = DoneCheckFactory(submitter=journalist)
    workflow.decision_submit(check=check, user=editor, decision="synthetic", note="frames")
    client = client_for(editor)
    assert b"Awaiting sign-off" in client.get("/dashboard/").content
    assert _row_ids(client.get("/dashboard/?reviewed=signoff")) == [check.pk]


def test_an_upload_over_the_cap_is_413_and_nothing_is_kept(journalist, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.AUTHCHECK_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"0" * (3 * 1024 * 1024), "image/jpeg")
    response = client_for(journalist).post("/dashboard/submit", {"file": big})
    assert response.status_code == 413 and b"too_large" in response.content
    assert journalist.checks.count() == 0
    assert list((tmp_path / "tmp").iterdir()) == []
