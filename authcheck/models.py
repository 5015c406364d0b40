"""authcheck data model (SPEC section 1).

Results are append-only: a verdict is superseded by a newer row, never edited; audit events are
never updated or deleted. State changes happen only in ``authcheck.services``.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from authcheck.pipeline.verdict import ReportState


class Role(models.TextChoices):
    JOURNALIST = "journalist", "Journalist"
    EDITOR = "editor", "Editor"
    API_CLIENT = "api_client", "API client"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    """A person or API client. No role means no access at all (deny by default)."""

    role = models.CharField(max_length=20, choices=Role.choices, blank=True, default="")

    @property
    def sees_all_checks(self) -> bool:
        """Editors and admins see every check; everyone else only their own."""
        return self.is_active and self.role in {Role.EDITOR, Role.ADMIN}


class ApiToken(models.Model):
    """A bearer token. Only the SHA-256 of its secret is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token {self.prefix} of {self.user_id}"


class MediaKind(models.TextChoices):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"  # PDF, office files, EPUB: Content Credentials only
    OTHER = "other"


class Media(models.Model):
    """Bytes identified by SHA-256, stored once under a random, extensionless name."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    mime = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=MediaKind.choices, default=MediaKind.OTHER)
    storage_name = models.CharField(max_length=100, unique=True)
    # Set when retention removed the bytes; hashes, reports, signals and verdicts remain.
    purged_at = models.DateTimeField(null=True, blank=True)
    probe = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256


class CheckStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class CheckClient(models.TextChoices):
    EXTENSION = "extension"
    DASHBOARD = "dashboard"
    API = "api"
    CLI = "cli"


class SourceType(models.TextChoices):
    URL = "url"
    UPLOAD = "upload"
    FILE = "file"


class CheckElement(models.TextChoices):
    """What the user clicked in the browser extension (blank for other clients)."""

    VIDEO = "video"
    IMAGE = "image"
    AUDIO = "audio"
    LINK = "link"
    PAGE = "page"
    FILE = "file"


class Check(models.Model):
    """One request to examine media. Many checks may share one media."""

    media = models.ForeignKey(
        Media, null=True, blank=True, on_delete=models.PROTECT, related_name="checks"
    )
    source_type = models.CharField(max_length=10, choices=SourceType.choices)
    source_url = models.TextField(blank=True, default="")
    page_url = models.TextField(blank=True, default="")
    page_title = models.CharField(max_length=500, blank=True, default="")
    element = models.CharField(max_length=10, choices=CheckElement.choices, blank=True, default="")
    # The client could not send the media (streamed video): the server resolves ``page_url``.
    page_only = models.BooleanField(default=False)
    # Which candidate the page resolver took and why, and what it tried before (page_only).
    resolution = models.JSONField(default=dict, blank=True)
    # Click-time evidence from the extension (element details, screenshot hash), validated.
    evidence = models.JSONField(default=dict, blank=True)
    # Client-supplied name, for display only: never used to name anything on disk.
    original_filename = models.CharField(max_length=255, blank=True, default="")
    submitter = models.ForeignKey(User, on_delete=models.PROTECT, related_name="checks")
    client = models.CharField(max_length=10, choices=CheckClient.choices, default=CheckClient.API)
    note = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=10, choices=CheckStatus.choices, default=CheckStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    # "host:pid" of the process working on it, so a crashed worker's claim can be taken over.
    claimed_by = models.CharField(max_length=200, blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    # Earlier media whose frames match this check's media, found when the check finished.
    similar = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Re-verification: the versions key this check was last re-examined under, and when a
    # re-examination flipped its automated verdict under an editor's decision (cleared by the
    # editor's next decision).
    reverified_key = models.CharField(max_length=64, blank=True, default="")
    review_needed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["submitter", "-created_at"]),
            models.Index(fields=["status", "lease_expires_at"]),
            # The pending cap counts a user's unfinished checks at every submission: this keeps
            # the count at the size of the queue, not of the user's whole history.
            models.Index(
                fields=["submitter"],
                condition=models.Q(status__in=["queued", "running"]),
                name="check_unfinished_by_submitter",
            ),
        ]

    def __str__(self) -> str:
        return f"check #{self.pk}"


class StageState(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class CheckStage(models.Model):
    """Progress and timing of one pipeline stage of one check."""

    check_ref = models.ForeignKey(
        Check, on_delete=models.CASCADE, related_name="stages", db_column="check_id"
    )
    name = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=StageState.choices, default=StageState.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["check_ref", "name"], name="uniq_stage_per_check"),
        ]

    def __str__(self) -> str:
        return f"{self.name} of check #{self.check_ref_id}: {self.state}"


class ProvenanceState(models.TextChoices):
    """The verdict rules' ``ReportState``, as model choices (one list of states)."""

    TRUSTED = ReportState.TRUSTED.value
    VALID = ReportState.VALID.value
    INVALID = ReportState.INVALID.value
    ABSENT = ReportState.ABSENT.value
    UNSUPPORTED = ReportState.UNSUPPORTED.value
    ERROR = ReportState.ERROR.value


