"""REST API views (SPEC section 6): parse, call one service or selector, render.

Shapes come from ``authcheck.presenters`` (shared with the CLI). A check the caller may not see
is a 404, never a 403, so ids reveal nothing. Every response is ``no-store``; allowed browser
extension origins get CORS headers (``authcheck.api.cors``).
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase
from django.templatetags.static import static
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_header_parameters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_list_serializer
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import fields as drf_fields
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from authcheck import presenters, selectors
from authcheck.api import serializers as s
from authcheck.api.cors import cors_headers, is_preflight
from authcheck.api.errors import PROBLEM_CONTENT_TYPE, ApiProblem
from authcheck.api.filters import CheckFilter
from authcheck.api.parsers import BoundedJSONParser
from authcheck.api.permissions import (
    SUBMITTERS,
    CanReview,
    CanSubmitOrRead,
    HasAnyRole,
    has_role,
)
from authcheck.models import Check, User, Verdict
from authcheck.services import checks as check_service
from authcheck.services.audit import audit_events_for_check, audit_verify
from authcheck.services.evidence import evidence_prepare, screenshot_path
from authcheck.services.verify import verify_body, verify_upload
from authcheck.services.workflow import decision_submit
from authcheck.uploads import FILE_COUNT_ATTR, TOO_LARGE_FLAG

SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")
MAX_DB_ID = 2**63 - 1
# Multipart framing and the small text fields that ride along with the file.
UPLOAD_OVERHEAD_BYTES = 1024 * 1024


def problems(*statuses: int) -> dict[Any, OpenApiResponse]:
    """OpenAPI responses for problem bodies with the given statuses."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(s.ProblemSerializer, description="error")
        for status in statuses
    }


AUTH_PROBLEMS = (401, 403, 429)


_QUERY_INT_RE = re.compile(r"[0-9]{1,19}")


def _query_int(request: Request, name: str, *, minimum: int) -> int | None:
    """The query parameter ``name`` as an int >= ``minimum`` (None when absent).

    Anything else (text, empty, negative, beyond 64 bits) is a 400, never silently replaced by
    the default: the client would otherwise get a page it did not ask for.
    """
    raw = request.query_params.get(name)
    if raw is None:
        return None
    value = int(raw) if _QUERY_INT_RE.fullmatch(raw) else -1
    if not minimum <= value <= MAX_DB_ID:
        raise ValidationError({name: [f"must be an integer from {minimum} to {MAX_DB_ID}"]})
    return value


class CheckPagination(LimitOffsetPagination):
    """``limit``/``offset``; ``limit`` is capped so a page stays cheap to build."""

    default_limit = 50
    max_limit = 100

    def get_limit(self, request: Request) -> int:
        """``limit`` (at least 1; anything above ``max_limit`` is capped), else the default."""
        limit = _query_int(request, self.limit_query_param, minimum=1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request: Request) -> int:
        """``offset`` (at least 0), else 0."""
        return _query_int(request, self.offset_query_param, minimum=0) or 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """Declare the bounds the view enforces, so generated clients and fuzzers know them."""
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": MAX_DB_ID},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_DB_ID},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = f"page size; values above {self.max_limit} are capped"
        return parameters


class RequiredBodySchema(AutoSchema):
    """A POST whose every form needs a body: spectacular cannot tell from a oneOf or from a
    binary media type (POST /checks, POST /verify)."""

    def _get_request_body(self, direction: str = "request") -> Any:
        body = super()._get_request_body(direction)
        if body and self.method == "POST":
            body["required"] = True
        return body


class ListSchema(RequiredBodySchema):
    """GET is the list; spectacular's guess picks the problem response (its keys are tuples)."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        if self.method != "GET":
            return False
        return serializer is None or isinstance(serializer, dict) or is_list_serializer(serializer)


class ApiView(GenericAPIView):
    """Base view: CORS for extension origins, preflight before authentication, no caching."""

    http_method_names = ["get", "post", "options", "head"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """A preflight carries no token: answer it without authenticating."""
        if is_preflight(request):
            self.format_kwarg = self.get_format_suffix(**kwargs)
            return
        super().initial(request, *args, **kwargs)

    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Preflight (and plain OPTIONS): no body, no metadata about fields."""
        return Response(status=204, headers={"Allow": ", ".join(self.allowed_methods)})

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """Add CORS and caching headers to every response, errors included."""
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in cors_headers(request).items():
            response[name] = value
        patch_vary_headers(response, ["Origin", "Authorization"])
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


