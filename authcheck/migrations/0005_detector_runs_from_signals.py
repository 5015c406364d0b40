"""Move run state out of signals: each signal gets its DetectorRun; "pending" rows become runs.

Before 0004 a signal row labelled ``pending`` (with ``{"attempts": n}`` as its "evidence") stood
for a detector still at work. That is run state, not evidence: it becomes a ``running`` run with
those attempts and the placeholder signal is deleted. Every finished signal gets a ``done`` (or,
when it carries an error, ``error``) run pointing at it.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def _forward(apps: Any, schema_editor: Any) -> None:
    Signal = apps.get_model("authcheck", "Signal")
    DetectorRun = apps.get_model("authcheck", "DetectorRun")
    for signal in Signal.objects.iterator():
        key = {"media_id": signal.media_id, "detector": signal.detector, "version": signal.version}
        if signal.label == "pending":
            evidence = signal.evidence if isinstance(signal.evidence, dict) else {}
            DetectorRun.objects.create(
                **key, state="running", attempts=int(evidence.get("attempts", 1) or 1)
            )
            signal.delete()
            continue
        DetectorRun.objects.create(
            **key,
            state="error" if signal.error else "done",
            attempts=1,
            finished_at=signal.created_at,
            duration_ms=signal.runtime_ms,
            error=signal.error,
            signal_id=signal.pk,
        )


def _backward(apps: Any, schema_editor: Any) -> None:
    Signal = apps.get_model("authcheck", "Signal")
    DetectorRun = apps.get_model("authcheck", "DetectorRun")
    for run in DetectorRun.objects.filter(state__in=("pending", "running")).iterator():
        Signal.objects.get_or_create(
            media_id=run.media_id,
            detector=run.detector,
            version=run.version,
            defaults={"label": "pending", "evidence": {"attempts": run.attempts}},
        )
    DetectorRun.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("authcheck", "0004_detector_runs")]

    operations = [migrations.RunPython(_forward, _backward)]