class ProvenanceReport(models.Model):
    """C2PA verification of one media under one trust configuration and SDK version."""

    media = models.ForeignKey(Media, on_delete=models.CASCADE, related_name="provenance_reports")
    trust_version = models.CharField(max_length=64)
    sdk_version = models.CharField(max_length=40)
    state = models.CharField(max_length=12, choices=ProvenanceState.choices)
    # Control-character-free projection of the report (section 3 shape), safe for jsonb.
    report = models.JSONField()
    # The manifest store JSON exactly as the SDK returned it: bytes, with their hash.
    raw_manifest = models.BinaryField(null=True, blank=True)
    raw_manifest_sha256 = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["media", "trust_version", "sdk_version"], name="uniq_report_per_trust_sdk"
            ),
        ]

    def __str__(self) -> str:
        return f"C2PA report of media {self.media_id}: {self.state}"


class Signal(models.Model):
    """What one detector version found on one media: evidence only, written when its run ends.

    Whether the detector is still to run, running, or was set aside lives on ``DetectorRun``.
    """

    media = models.ForeignKey(Media, on_delete=models.CASCADE, related_name="signals")
    detector = models.CharField(max_length=60)
    version = models.CharField(max_length=20)
    score = models.FloatField(null=True, blank=True)
    label = models.CharField(max_length=60)
    evidence = models.JSONField(default=dict)
    runtime_ms = models.FloatField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["media", "detector", "version"], name="uniq_signal_per_detector_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.detector} v{self.version} on media {self.media_id}: {self.label}"


