"""Reviewer decisions supersede, never edit, and are audited with the change."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from authcheck.errors import AuthcheckError
from authcheck.models import AuditEvent, Check, Role, User, Verdict
from authcheck.selectors import verdict_current, with_current_label
from authcheck.services import checks, processing
from authcheck.services.reviews import review_record
from tests.mediagen import make_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def done_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("authcheck.services.dispatch.enqueue_check", lambda check_id: None)
    user = User.objects.create(username="jo", role=Role.JOURNALIST)
    data = make_image(tmp_path / "x.jpg").read_bytes()
    check = checks.check_create(user=user, upload=io.BytesIO(data), filename="x.jpg").check
    processing.check_process(check.pk)
    # check_create answers a snapshot of the check as created (its verdicts and stages primed
    # for the presenter); after processing, read it again.
    return Check.objects.get(pk=check.pk)


@pytest.fixture
def editor() -> User:
    return User.objects.create(username="ed", role=Role.EDITOR)


def test_a_review_supersedes_the_automated_verdict_without_editing_it(done_check, editor) -> None:
    automated = Verdict.objects.get(check_ref=done_check)
    review = review_record(
        check=done_check,
        user=editor,
        decision="misattributed",
        note="Same footage was published in 2019 by another outlet.",
    )
    automated.refresh_from_db()
    assert automated.label == "no_provenance" and automated.summary
    assert review.supersedes_id == automated.pk
    assert verdict_current(done_check).pk == review.pk
    second = review_record(
        check=done_check,
        user=editor,
        decision="inconclusive",
        note="Source disputes the 2019 date.",
    )
    assert second.supersedes_id == review.pk
    assert Verdict.objects.filter(check_ref=done_check).count() == 3


def test_the_current_label_filter_sees_the_reviewer_decision(done_check, editor) -> None:
    review_record(check=done_check, user=editor, decision="synthetic", note="Generator artefacts.")
    annotated = with_current_label(type(done_check).objects.filter(pk=done_check.pk)).get()
    assert annotated.current_decision == "synthetic"


def test_a_review_is_audited_in_the_same_transaction(done_check, editor) -> None:
    review_record(check=done_check, user=editor, decision="authentic", note="Called the author.")
    event = AuditEvent.objects.filter(check_id=done_check.pk).order_by("-seq").first()
    assert event.action == "review.recorded" and event.actor == "user:ed"
    assert '"decision":"authentic"' in event.body


@pytest.mark.parametrize("role", [Role.JOURNALIST, Role.API_CLIENT, ""])
def test_only_editors_and_admins_record_decisions(done_check, role: str) -> None:
    user = User.objects.create(username=f"u{role}", role=role)
    with pytest.raises(AuthcheckError) as info:
        review_record(check=done_check, user=user, decision="synthetic", note="x")
    assert info.value.status == 403


@pytest.mark.parametrize(
    ("decision", "note", "code"),
    [
        ("fake", "a note", "invalid_decision"),
        ("synthetic", "   ", "note_required"),
    ],
)
def test_a_review_needs_a_known_decision_and_a_note(done_check, editor, decision, note, code):
    with pytest.raises(AuthcheckError) as info:
        review_record(check=done_check, user=editor, decision=decision, note=note)
    assert info.value.code == code
    assert Verdict.objects.filter(check_ref=done_check).count() == 1