def _visible_check(user: User, pk: int) -> Check:
    """The check if ``user`` may see it; otherwise 404 (also for ids out of range)."""
    if pk > MAX_DB_ID:
        raise NotFound("no such check")
    try:
        return selectors.check_get_for(user, pk)
    except Check.DoesNotExist as exc:
        raise NotFound("no such check") from exc


def _guard_upload_size(request: Request) -> None:
    """Refuse a body announced larger than the cap before reading any of it."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > settings.AUTHCHECK_MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD_BYTES:
        raise _too_large()


def _too_large() -> ApiProblem:
    limit = settings.AUTHCHECK_MAX_UPLOAD_BYTES
    return ApiProblem(f"the file is larger than {limit} bytes", code="too_large", status=413)


def _parsed(request: Request) -> Any:
    """Parse the body, then apply what the upload handler saw (over the cap, several files)."""
    _guard_upload_size(request)
    data = request.data
    raw = request._request
    if getattr(raw, TOO_LARGE_FLAG, False):
        raise _too_large()
    if getattr(raw, FILE_COUNT_ATTR, 0) > 1:
        raise ApiProblem("send one file per request", code="too_many_files", status=400)
    return data


class CheckListCreateView(ApiView):
    """``GET /checks`` (filtered, paginated) and ``POST /checks``."""

    permission_classes = [CanSubmitOrRead]
    parser_classes = [BoundedJSONParser, MultiPartParser]
    filter_backends = [DjangoFilterBackend]
    filterset_class = CheckFilter
    pagination_class = CheckPagination
    serializer_class = s.CheckSerializer
    throttle_scope = "submit"
    schema = ListSchema()

    def get_throttles(self) -> list[Any]:
        """Only submissions are rate limited."""
        return super().get_throttles() if self.request.method == "POST" else []

    def get_queryset(self) -> QuerySet[Check]:
        """Checks the caller may see, newest first."""
        if getattr(self, "swagger_fake_view", False):
            return Check.objects.none()
        return selectors.checks_with_evidence(selectors.checks_visible_to(self.request.user))

    @extend_schema(
        operation_id="checks_list",
        summary="List checks",
        description="Your own checks; editors and admins see every check.",
        responses={200: s.CheckSerializer(many=True), **problems(400, *AUTH_PROBLEMS)},
    )
    def get(self, request: Request) -> Response:
        """List visible checks."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(presenters.checks_to_list(page or [], request.user))

    @extend_schema(
        operation_id="checks_create",
        summary="Submit a check",
        description=(
            "JSON `{url, page_url?, note?}` or a multipart `file`, exactly one of the two; or "
            "`{page_url, page_only: true}` for streamed video the client cannot send (the "
            "server resolves the page). The browser extension adds `page_title`, `element` "
            "and an optional click-time `evidence` bundle (element details and a screenshot). "
            "202: queued (poll `links.self`). 200: the media is already known and examined with "
            "the current versions: the check is answered at once with its verdict. Journalists, "
            "API clients and admins submit; editors review and do not submit."
        ),
        request={
            "application/json": PolymorphicProxySerializer(
                component_name="CheckCreateBody",
                serializers=[s.CheckCreateJsonSerializer, s.CheckCreatePageSerializer],
                resource_type_field_name=None,
            ),
            "multipart/form-data": s.CheckCreateUploadSerializer,
        },
        responses={
            200: OpenApiResponse(s.CheckSerializer, description="known media, answered at once"),
            202: OpenApiResponse(s.CheckSerializer, description="queued"),
            **problems(400, *AUTH_PROBLEMS, 413, 415, 422),
        },
    )
    def post(self, request: Request) -> Response:
        """Record a check for a URL or an upload."""
        form = s.CheckCreateSerializer(data=_parsed(request))
        form.is_valid(raise_exception=True)
        data = form.validated_data
        upload = data.get("file")
        evidence = data.get("evidence")
        submission = check_service.check_create(
            user=request.user,
            client=data["client"],
            url=data.get("url"),
            upload=upload,
            filename=upload.name if upload is not None else "",
            page_url=data["page_url"],
            note=data["note"],
            page_title=data["page_title"],
            element=data["element"],
            page_only=data["page_only"],
            evidence=evidence_prepare(evidence) if evidence else None,
        )
        body = presenters.check_to_dict(submission.check, viewer=request.user, detail=False)
        if submission.known:
            return Response(body, status=200)
        return Response(body, status=202, headers={"Location": body["links"]["self"]})


