"""Workflow services: assignment, review states, comments, decisions with sign-off; audited."""

from __future__ import annotations

import pytest

from authcheck.errors import AuthcheckError
from authcheck.models import AuditEvent, User, Verdict
from authcheck.selectors import verdict_current
from authcheck.services import workflow
from dashboard.models import CheckWorkflow, PendingDecision, ReviewState
from tests.dashboard.conftest import client_for
from tests.factories import DoneCheckFactory

pytestmark = pytest.mark.django_db


def _actions(check) -> list[str]:
    return list(AuditEvent.objects.filter(check_id=check.pk).values_list("action", flat=True))


def test_taking_a_check_assigns_it_and_moves_it_into_review(editor: User, journalist) -> None:
    check = DoneCheckFactory(submitter=journalist)
    flow = workflow.workflow_assign(check=check, actor=editor, assignee=editor)
    assert flow.assignee == editor and flow.state == ReviewState.IN_REVIEW
    assert _actions(check)[-1] == "workflow.assigned"


def test_checks_are_assigned_to_editors_only_by_editors(editor, journalist) -> None:
    check = DoneCheckFactory(submitter=journalist)
    with pytest.raises(AuthcheckError) as exc:
        workflow.workflow_assign(check=check, actor=editor, assignee=journalist)
    assert exc.value.code == "invalid_assignee"
    with pytest.raises(AuthcheckError) as exc:
        workflow.workflow_assign(check=check, actor=journalist, assignee=editor)
    assert exc.value.code == "permission_denied"
    assert not CheckWorkflow.objects.exists()


def test_decided_is_reached_only_through_a_decision(editor, journalist) -> None:
    check = DoneCheckFactory(submitter=journalist)
    with pytest.raises(AuthcheckError):
        workflow.workflow_state_set(check=check, actor=editor, state=ReviewState.DECIDED)
    workflow.decision_submit(check=check, user=editor, decision="manipulated", note="spliced")
    assert CheckWorkflow.objects.get(check_ref=check).state == ReviewState.DECIDED
    assert verdict_current(check).decision == "manipulated"


def test_a_journalist_comments_on_their_own_check_only(journalist, other_journalist) -> None:
    check = DoneCheckFactory(submitter=journalist)
    workflow.comment_add(check=check, author=journalist, body="  who filmed it?  ")
    with pytest.raises(AuthcheckError):
        workflow.comment_add(check=check, author=other_journalist, body="hi")
    with pytest.raises(AuthcheckError):
        workflow.comment_add(check=check, author=journalist, body="   ")
    assert check.comments.get().body == "who filmed it?"
    assert _actions(check).count("comment.added") == 1


def test_with_signoff_a_decision_counts_only_after_a_second_editor(
    editor, second_editor, journalist, settings
) -> None:
    settings.AUTHCHECK_REVIEW_SIGNOFF = 2
    check = DoneCheckFactory(submitter=journalist)
    pending = workflow.decision_submit(check=check, user=editor, decision="synthetic", note="AI")
    assert isinstance(pending, PendingDecision)
    assert verdict_current(check).author is None  # the automated verdict is still current
    with pytest.raises(AuthcheckError) as exc:
        workflow.decision_confirm(pending=pending, user=editor)
    assert exc.value.code == "signoff_self"
    verdict = workflow.decision_confirm(pending=pending, user=second_editor)
    assert verdict_current(check) == verdict and verdict.author == editor
    assert "Signed off by eve" in verdict.note
    assert _actions(check)[-3:] == ["decision.proposed", "review.recorded", "decision.signed_off"]
    with pytest.raises(AuthcheckError):
        workflow.decision_confirm(pending=pending, user=second_editor)  # closed: once only


def test_a_withdrawn_pending_decision_never_becomes_a_verdict(
    editor, second_editor, journalist, settings
) -> None:
    settings.AUTHCHECK_REVIEW_SIGNOFF = 2
    check = DoneCheckFactory(submitter=journalist)
    pending = workflow.decision_submit(check=check, user=editor, decision="synthetic", note="AI")
    workflow.decision_withdraw(pending=pending, user=second_editor)
    with pytest.raises(AuthcheckError):
        workflow.decision_confirm(pending=pending, user=second_editor)
    assert not Verdict.objects.filter(check_ref=check, author__isnull=False).exists()


def test_signoff_through_the_dashboard(editor, second_editor, journalist, settings) -> None:
    settings.AUTHCHECK_REVIEW_SIGNOFF = 2
    check = DoneCheckFactory(submitter=journalist)
    first, second = client_for(editor), client_for(second_editor)
    first.post(f"/dashboard/checks/{check.pk}/decide", {"decision": "authentic", "note": "geo"})
    pending = PendingDecision.objects.get()
    page = first.get(f"/dashboard/checks/{check.pk}").content
    assert b"Awaiting sign-off" in page and b"Sign off this decision" not in page
    assert b"Sign off this decision" in second.get(f"/dashboard/checks/{check.pk}").content
    second.post(f"/dashboard/checks/{check.pk}/signoff/{pending.pk}", {"action": "confirm"})
    assert verdict_current(check).decision == "authentic"
    timeline = second.get(f"/dashboard/checks/{check.pk}/audit").content
    assert b"decision.signed_off" in timeline and b"Chain intact" in timeline


def test_a_journalist_sees_the_decision_and_comments_on_their_check(editor, journalist) -> None:
    check = DoneCheckFactory(submitter=journalist)
    client_for(editor).post(
        f"/dashboard/checks/{check.pk}/decide", {"decision": "misattributed", "note": "2019"}
    )
    client_for(editor).post(f"/dashboard/checks/{check.pk}/comments", {"body": "old video"})
    page = client_for(journalist).get(f"/dashboard/checks/{check.pk}").content
    assert b"Decision: misattributed" in page and b"old video" in page


def test_the_api_review_endpoint_applies_the_signoff_rule(editor, journalist, settings) -> None:
    from django.test import Client

    from tests.factories import token_for

    settings.AUTHCHECK_REVIEW_SIGNOFF = 2
    check = DoneCheckFactory(submitter=journalist)
    response = Client().post(
        f"/api/v1/checks/{check.pk}/reviews",
        {"decision": "synthetic", "note": "generator artefacts"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_for(editor)}",
    )
    assert response.status_code == 202 and response.json()["status"] == "awaiting_signoff"
    assert verdict_current(check).author is None
    assert PendingDecision.objects.get().proposer == editor
