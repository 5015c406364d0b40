"""Stats page numbers and the admin pages: anchors, tokens shown once, people; admins only."""

from __future__ import annotations

import re

import pytest

from authcheck.models import ApiToken, AuditEvent, CheckStage, Signal, TrustAnchor, User
from authcheck.services import workflow
from tests import c2pa_fixtures as c2pa
from tests.dashboard.conftest import PASSWORD, analyzed, client_for
from tests.factories import DoneCheckFactory, SignalFactory

pytestmark = pytest.mark.django_db


def test_stats_count_what_the_user_may_see(editor, journalist, other_journalist) -> None:
    mine = DoneCheckFactory(submitter=journalist)
    DoneCheckFactory(submitter=other_journalist)
    CheckStage.objects.create(check_ref=mine, name="fetch", position=0, state="done",
                              duration_ms=120.0)  # fmt: skip
    SignalFactory(media=mine.media, detector="spectral_artifacts", label="indicator_high")
    workflow.decision_submit(check=mine, user=editor, decision="synthetic", note="peaks")
    journalist_page = client_for(journalist).get("/dashboard/stats").content.decode()
    assert "1 checks (yours)" in journalist_page
    editor_page = client_for(editor).get("/dashboard/stats").content.decode()
    assert "2 checks" in editor_page
    assert re.search(r"<td>fetch</td><td>1</td><td>120</td><td>120</td>", editor_page)
    assert re.search(r"<td>spectral_artifacts</td><td>1</td><td>1</td><td>100%</td>", editor_page)
    assert re.search(r"<td>ed</td><td>1</td>", editor_page)
    assert Signal.objects.count() == 1


@pytest.mark.parametrize("path", ["anchors", "tokens", "people"])
def test_admin_pages_are_for_admins_only(path, editor, journalist, admin) -> None:
    assert client_for(editor).get(f"/dashboard/admin/{path}").status_code == 403
    assert client_for(journalist).get(f"/dashboard/admin/{path}").status_code == 403
    assert client_for(admin).get(f"/dashboard/admin/{path}").status_code == 200


def test_a_token_is_shown_once_and_can_be_revoked(admin) -> None:
    client = client_for(admin)
    response = client.post(
        "/dashboard/admin/tokens/new", {"user": "cms", "role": "api_client", "name": "CMS"}
    )
    assert response.status_code == 201 and response["Cache-Control"].startswith("max-age=0")
    secret = re.search(r'id="secret">([^<]+)<', response.content.decode()).group(1)
    listing = client.get("/dashboard/admin/tokens").content.decode()
    assert secret not in listing and "CMS" in listing
    token = ApiToken.objects.get(name="CMS")
    client.post(f"/dashboard/admin/tokens/{token.pk}/revoke")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="token.revoked").count() == 1


def test_anchor_upload_and_the_verdicts_resting_on_it(admin, journalist, settings) -> None:
    ca = c2pa.test_ca()
    client = client_for(admin)
    from django.core.files.uploadedfile import SimpleUploadedFile

    pem = SimpleUploadedFile("ca.pem", ca.root_pem.encode(), "application/x-pem-file")
    client.post("/dashboard/admin/anchors/add", {"pem": pem, "name": "Test root"})
    anchor = TrustAnchor.objects.get()
    analyzed(journalist, c2pa.corpus().intact_jpeg)  # now trusted under the new anchor
    page = client.get("/dashboard/admin/anchors").content.decode()
    assert "Test root" in page and re.search(r"enabled</span></td>\s*<td>1</td>", page)
    client.post("/dashboard/admin/anchors/disable", {"sha256": anchor.sha256})
    anchor.refresh_from_db()
    assert not anchor.enabled


def test_people_create_change_role_and_deactivate(admin) -> None:
    client = client_for(admin)
    client.post(
        "/dashboard/admin/people/new",
        {"username": "newbie", "role": "journalist", "password": PASSWORD},
    )
    newbie = User.objects.get(username="newbie")
    assert newbie.check_password(PASSWORD)
    client.post(f"/dashboard/admin/people/{newbie.pk}", {"action": "role", "role": "editor"})
    newbie.refresh_from_db()
    assert newbie.role == "editor"
    client.post(f"/dashboard/admin/people/{newbie.pk}", {"action": "deactivate"})
    newbie.refresh_from_db()
    assert not newbie.is_active
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"user.created", "user.role_changed", "user.deactivated"} <= actions


def test_admin_cannot_deactivate_themselves(admin) -> None:
    response = client_for(admin).post(
        f"/dashboard/admin/people/{admin.pk}", {"action": "deactivate"}, follow=True
    )
    assert b"you cannot deactivate yourself" in response.content
    admin.refresh_from_db()
    assert admin.is_active