class CheckDetailView(ApiView):
    """``GET /checks/{id}``."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="checks_retrieve",
        summary="One check",
        description=(
            "The check as the list shows it, plus `no_credentials`: for media without embedded "
            "Content Credentials, what was tried in order and what was found."
        ),
        responses={200: s.CheckDetailSerializer, **problems(*AUTH_PROBLEMS, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        """A check with stages, verdict, provenance, signals, similar media and, for media
        without Content Credentials, the account of their absence."""
        check = _visible_check(request.user, pk)
        return Response(presenters.check_to_dict(check, viewer=request.user))


class ReviewCreateView(ApiView):
    """``POST /checks/{id}/reviews``."""

    permission_classes = [CanReview]
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="checks_reviews_create",
        summary="Record a review decision",
        description=(
            "Editors and admins. A new verdict that supersedes the current one. With "
            "`AUTHCHECK_REVIEW_SIGNOFF=2` the decision is 202 `awaiting_signoff` until a second "
            "editor confirms it in the dashboard."
        ),
        request=s.ReviewCreateSerializer,
        responses={
            201: s.VerdictSerializer,
            202: inline_serializer(
                "PendingDecision",
                {
                    "status": drf_fields.CharField(),
                    "pending_decision": drf_fields.IntegerField(),
                    "decision": drf_fields.CharField(),
                },
            ),
            **problems(400, *AUTH_PROBLEMS, 404, 409, 415),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        """Record an editor's decision with its note (through the workflow, which applies the
        sign-off rule)."""
        check = _visible_check(request.user, pk)
        form = s.ReviewCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = decision_submit(check=check, user=request.user, **form.validated_data)
        location = presenters.links_for(check)["self"]
        if not isinstance(result, Verdict):
            body = {"status": "awaiting_signoff", "pending_decision": result.pk,
                    "decision": result.decision}  # fmt: skip
            return Response(body, status=202, headers={"Location": location})
        verdict = result
        return Response(
            presenters.verdict_to_dict(verdict), status=201, headers={"Location": location}
        )


class EvidenceScreenshotView(ApiView):
    """``GET /checks/{id}/evidence/screenshot``: the click-time screenshot of a check."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="checks_evidence_screenshot_retrieve",
        summary="Click-time screenshot of a check",
        description="The owner and editors. PNG or JPEG, as stored (its SHA-256 is in `evidence`).",
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="PNG"),
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="JPEG"),
            **problems(*AUTH_PROBLEMS, 404),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        """Stream the stored screenshot with a sandboxing CSP."""
        shot = (_visible_check(request.user, pk).evidence or {}).get("screenshot") or {}
        path = screenshot_path(shot["sha256"]) if shot.get("sha256") else None
        if path is None or not path.is_file():
            raise NotFound("this check has no screenshot")
        response = FileResponse(path.open("rb"), content_type=shot["mime"])
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class MeView(ApiView):
    """``GET /me``: who the token belongs to (the extension's connection test)."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="me_retrieve",
        summary="Who this token belongs to",
        description="Any role. User, role and token name; `service` is always `authcheck`.",
        responses={200: s.MeSerializer, **problems(*AUTH_PROBLEMS)},
    )
    def get(self, request: Request) -> Response:
        """The caller's user, role and token."""
        can_submit = has_role(request, SUBMITTERS)
        return Response(presenters.me_to_dict(request.user, request.auth, can_submit=can_submit))


class AuditView(ApiView):
    """``GET /checks/{id}/audit``."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="checks_audit_retrieve",
        summary="Audit events of a check",
        description="The owner and editors. `chain` says whether these events still link up.",
        responses={200: s.AuditSerializer, **problems(*AUTH_PROBLEMS, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        """The check's audit events, oldest first, with their chain status."""
        check = _visible_check(request.user, pk)
        chain = audit_verify(check_id=check.pk)
        return Response(
            {
                "check_id": check.pk,
                "events": [
                    presenters.audit_event_to_dict(e) for e in audit_events_for_check(check.pk)
                ],
                "chain": {
                    "ok": chain.ok,
                    "checked": chain.checked,
                    "first_bad_seq": chain.first_bad_seq,
                    "reason": chain.reason,
                    "description": chain.describe(),
                },
            }
        )


