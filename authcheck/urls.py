"""URL wiring only."""

from django.urls import include, path
from django.views.generic.base import RedirectView

from authcheck import metrics
from authcheck.api import health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:queue", permanent=False), name="root"),
    path("dashboard/", include("dashboard.urls")),
    path("api/v1/", include("authcheck.api.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

# JSON problem bodies for /api/ paths, Django's defaults elsewhere; never a traceback.
handler400 = "authcheck.api.errors.bad_request"
handler403 = "authcheck.api.errors.permission_denied"
handler404 = "authcheck.api.errors.page_not_found"
handler500 = "authcheck.api.errors.server_error"
