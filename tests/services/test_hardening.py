"""Service-level regressions from the outside attack (issue 9): each failed before its fix."""

from __future__ import annotations

import pytest

from authcheck.errors import FetchError
from authcheck.models import Role, User
from authcheck.services import checks, processing

pytestmark = pytest.mark.django_db


@pytest.fixture
def journalist() -> User:
    return User.objects.create(username="jo", role=Role.JOURNALIST)


def test_an_invalid_punycode_url_is_refused_at_submission(journalist: User) -> None:
    with pytest.raises(FetchError) as caught:
        checks.check_create(user=journalist, url="http://xn--localhost/")
    assert caught.value.code == "url_invalid"


def test_an_unexpected_stage_failure_stores_no_raw_exception_text(
    journalist: User, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise UnicodeError("encoding with 'idna' codec failed (UnicodeError: label empty)")

    monkeypatch.setattr("authcheck.pipeline.fetch.fetch", explode)
    check = checks.check_create(user=journalist, url="https://example.org/a.jpg").check
    assert processing.check_process(check.pk) == "failed"
    check.refresh_from_db()
    error = check.stages.get(name="fetch").error
    assert check.error_code == "internal_error"
    assert "idna" not in error and "codec" not in error and "logged" in error