# ``POST /verify`` also takes the file as the whole body, declared as one of these types (the
# real type is still sniffed from the bytes; the declared one is never trusted).
RAW_BODY_TYPES = ("image/*", "video/*", "audio/*", "application/octet-stream", "application/pdf")
_RAW_MAIN_TYPES = frozenset(t.split("/")[0] for t in RAW_BODY_TYPES if t.endswith("/*"))


def is_raw_body(content_type: str) -> bool:
    """Whether ``content_type`` declares a raw file body (see ``RAW_BODY_TYPES``)."""
    media = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = media.partition("/")
    return bool(sub) and (main in _RAW_MAIN_TYPES or media in RAW_BODY_TYPES)


def _raw_body_name(request: Request) -> str:
    """The file name from ``Content-Disposition: attachment; filename=...``, if sent."""
    try:
        _, params = parse_header_parameters(request.headers.get("Content-Disposition", ""))
    except ValueError:  # e.g. an RFC 2231 parameter in an unknown encoding: no name, not a 500
        return "upload"
    return str(params.get("filename") or "upload")


class VerifyView(ApiView):
    """``POST /verify``: a synchronous C2PA report; nothing is stored."""

    permission_classes = [HasAnyRole]
    parser_classes = [MultiPartParser]
    throttle_scope = "submit"
    schema = RequiredBodySchema()

    @extend_schema(
        operation_id="verify_create",
        summary="Verify Content Credentials of a file",
        description=(
            "Send the file as multipart `file`, or as the whole request body with its media "
            "type (`image/*`, `video/*`, `audio/*`, `application/pdf` or "
            "`application/octet-stream`) and a `Content-Length`; an optional "
            '`Content-Disposition: attachment; filename="..."` names it in the report. The '
            "raw body is cheaper: it is written and hashed in one pass with no multipart "
            "parsing. Either way the real type is sniffed from the bytes, never taken from the "
            "declared type or the name; both forms give the same report for the same file."
        ),
        request={
            "multipart/form-data": s.VerifyUploadSerializer,
            **{media: OpenApiTypes.BINARY for media in RAW_BODY_TYPES},
        },
        responses={200: s.VerifyReportSerializer, **problems(400, *AUTH_PROBLEMS, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        """Read the uploaded file's C2PA manifest and report on it."""
        if is_raw_body(request.content_type):
            # Content-Length is a number here (RequestGuardMiddleware); chunked was refused.
            length = int(request.META.get("CONTENT_LENGTH") or 0)
            body = request.stream if length else None
            return Response(verify_body(body or io.BytesIO(), length, _raw_body_name(request)))
        form = s.VerifyUploadSerializer(data=_parsed(request))
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        name = upload.name or "upload"
        return Response(verify_upload(upload, name))


class MediaView(ApiView):
    """``GET /media/{sha256}``."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="media_retrieve",
        summary="A known media by SHA-256",
        description=(
            "Any role. The latest C2PA report and signals of the bytes. The verdict is that of "
            "your newest check of this media; if you cannot see any, the automated verdict of "
            "its newest check, without check id, reviewer or notes."
        ),
        parameters=[
            OpenApiParameter("sha256", str, OpenApiParameter.PATH, pattern="^[0-9a-fA-F]{64}$")
        ],
        responses={200: s.MediaReportSerializer, **problems(400, *AUTH_PROBLEMS, 404)},
    )
    def get(self, request: Request, sha256: str) -> Response:
        """Report on a known media."""
        if not SHA256_RE.fullmatch(sha256):
            raise ApiProblem(
                "sha256 must be 64 hexadecimal digits", code="invalid_sha256", status=400
            )
        media = selectors.media_by_sha(sha256)
        if media is None:
            raise NotFound("no media with this sha256")
        shown = selectors.media_evidence_for(request.user, media)
        return Response(presenters.media_report_to_dict(media, shown))


# --- schema and docs ---------------------------------------------------------------------------

DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 document; public, so the docs page can load it without a token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from the locally installed sidecar: no CDN, no inline script."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    url_name = "api-schema"

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return static(f"drf_spectacular_sidecar/swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png")

    def _dump(self, data: Any) -> str:
        # Swagger UI otherwise asks validator.swagger.io to validate the schema (external URL).
        if data is spectacular_settings.SWAGGER_UI_SETTINGS:
            data = {**data, "validatorUrl": None}
        return super()._dump(data)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """Add a strict CSP (Swagger UI needs inline styles, never inline scripts)."""
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response