class RunState(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


class DetectorRun(models.Model):
    """The work of running one detector version on one media: state, attempts and timings.

    One row per (media, detector, version), like the scanner results of addons-server: the
    state is its own column, and ``signal`` points at the evidence once the run is over.
    """

    media = models.ForeignKey(Media, on_delete=models.CASCADE, related_name="detector_runs")
    detector = models.CharField(max_length=60)
    version = models.CharField(max_length=20)
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    signal = models.OneToOneField(
        Signal, null=True, blank=True, on_delete=models.SET_NULL, related_name="run"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["media", "detector", "version"], name="uniq_run_per_detector_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.detector} v{self.version} on media {self.media_id}: {self.state}"


class VerdictLabel(models.TextChoices):
    PROVENANCE_VERIFIED = "provenance_verified"
    PROVENANCE_UNTRUSTED = "provenance_untrusted"
    DECLARED_SYNTHETIC = "declared_synthetic"
    CREDENTIALS_INVALID = "credentials_invalid"
    SYNTHETIC_INDICATORS = "synthetic_indicators"
    NO_PROVENANCE = "no_provenance"
    ERROR = "error"


class ReviewDecision(models.TextChoices):
    AUTHENTIC = "authentic"
    SYNTHETIC = "synthetic"
    MANIPULATED = "manipulated"
    MISATTRIBUTED = "misattributed"
    INCONCLUSIVE = "inconclusive"


class Verdict(models.Model):
    """An automated conclusion or a reviewer decision. Append-only; the newest row is current."""

    check_ref = models.ForeignKey(
        Check, on_delete=models.CASCADE, related_name="verdicts", db_column="check_id"
    )
    label = models.CharField(max_length=30, choices=VerdictLabel.choices, blank=True, default="")
    decision = models.CharField(
        max_length=20, choices=ReviewDecision.choices, blank=True, default=""
    )
    summary = models.TextField()
    rule = models.CharField(max_length=80)
    versions = models.JSONField(default=dict)
    note = models.TextField(blank=True, default="")
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="verdicts"
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    # A re-verification's automated verdict names the automated verdict it replaces (one
    # successor each: two passes cannot both replace it) and what changed, in ``cause``.
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    cause = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One first automated verdict per check: a redelivered task cannot add a second;
            # later automated verdicts each replace the one before (``replaces``).
            models.UniqueConstraint(
                fields=["check_ref"],
                condition=Q(author__isnull=True, replaces__isnull=True),
                name="uniq_auto_verdict_per_check",
            ),
            models.CheckConstraint(
                condition=(Q(author__isnull=True) & ~Q(label=""))
                | (Q(author__isnull=False) & ~Q(decision="")),
                name="verdict_is_label_or_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"verdict of check #{self.check_ref_id}: {self.label or self.decision}"


class AuditEvent(models.Model):
    """Append-only, hash-chained record of every state change and every human action.

    ``body`` is canonical JSON text; ``hash = sha256(prev_hash | seq | body)``. On PostgreSQL
    triggers assign seq/prev_hash/hash and refuse UPDATE, DELETE and TRUNCATE.
    """

    seq = models.BigIntegerField(unique=True)
    # The same instant as the body's hashed "at" (the audit writer sets both); the verifier
    # compares them, so this copy cannot be changed unnoticed.
    created_at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    check_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    body = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"audit #{self.seq} {self.action}"


class TrustAnchor(models.Model):
    """A C2PA trust anchor managed by admins, added to those from AUTHCHECK_TRUST_ANCHORS."""

    name = models.CharField(max_length=200)
    pem = models.TextField()
    sha256 = models.CharField(max_length=64, unique=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return self.name


class TrustListImport(models.Model):
    """A PEM bundle imported for a named trust list (``trust_import``); the newest one of a
    name replaces the bundle shipped in ``authcheck/trust_data/``. Rows are never edited."""

    name = models.CharField(max_length=32)  # c2pa, tsa, legacy, legacy-allowed
    pem = models.TextField()
    sha256 = models.CharField(max_length=64)  # of the normalised bundle
    certificates = models.PositiveIntegerField()
    source = models.CharField(max_length=500, blank=True)  # file names given to the command
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["name", "-id"], name="trustlist_name_newest")]

    def __str__(self) -> str:
        return f"{self.name} {self.sha256[:12]}"


# Frame indexes of reference-archive rows start here: they never collide with the rows of the
# same bytes checked as media, and the partial indexes below tell the two apart.
REFERENCE_FRAME_BASE = 1_000_000_000
# Stored variants of reference frames that seed a trace (``tracing.SEED_VARIANTS`` looks them up).
SEED_STORED = ("full", "c90", "t00", "t02", "t20", "t22")


def words_hex(words: tuple[int, ...]) -> str:
    """64 hex digits of a hash given as four signed 64-bit words, most significant first."""
    return "".join(f"{w & 0xFFFFFFFFFFFFFFFF:016x}" for w in words)


def chunk_cover(chunk: int) -> list[str]:
    """What the index of chunk ``c<chunk>`` carries besides the chunk: the first three chunks
    of the word two words on and the whole word one word on (112 bits from the other words).

    Smallints first, then the 64-bit word: with the 2-byte key they fill 24 bytes exactly.
    """
    word = chunk // 4
    other = 4 * ((word + 2) % 4)
    return [f"c{other}", f"c{other + 1}", f"c{other + 2}", f"h{(word + 1) % 4}"]


class FrameHash(models.Model):
    """A PDQ hash of one sampled frame (or a crop of it), searchable for source tracing.

    The 256 bits are stored once, as ``h0``..``h3`` (four signed 64-bit integers, most
    significant first: the database confirms a candidate with integer XOR and ``bit_count``);
    ``hash`` gives them back as 64 hex digits. They are also split into sixteen 16-bit chunks
    ``c0``..``c15``, stored as signed 16-bit integers (two's complement: the same bits, so XOR of
    stored chunks is XOR of the chunks; ``similarity.stored_chunks``), each with its own btree
    index: any hash within Hamming distance 31 shares at least one chunk within distance 1 of
    the query (pigeonhole), so a lookup probes 16 x 17 index ranges instead of scanning every
    row (migration 0012 has the sizes).
    """

    # No index of its own: the unique (media, frame_index, variant) index starts with media.
    media = models.ForeignKey(
        Media, on_delete=models.CASCADE, related_name="frame_hashes", db_index=False
    )
    frame_index = models.PositiveIntegerField()
    timestamp = models.FloatField(default=0.0)
    variant = models.CharField(max_length=20, default="full")
    quality = models.PositiveSmallIntegerField(default=0)
    h0 = models.BigIntegerField()
    h1 = models.BigIntegerField()
    h2 = models.BigIntegerField()
    h3 = models.BigIntegerField()
    c0 = models.SmallIntegerField()
    c1 = models.SmallIntegerField()
    c2 = models.SmallIntegerField()
    c3 = models.SmallIntegerField()
    c4 = models.SmallIntegerField()
    c5 = models.SmallIntegerField()
    c6 = models.SmallIntegerField()
    c7 = models.SmallIntegerField()
    c8 = models.SmallIntegerField()
    c9 = models.SmallIntegerField()
    c10 = models.SmallIntegerField()
    c11 = models.SmallIntegerField()
    c12 = models.SmallIntegerField()
    c13 = models.SmallIntegerField()
    c14 = models.SmallIntegerField()
    c15 = models.SmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["media", "frame_index", "variant"],
                name="uniq_framehash_per_media_frame_variant",
            ),
        ]
        indexes = (
            [
                # Checked media only (partial): reference footage is traced on the pair
                # indexes below. Each chunk index carries 112 more bits of the hash (three
                # chunks and a 64-bit word from the other words, ``chunk_cover``), so the
                # lookup rejects nearly every candidate on an index-only scan and reads the
                # table only for the few left: 24-byte index tuples instead of 72.
                models.Index(
                    fields=[f"c{i}"],
                    include=chunk_cover(i),
                    name=f"framehash_c{i}_narrow",
                    condition=Q(frame_index__lt=REFERENCE_FRAME_BASE),
                )
                for i in range(16)
            ]
            + [
                # Source tracing seeds its lookup on an exact 32-bit chunk (two adjacent
                # columns): at millions of rows a 16-bit probe draws hundreds of random rows,
                # a pair almost none. Reference footage only, and only the variants a seed
                # looks for (whole frame, centre crop, corner tiles; partial).
                models.Index(
                    fields=[f"c{i}", f"c{i + 1}"],
                    name=f"framehash_seed_c{i}_c{i + 1}",
                    condition=Q(frame_index__gte=REFERENCE_FRAME_BASE, variant__in=SEED_STORED),
                )
                for i in range(0, 16, 2)
            ]
            + [
                # Verifying an alignment reads one reference item's frames around a time: the
                # frame range from the whole-frame rows (1 in 11), then every variant of those
                # frames on the unique (media, frame_index, variant) index.
                models.Index(
                    fields=["media", "timestamp"],
                    name="framehash_ref_full_time",
                    condition=Q(frame_index__gte=REFERENCE_FRAME_BASE, variant="full"),
                ),
            ]
        )

    def __str__(self) -> str:
        return f"frame {self.frame_index} of media {self.media_id}"

    @property
    def hash(self) -> str:
        """The 256-bit hash as 64 hex digits (from ``h0``..``h3``)."""
        return words_hex((self.h0, self.h1, self.h2, self.h3))

    @classmethod
    def check(cls, **kwargs: object) -> list:
        """Django's model checks, minus W040 ("no indexes with non-key columns") for this model.

        ``include`` is a PostgreSQL optimisation; on SQLite the plain chunk index that remains is
        exactly what the lookup there needs, so the warning would only be noise at every migrate.
        """
        return [m for m in super().check(**kwargs) if m.id != "models.W040"]


