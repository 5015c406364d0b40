"""API routes, mounted under ``/api/v1/`` by ``authcheck.urls``. No trailing slashes on
resources (SPEC section 6); the schema and docs pages keep theirs."""

from __future__ import annotations

from django.urls import path

from authcheck.api import batch, reports, views, webhooks

urlpatterns = [
    path("checks", views.CheckListCreateView.as_view(), name="api-checks"),
    path("checks/batch", batch.CheckBatchView.as_view(), name="api-checks-batch"),
    path("checks/<int:pk>", views.CheckDetailView.as_view(), name="api-check"),
    path("checks/<int:pk>/reviews", views.ReviewCreateView.as_view(), name="api-check-reviews"),
    path("checks/<int:pk>/audit", views.AuditView.as_view(), name="api-check-audit"),
    path(
        "checks/<int:pk>/evidence/screenshot",
        views.EvidenceScreenshotView.as_view(),
        name="api-check-evidence-screenshot",
    ),
    path("me", views.MeView.as_view(), name="api-me"),
    path("checks/<int:pk>/report", reports.CheckReportView.as_view(), name="api-check-report"),
    path("verify", views.VerifyView.as_view(), name="api-verify"),
    path("media/<str:sha256>", views.MediaView.as_view(), name="api-media"),
    path("webhooks", webhooks.WebhookListCreateView.as_view(), name="api-webhooks"),
    path("webhooks/<int:pk>", webhooks.WebhookDetailView.as_view(), name="api-webhook"),
    path("schema/", views.SchemaView.as_view(), name="api-schema"),
    path("docs/", views.DocsView.as_view(), name="api-docs"),
]
