"""``GET /checks/{id}/report``: the check's evidence as a signed, canonical JSON file."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request

from authcheck.api.permissions import HasAnyRole
from authcheck.api.views import AUTH_PROBLEMS, ApiView, _visible_check, problems
from authcheck.services.reports import report_signed


class ReportSignatureSerializer(serializers.Serializer):
    alg = serializers.ChoiceField(choices=["Ed25519"])
    key_id = serializers.CharField(help_text="16 hex digits of the SHA-256 of the public key")
    public_key = serializers.CharField(help_text="base64 raw 32-byte Ed25519 public key")
    value = serializers.CharField(help_text="base64 signature of the canonical payload")


class SignedReportSerializer(serializers.Serializer):
    """A signed verification report (docs/REPORTS.md)."""

    format = serializers.CharField()
    payload = serializers.DictField(
        help_text="issuer, generated_at, check, media, provenance, signals, verdicts, audit"
    )
    signature = ReportSignatureSerializer()


class CheckReportView(ApiView):
    """``GET /checks/{id}/report``."""

    http_method_names = ["get", "options", "head"]
    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="checks_report_retrieve",
        summary="Signed verification report of a check",
        description=(
            "The check's evidence (media hash, C2PA report with the raw manifest hash, signals "
            "with versions, every verdict and review, the check's audit events and the chain "
            "head) in canonical JSON, signed with the newsroom's Ed25519 key. Check it offline "
            "with `manage.py verify_report FILE --public-key PEM`: the file must stay byte for "
            "byte as served."
        ),
        responses={
            200: OpenApiResponse(SignedReportSerializer, description="the signed report"),
            **problems(*AUTH_PROBLEMS, 404),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        """The signed report, as a download."""
        check = _visible_check(request.user, pk)
        response = HttpResponse(report_signed(check), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="authcheck-check-{pk}.json"'
        return response
