"""Request validation, and the response shapes for the OpenAPI document.

Responses are built by ``authcheck.presenters`` (shared with the command line); the output
serializers below only describe those shapes to drf-spectacular and are never used to render.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from rest_framework import serializers

from authcheck.jsonsafe import clean_text
from authcheck.models import (
    CheckClient,
    CheckElement,
    CheckStatus,
    ReviewDecision,
    RunState,
    VerdictLabel,
)
from authcheck.pipeline.fetch import MAX_URL_LENGTH

TEXT_LIMIT = 4000
URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://"
# A character that str.strip() keeps, in syntax both Python and ECMA-262 read alike: fields
# are stripped before the blank check, so the schema must not call "\f" or "\x1c" a valid note.
NOT_ONLY_WHITESPACE = (
    r"[^\t\n\v\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)


# --- requests ------------------------------------------------------------------------------------


class PageTextField(serializers.CharField):
    """Text a web page controls (titles, element URLs): NUL, other control characters and lone
    surrogates are stripped rather than refused, since the journalist cannot fix the page."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        current: list[Any] = self.validators  # type: ignore[has-type]
        self.validators = [v for v in current if not isinstance(v, ProhibitNullCharactersValidator)]

    def to_internal_value(self, data: Any) -> str:
        """The string with what PostgreSQL and a reader's terminal cannot take removed."""
        return clean_text(super().to_internal_value(data))


class EvidenceMediaSerializer(serializers.Serializer):
    """The clicked media element as the page showed it (all optional: pages differ)."""

    tag = serializers.ChoiceField(choices=["video", "img", "audio", ""], required=False)
    current_src = PageTextField(required=False, allow_blank=True, max_length=TEXT_LIMIT)
    src = PageTextField(required=False, allow_blank=True, max_length=TEXT_LIMIT)
    poster = PageTextField(required=False, allow_blank=True, max_length=TEXT_LIMIT)
    width = serializers.IntegerField(required=False, min_value=0, max_value=100_000)
    height = serializers.IntegerField(required=False, min_value=0, max_value=100_000)
    current_time = serializers.FloatField(
        required=False, allow_null=True, min_value=0, max_value=1e9
    )
    duration = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1e9)
    streamed = serializers.BooleanField(
        required=False, help_text="blob: or MediaSource: the bytes could not be sent"
    )


class EvidenceSerializer(serializers.Serializer):
    """Click-time evidence bundle sent by the browser extension (stored with SHA-256 hashes)."""

    clicked_at = serializers.DateTimeField(help_text="when the user clicked, client clock")
    media = EvidenceMediaSerializer(required=False)
    screenshot = serializers.RegexField(
        r"^data:image/(png|jpeg);base64,",
        required=False,
        max_length=1024 * 1024,
        help_text="the visible tab at the click: a PNG or JPEG data: URL; the decoded image "
        "is capped by AUTHCHECK_EVIDENCE_MAX_BYTES (413 evidence_too_large)",
    )


class _NulLeftToTheService:
    """Drops DRF's NUL check from a URL field: the schema allows any character, and the
    service's own URL rules answer a NUL with ``url_invalid`` (422), as for any other control
    character. (In ``__init__``: DRF rebuilds declared fields from their arguments.)"""

    validators: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]


class UrlCharField(_NulLeftToTheService, serializers.CharField):
    """A URL as text, checked by the service (``validate_url``)."""


class UrlRegexField(_NulLeftToTheService, serializers.RegexField):
    """A URL with a schema pattern, checked by the service (``validate_url``)."""


class _SubmissionFields(serializers.Serializer):
    """What every form of ``POST /checks`` shares: the one description of those fields."""

    page_url = serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_LIMIT, default="",
        help_text="page the media was found on (fetched only with page_only)",
    )  # fmt: skip
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_LIMIT, default=""
    )
    client = serializers.ChoiceField(
        choices=[CheckClient.API, CheckClient.EXTENSION],
        required=False,
        default=CheckClient.API,
        help_text="which client submits (the browser extension says so)",
    )
    page_title = PageTextField(
        required=False, allow_blank=True, max_length=500, default="",
        help_text="title of the page the media was found on",
    )  # fmt: skip
    element = serializers.ChoiceField(
        choices=CheckElement.choices, required=False, allow_blank=True, default="",
        help_text="what was clicked: video, image, audio, link, page (or file)",
    )  # fmt: skip


class _ClickFields(_SubmissionFields):
    """What a click in the browser extension adds to a JSON submission."""

    evidence = EvidenceSerializer(required=False)


