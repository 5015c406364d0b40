"""The stats page: volumes, verdict mix, stage latencies, reviewers, detector firing rates."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from authcheck import selectors_dashboard as sel
from dashboard import plots
from dashboard.access import role_required


@role_required()
@require_GET
def stats_view(request: HttpRequest) -> HttpResponse:
    """Charts with their numbers beside them, over the checks the user may see."""
    days = request.GET.get("days", "30")
    stats = sel.stats_for(request.user, int(days) if days in {"7", "30", "90"} else 30)  # type: ignore[arg-type]
    context = {
        "stats": stats,
        "per_day": plots.columns(stats["per_day"], "n"),
        "mix": plots.bars(stats["verdict_mix"], "n"),
        "stages": plots.bars(stats["stages"], "p95"),
        "reviewers": plots.bars(stats["reviewers"], "n"),
        "detectors": plots.bars(stats["detectors"], "rate"),
        "nav": "stats",
    }
    return render(request, "dashboard/stats.html", context)
