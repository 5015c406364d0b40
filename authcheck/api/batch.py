"""``POST /checks/batch``: up to 100 URLs as JSON or a CSV upload, one result per line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from authcheck import presenters
from authcheck.api import serializers as s
from authcheck.api.errors import problem_body
from authcheck.api.permissions import CanSubmitOrRead
from authcheck.api.views import AUTH_PROBLEMS, ApiView, _parsed, problems
from authcheck.errors import AuthcheckError
from authcheck.models import CheckClient
from authcheck.pipeline.fetch import MAX_URL_LENGTH
from authcheck.services.batch import (
    BATCH_MAX_URLS,
    BatchLine,
    batch_urls_from_csv,
    checks_batch_create,
)


class _UrlLine(s.UrlCharField):
    """A string exactly as sent: DRF would turn a number into text, the schema says string.
    NUL is kept too: what is wrong with one URL is its line's error (url_invalid)."""

    def to_internal_value(self, data: Any) -> str:
        """The line, or a validation error for anything that is not a string."""
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class BatchJsonSerializer(serializers.Serializer):
    """JSON form: ``{"urls": [...]}``. Any string is a line; what is wrong with one URL is
    that line's error (url_invalid, url_scheme, ...), not the request's."""

    urls = serializers.ListField(
        child=_UrlLine(max_length=MAX_URL_LENGTH, allow_blank=True, trim_whitespace=False),
        min_length=1,
        max_length=BATCH_MAX_URLS,
        help_text=f"1 to {BATCH_MAX_URLS} media URLs",
    )
    client = serializers.ChoiceField(
        choices=[CheckClient.API, CheckClient.EXTENSION], required=False, default=CheckClient.API
    )


class BatchUploadSerializer(serializers.Serializer):
    """Multipart form: a UTF-8 CSV ``file`` with a header row naming a ``url`` column."""

    file = serializers.FileField(
        allow_empty_file=True, use_url=False, help_text="CSV with a url column"
    )


class BatchLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="1-based position in the input")
    url = serializers.CharField(allow_blank=True)
    status = serializers.IntegerField(help_text="what a single submission would have answered")
    check = s.CheckSerializer(allow_null=True)
    error = s.ProblemSerializer(allow_null=True)


class BatchResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    queued = serializers.IntegerField()
    refused = serializers.IntegerField()
    results = BatchLineSerializer(many=True)


def _line_to_dict(line: BatchLine) -> dict[str, Any]:
    if line.check is not None:
        check = presenters.check_to_dict(line.check, detail=False)
        return {"line": line.line, "url": line.url, "status": 202, "check": check, "error": None}
    error = line.error or AuthcheckError("refused")
    problem = problem_body(error.status, error.code, error.message)
    return {
        "line": line.line,
        "url": line.url,
        "status": error.status,
        "check": None,
        "error": problem,
    }


def _urls_from(data: Any) -> tuple[list[str], str]:
    """The URLs and the client of a JSON or CSV batch."""
    if isinstance(data, Mapping) and "file" in data and "urls" not in data:
        form: serializers.Serializer = BatchUploadSerializer(data=data)
        form.is_valid(raise_exception=True)
        raw = form.validated_data["file"].read()
        try:
            return batch_urls_from_csv(raw), CheckClient.API
        except AuthcheckError as exc:
            # Schema-valid bytes that are no usable CSV: unprocessable content, not bad syntax.
            exc.status = 422
            raise
    form = BatchJsonSerializer(data=data)
    form.is_valid(raise_exception=True)
    return list(form.validated_data["urls"]), form.validated_data["client"]


class CheckBatchView(ApiView):
    """``POST /checks/batch``."""

    http_method_names = ["post", "options"]
    permission_classes = [CanSubmitOrRead]
    parser_classes = [JSONParser, MultiPartParser]
    throttle_scope = "submit"

    @extend_schema(
        operation_id="checks_batch_create",
        summary="Submit up to 100 URLs",
        description=(
            f"JSON `{{urls: [...]}}` (1 to {BATCH_MAX_URLS}) or a multipart `file`: a UTF-8 CSV "
            "with a header row naming a `url` column (blank rows skipped). Every URL is "
            "submitted as its own check with the rules of `POST /checks`; each line reports "
            "the status that submission would have got (202 queued) with its check, or its "
            "own problem (422 url_blocked, 429 queue_full, ...). One bad line never stops "
            "the others. 422 batch_csv_invalid / batch_too_large: the CSV cannot be used."
        ),
        request={
            "application/json": BatchJsonSerializer,
            "multipart/form-data": BatchUploadSerializer,
        },
        responses={
            200: OpenApiResponse(BatchResultSerializer, description="one result per line"),
            **problems(400, *AUTH_PROBLEMS, 413, 415, 422),
        },
    )
    def post(self, request: Request) -> Response:
        """Submit each URL of the batch."""
        urls, client = _urls_from(_parsed(request))
        if not urls:
            raise AuthcheckError("the CSV holds no URL", code="batch_empty", status=422)
        lines = checks_batch_create(user=request.user, urls=urls, client=client)
        results = [_line_to_dict(line) for line in lines]
        queued = sum(1 for line in lines if line.check is not None)
        return Response(
            {
                "count": len(results),
                "queued": queued,
                "refused": len(results) - queued,
                "results": results,
            }
        )