class CheckCreateSerializer(_ClickFields):
    """``POST /checks``: exactly one of ``url`` (JSON or form field), ``file`` (multipart) and
    ``page_only``.

    ``url`` is checked here only for length; ``validate_url`` gives its own codes (url_scheme,
    url_blocked, ...) for the rest."""

    url = UrlCharField(
        required=False, max_length=MAX_URL_LENGTH, trim_whitespace=True, help_text="media URL"
    )
    file = serializers.FileField(
        required=False, allow_empty_file=True, use_url=False, help_text="media file"
    )
    page_only = serializers.BooleanField(
        required=False, default=False,
        help_text="no media URL could be sent (streamed video): the server fetches page_url "
        "and finds the media itself; fails as media_not_found_on_page when nothing resolves",
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Exactly one source: a URL, a file, or a page to resolve (which needs its URL)."""
        if attrs["page_only"]:
            if "url" in attrs or "file" in attrs:
                raise serializers.ValidationError("page_only takes page_url, not url or file")
            if not attrs["page_url"]:
                raise serializers.ValidationError({"page_url": ["page_only needs the page URL"]})
        elif ("url" in attrs) == ("file" in attrs):
            raise serializers.ValidationError("give exactly one of url or file")
        return attrs


class CheckCreateJsonSerializer(_ClickFields):
    """The JSON form of ``POST /checks`` for a media URL (schema only)."""

    # What the schema can say of validate_url: an http(s) URL of bounded length. Whether its
    # host and port may be fetched is decided by the server (422 url_blocked, url_port, ...).
    url = serializers.RegexField(
        URL_PATTERN, max_length=MAX_URL_LENGTH, help_text="http(s) URL of the media"
    )
    page_only = serializers.ChoiceField(choices=[False], required=False)


class CheckCreatePageSerializer(_ClickFields):
    """The JSON form of ``POST /checks`` for a page whose media the server finds (schema only).

    For streamed video (``blob:``, MediaSource) the client cannot send: the server fetches the
    page and takes og:video, twitter:player:stream, JSON-LD contentUrl or <video>/<source>.
    """

    page_only = serializers.ChoiceField(choices=[True])
    page_url = serializers.RegexField(
        URL_PATTERN, max_length=MAX_URL_LENGTH, help_text="http(s) URL of the page to resolve"
    )


class CheckCreateUploadSerializer(_SubmissionFields):
    """The multipart form of ``POST /checks`` (schema only)."""

    file = serializers.FileField()


class NoteField(serializers.CharField):
    """A reviewer's note: NUL (which PostgreSQL cannot store) becomes U+FFFD, visibly, instead
    of failing a request the schema calls valid; every other character is kept as written."""

    def to_internal_value(self, data: Any) -> str:
        """The note with NUL replaced."""
        text = data.replace("\x00", "\ufffd") if isinstance(data, str) else data
        return str(super().to_internal_value(text))


class ReviewCreateSerializer(serializers.Serializer):
    """``POST /checks/{id}/reviews``."""

    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    note = NoteField(
        max_length=10000,
        validators=[RegexValidator(NOT_ONLY_WHITESPACE, message="the note may not be blank")],
        help_text="the evidence the decision rests on",
    )


class VerifyUploadSerializer(serializers.Serializer):
    """``POST /verify``: one file."""

    file = serializers.FileField(allow_empty_file=True, use_url=False)


# --- responses (schema only) ---------------------------------------------------------------------


class ProblemSerializer(serializers.Serializer):
    """An error (RFC 9457 problem details) with a stable ``code``."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="stable machine-readable error code")
    detail = serializers.CharField()
    errors = serializers.DictField(
        required=False, help_text="field -> messages (validation_error only)"
    )


class StageSerializer(serializers.Serializer):
    name = serializers.CharField()
    state = serializers.CharField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class VerdictSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["automated", "review"])
    label = serializers.ChoiceField(choices=VerdictLabel.choices, allow_null=True)
    decision = serializers.ChoiceField(choices=ReviewDecision.choices, allow_null=True)
    summary = serializers.CharField()
    rule = serializers.CharField()
    versions = serializers.DictField(help_text="every version the verdict rests on")
    note = serializers.CharField(allow_null=True)
    reviewer = serializers.CharField(allow_null=True)
    supersedes = serializers.IntegerField(allow_null=True)
    replaces = serializers.IntegerField(
        allow_null=True, help_text="the automated verdict a re-verification replaced"
    )
    cause = serializers.DictField(
        allow_null=True, help_text="what changed and why (re-verification verdicts only)"
    )
    created_at = serializers.DateTimeField(allow_null=True)


class SignalSerializer(serializers.Serializer):
    """What one detector version found: evidence of the verdict (``id`` as audited)."""

    id = serializers.IntegerField()
    detector = serializers.CharField()
    version = serializers.CharField()
    label = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    evidence = serializers.DictField()
    runtime_ms = serializers.FloatField()
    error = serializers.CharField(allow_null=True)


class DetectorRunSerializer(serializers.Serializer):
    """A detector run still under way: progress, never evidence."""

    detector = serializers.CharField()
    version = serializers.CharField()
    state = serializers.ChoiceField(choices=RunState.choices)
    attempts = serializers.IntegerField()
    started = serializers.DateTimeField(allow_null=True)


class MediaSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    mime = serializers.CharField()
    kind = serializers.CharField()
    probe = serializers.DictField(allow_null=True)
    first_seen = serializers.DateTimeField(allow_null=True)


