"""Service-level regressions from the outside attack (issue 9): each failed before its fix."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from authcheck.errors import AuthcheckError, FetchError
from authcheck.models import Check, Media, Role, User
from authcheck.services import checks, processing
from tests.mediagen import make_image

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


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_an_upload_refused_as_queue_full_stores_no_media_and_leaves_no_file(
    journalist: User, enqueued: list[int], settings, tmp_path: Path
) -> None:
    settings.AUTHCHECK_MAX_PENDING_PER_USER = 1
    checks.check_create(user=journalist, url="https://news.example/a.jpg")
    new_bytes = make_image(tmp_path / "n.png", size=(40, 30), color=(9, 8, 7)).read_bytes()

    with pytest.raises(AuthcheckError) as refused:
        checks.check_create(user=journalist, upload=io.BytesIO(new_bytes), filename="n.png")

    assert refused.value.code == "queue_full"
    assert Media.objects.count() == 0 and Check.objects.count() == 1
    assert _files(Path(settings.MEDIA_ROOT)) == []
    assert _files(Path(settings.UPLOAD_TMP_DIR)) == []


def test_known_bytes_are_still_answered_for_a_user_at_the_cap(
    journalist: User, enqueued: list[int], settings, tmp_path: Path
) -> None:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    data = make_image(tmp_path / "k.png", size=(40, 30), color=(1, 2, 3)).read_bytes()
    first = checks.check_create(user=journalist, upload=io.BytesIO(data)).check
    assert processing.check_process(first.pk) == "done"
    settings.AUTHCHECK_MAX_PENDING_PER_USER = 1
    checks.check_create(user=journalist, url="https://news.example/a.jpg")

    known = checks.check_create(user=journalist, upload=io.BytesIO(data))

    assert known.known and Media.objects.count() == 1


def test_a_fetch_past_its_deadline_fails_once_as_deadline_without_a_retry(
    journalist: User, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from authcheck.pipeline.fetch import _Deadline

    def trickling(*args: object, **kwargs: object) -> None:
        raise _Deadline(120).expired()

    monkeypatch.setattr("authcheck.pipeline.fetch.fetch", trickling)
    check = checks.check_create(user=journalist, url="https://example.org/a.jpg").check
    assert processing.check_process(check.pk, retry_transient=True) == "failed"
    check.refresh_from_db()
    assert (check.status, check.error_code, check.attempts) == ("failed", "deadline", 1)


def test_a_verdict_row_changed_in_the_database_is_caught_by_audit_verify(
    journalist: User, enqueued: list[int], settings, tmp_path: Path
) -> None:
    from authcheck.models import Verdict
    from authcheck.services.audit import audit_verify

    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    data = make_image(tmp_path / "v.png", size=(40, 30), color=(4, 5, 6)).read_bytes()
    check = checks.check_create(user=journalist, upload=io.BytesIO(data)).check
    assert processing.check_process(check.pk) == "done"
    assert audit_verify().ok and audit_verify(check_id=check.pk).ok

    Verdict.objects.filter(check_ref=check).update(label="provenance_verified")

    for status in (audit_verify(), audit_verify(check_id=check.pk)):
        assert not status.ok
        assert "differs from its audited record" in status.reason


def test_frame_and_metadata_caches_are_created_0600_like_the_originals(
    journalist: User, enqueued: list[int], tmp_path: Path
) -> None:
    import stat

    from authcheck import storage
    from authcheck.models import Media
    from authcheck.services import detection

    data = make_image(tmp_path / "f.png", size=(40, 30), color=(7, 7, 7)).read_bytes()
    checks.check_create(user=journalist, upload=io.BytesIO(data))
    media = Media.objects.get()
    processing.probe_ensure(media)
    detection.frames_ensure(media)
    detection.metadata_ensure(media)
    for path in (storage.frames_path(media), storage.metadata_path(media)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_sqlite_database_file_is_created_0600(tmp_path: Path) -> None:
    import stat

    from authcheck.settings import _private_file

    path = tmp_path / "db" / "db.sqlite3"
    _private_file(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