class WebhookEvent(models.TextChoices):
    CHECK_FINISHED = "check.finished"
    VERDICT_CHANGED = "verdict.changed"


class Webhook(models.Model):
    """A receiver of signed event deliveries, owned by a user (and the token that made it).

    The signing secret is never stored: it is derived from ``secret_salt`` and SECRET_KEY
    (``services.webhooks``), so a database dump alone cannot forge deliveries."""

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="webhooks")
    token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.TextField()
    events = models.JSONField(default=list)
    secret_salt = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"webhook #{self.pk} of {self.owner_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """One event for one webhook: its body (signed afresh on each attempt) and its log."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    event_id = models.CharField(max_length=64)
    check_id = models.BigIntegerField(null=True, blank=True)
    body = models.TextField()
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event_id"], name="uniq_delivery_event"),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"delivery #{self.pk} ({self.event})"


class ReferenceState(models.TextChoices):
    PENDING = "pending"
    INDEXING = "indexing"
    INDEXED = "indexed"
    ERROR = "error"


class ReferenceItem(models.Model):
    """A file of known footage in a reference collection (a newsroom's archive), traced against.

    Its frame hashes are ``FrameHash`` rows of its media, in the same index as checked media,
    with tile variants (``authcheck.tiles``). ``indexed_until`` is how far (seconds) indexing
    got, so an interrupted run resumes there; no check is ever created for reference media.
    """

    media = models.ForeignKey(Media, on_delete=models.PROTECT, related_name="references")
    collection = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    source_url = models.URLField(max_length=2000, blank=True, default="")
    original_path = models.CharField(max_length=1000, blank=True, default="")
    state = models.CharField(
        max_length=10, choices=ReferenceState.choices, default=ReferenceState.PENDING
    )
    duration = models.FloatField(default=0.0)
    indexed_until = models.FloatField(default=0.0)
    frames_indexed = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    indexed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["media", "collection"], name="uniq_reference_media_collection"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collection}: {self.title}"