class SourceSerializer(serializers.Serializer):
    type = serializers.CharField()
    url = serializers.CharField(allow_null=True)
    page_url = serializers.CharField(allow_null=True)
    page_title = serializers.CharField(allow_null=True)
    filename = serializers.CharField(allow_null=True)
    element = serializers.CharField(allow_null=True)
    page_only = serializers.BooleanField()
    resolution = serializers.DictField(
        allow_null=True, help_text="page_only: the candidate taken, why, and those refused"
    )


class ScreenshotSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    mime = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class EvidenceBundleSerializer(serializers.Serializer):
    """The stored click-time evidence; ``sha256`` is that of its canonical JSON."""

    clicked_at = serializers.DateTimeField(allow_null=True)
    media = serializers.DictField(required=False)
    screenshot = ScreenshotSerializer(allow_null=True)
    sha256 = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class CheckLinksSerializer(serializers.Serializer):
    self = serializers.CharField()
    audit = serializers.CharField()
    reviews = serializers.CharField()
    media = serializers.CharField(required=False)
    evidence_screenshot = serializers.CharField(required=False)


class CheckSerializer(serializers.Serializer):
    """A check (SPEC section 6)."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=CheckStatus.choices)
    source = SourceSerializer()
    client = serializers.CharField()
    note = serializers.CharField(allow_null=True)
    submitter = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()
    stages = StageSerializer(many=True)
    verdict = VerdictSerializer(allow_null=True)
    verdict_history = VerdictSerializer(many=True)
    media = MediaSerializer(allow_null=True)
    provenance = serializers.DictField(
        allow_null=True,
        help_text="the C2PA report (SPEC section 3) the automated verdict was issued against",
    )
    signals = SignalSerializer(many=True, help_text="the signals the verdict rests on")
    progress = DetectorRunSerializer(many=True, help_text="detector runs still under way")
    similar = serializers.ListField(child=serializers.DictField())
    error = ErrorSerializer(allow_null=True)
    evidence = EvidenceBundleSerializer(allow_null=True)
    review_needed = serializers.BooleanField(
        help_text="re-verification changed the automated verdict under an editor's decision"
    )
    review_needed_since = serializers.DateTimeField(allow_null=True)
    links = CheckLinksSerializer()


class AbsenceStepSerializer(serializers.Serializer):
    step = serializers.CharField(help_text="embedded_manifest, near_duplicate_signed, ...")
    tried = serializers.CharField()
    found = serializers.BooleanField()
    detail = serializers.CharField()


class NoCredentialsSerializer(serializers.Serializer):
    tried = AbsenceStepSerializer(many=True, help_text="in the order they were tried")
    summary = serializers.CharField()


class CheckDetailSerializer(CheckSerializer):
    """One check (``GET /checks/{id}``): the list's fields plus ``no_credentials``."""

    no_credentials = NoCredentialsSerializer(
        allow_null=True,
        help_text="media without embedded Content Credentials: what was tried and found",
    )


class MeTokenSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    prefix = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


class MeSerializer(serializers.Serializer):
    """Who a token belongs to (the extension's connection test)."""

    service = serializers.CharField(help_text='always "authcheck"')
    version = serializers.CharField()
    user = serializers.CharField()
    role = serializers.CharField()
    can_submit = serializers.BooleanField()
    token = MeTokenSerializer()


class MediaLinksSerializer(serializers.Serializer):
    self = serializers.CharField()


class MediaReportSerializer(serializers.Serializer):
    """A known media with its latest report and verdict."""

    media = MediaSerializer()
    provenance = serializers.DictField(allow_null=True)
    signals = SignalSerializer(many=True)
    verdict = VerdictSerializer(allow_null=True)
    check_id = serializers.IntegerField(allow_null=True)
    links = MediaLinksSerializer()


class AuditEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    data = serializers.DictField()
    hash = serializers.CharField()
    prev_hash = serializers.CharField()


class ChainStatusSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    first_bad_seq = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    description = serializers.CharField()


class AuditSerializer(serializers.Serializer):
    """The audit events of a check, with the status of their links in the chain."""

    check_id = serializers.IntegerField()
    events = AuditEventSerializer(many=True)
    chain = ChainStatusSerializer()


class FailureSerializer(serializers.Serializer):
    code = serializers.CharField()
    explanation = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)


class VerifyReportSerializer(serializers.Serializer):
    """A synchronous C2PA report (SPEC section 3)."""

    file = serializers.CharField(allow_blank=True)
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    mime = serializers.CharField(allow_null=True)
    state = serializers.ChoiceField(
        choices=["trusted", "valid", "invalid", "absent", "unsupported", "error"]
    )
    failures = FailureSerializer(many=True)
    active_manifest = serializers.DictField(allow_null=True)
    ingredients = serializers.ListField(child=serializers.DictField())
    ingredients_invalid = serializers.BooleanField()
    ai_declared = serializers.BooleanField()
    ai_declaration = serializers.DictField(allow_null=True)
    sdk_version = serializers.CharField()
    trust_version = serializers.CharField()
    raw_sha256 = serializers.CharField(allow_blank=True)
    error_code = serializers.CharField(allow_blank=True)
    error = ErrorSerializer(allow_null=True)


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField()
    checks = serializers.DictField(child=serializers.CharField(), required=False)
