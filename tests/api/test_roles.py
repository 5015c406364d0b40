"""Who may do what (SPEC section 7), deny by default; other people's checks are 404, not 403."""

from __future__ import annotations

import io

import pytest

from authcheck.models import Role
from tests.api.helpers import problem
from tests.factories import CheckFactory, DoneCheckFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = [Role.JOURNALIST, Role.API_CLIENT, Role.EDITOR, Role.ADMIN, ""]

# (role) -> expected status for each action on a check *someone else* submitted.
MATRIX = {
    #               list  submit read  review audit verify media
    Role.JOURNALIST: (200, 202, 404, 403, 404, 200, 200),
    Role.API_CLIENT: (200, 202, 404, 403, 404, 200, 200),
    Role.EDITOR: (200, 403, 200, 201, 200, 200, 200),
    Role.ADMIN: (200, 202, 200, 201, 200, 200, 200),
    "": (403, 403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_on_someone_elses_check(role, client_for, enqueued) -> None:
    check = DoneCheckFactory(submitter=UserFactory(username="owner"))
    client = client_for(UserFactory(username="caller", role=role))
    blank = io.BytesIO(b"")
    blank.name = "x.jpg"
    got = (
        client.get("/api/v1/checks").status_code,
        client.post("/api/v1/checks", {"url": "https://news.example/v"}, format="json").status_code,
        client.get(f"/api/v1/checks/{check.pk}").status_code,
        client.post(
            f"/api/v1/checks/{check.pk}/reviews",
            {"decision": "authentic", "note": "seen the raw file"},
            format="json",
        ).status_code,
        client.get(f"/api/v1/checks/{check.pk}/audit").status_code,
        client.post("/api/v1/verify", {"file": blank}, format="multipart").status_code,
        client.get(f"/api/v1/media/{check.media.sha256}").status_code,
    )
    assert got == MATRIX[role]


@pytest.mark.parametrize("role", [Role.JOURNALIST, Role.API_CLIENT])
def test_owners_read_their_own_check_and_its_audit_but_cannot_review(role, client_for) -> None:
    owner = UserFactory(role=role)
    check = CheckFactory(submitter=owner)
    client = client_for(owner)
    assert client.get(f"/api/v1/checks/{check.pk}").status_code == 200
    assert client.get(f"/api/v1/checks/{check.pk}/audit").status_code == 200
    response = client.post(
        f"/api/v1/checks/{check.pk}/reviews", {"decision": "authentic", "note": "n"}, format="json"
    )
    problem(response, 403, "permission_denied")


def test_the_404_for_a_hidden_check_is_identical_to_a_missing_one(jo) -> None:
    hidden = CheckFactory(submitter=UserFactory(username="other"))
    assert jo.get(f"/api/v1/checks/{hidden.pk}").json() == jo.get("/api/v1/checks/999999").json()
    audit = jo.get(f"/api/v1/checks/{hidden.pk}/audit")
    assert audit.json() == jo.get("/api/v1/checks/999999/audit").json()
