"""Stage timing without reading the start back (issue 11): the start stored by ``stage_start``
closes the stage in one UPDATE, and a stage restarted since is not closed by the older end."""

from __future__ import annotations

import pytest

from authcheck.models import CheckStage, StageState
from authcheck.services import lifecycle
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db


def _row(check, name: str) -> CheckStage:
    return CheckStage.objects.get(check_ref=check, name=name)


def test_a_stage_closes_with_its_own_start_and_duration() -> None:
    check = CheckFactory()
    lifecycle.stages_init(check, ["fetch"], done={})
    with lifecycle.stage(check, "fetch"):
        started = _row(check, "fetch").started_at
    row = _row(check, "fetch")
    assert row.state == StageState.DONE and row.started_at == started
    expected = (row.finished_at - started).total_seconds() * 1000
    assert row.duration_ms == pytest.approx(expected)


def test_an_end_with_an_older_start_leaves_a_restarted_stage_running() -> None:
    check = CheckFactory()
    lifecycle.stages_init(check, ["fetch"], done={})
    first = lifecycle.stage_start(check, "fetch")
    second = lifecycle.stage_start(check, "fetch")  # e.g. another attempt took the stage over
    assert second != first
    lifecycle.stage_end(check, "fetch", started=first)
    assert _row(check, "fetch").state == StageState.RUNNING
    lifecycle.stage_end(check, "fetch", started=second)
    assert _row(check, "fetch").state == StageState.DONE


def test_a_failed_stage_records_why() -> None:
    check = CheckFactory()
    lifecycle.stages_init(check, ["fetch"], done={})
    with pytest.raises(RuntimeError), lifecycle.stage(check, "fetch"):
        raise RuntimeError("boom")
    row = _row(check, "fetch")
    assert row.state == StageState.FAILED and row.duration_ms is not None
    assert "internal error" in row.error
