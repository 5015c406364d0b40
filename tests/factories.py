"""factory_boy factories for the data model; tokens come from the real service (token_for)."""

from __future__ import annotations

import hashlib
import secrets

import factory
from factory.django import DjangoModelFactory

from authcheck.models import (
    Check,
    CheckStatus,
    Media,
    MediaKind,
    Role,
    Signal,
    SourceType,
    User,
    Verdict,
    VerdictLabel,
)
from authcheck.services.tokens import token_create


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.JOURNALIST
    password = factory.django.Password(None)  # unusable, like API users


class MediaFactory(DjangoModelFactory):
    class Meta:
        model = Media

    sha256 = factory.LazyFunction(lambda: hashlib.sha256(secrets.token_bytes(16)).hexdigest())
    size = 1234
    mime = "image/jpeg"
    kind = MediaKind.IMAGE
    storage_name = factory.LazyFunction(lambda: secrets.token_hex(16))


class CheckFactory(DjangoModelFactory):
    class Meta:
        model = Check

    submitter = factory.SubFactory(UserFactory)
    source_type = SourceType.URL
    source_url = factory.Sequence(lambda n: f"https://news.example/video{n}.mp4")
    status = CheckStatus.QUEUED


class DoneCheckFactory(CheckFactory):
    """A finished check with media and an automated verdict."""

    class Meta:
        skip_postgeneration_save = True

    media = factory.SubFactory(MediaFactory)
    status = CheckStatus.DONE
    verdict = factory.RelatedFactory(
        "tests.factories.VerdictFactory", factory_related_name="check_ref"
    )


class VerdictFactory(DjangoModelFactory):
    class Meta:
        model = Verdict
        skip_postgeneration_save = True

    check_ref = factory.SubFactory(CheckFactory)
    label = VerdictLabel.NO_PROVENANCE
    summary = "No Content Credentials and no signal: this is not evidence of authenticity."
    rule = "no_provenance"
    # The versions the evidence is picked by (selectors.check_evidence): a SignalFactory
    # signal (ai_labels v1) is evidence of this verdict, a report under trust "t1" too.
    versions = factory.LazyFunction(
        lambda: {"rules": "1", "trust": "t1", "c2pa_sdk": "sdk1", "detectors": {"ai_labels": "1"}}
    )

    @factory.post_generation
    def audited(self, create: bool, extracted: object, **kwargs: object) -> None:
        """Record the verdict in the audit trail as the services do (audit_verify checks every
        verdict row against its event)."""
        if not create:
            return
        from django.db import transaction

        from authcheck.services.audit import audit_record, verdict_digest

        with transaction.atomic():
            audit_record(
                actor="system",
                action="review.recorded" if self.author_id else "verdict.issued",
                object_type="verdict",
                object_id=self.pk,
                check_id=self.check_ref_id,
                data={"verdict_sha256": verdict_digest(self)},
            )


class SignalFactory(DjangoModelFactory):
    class Meta:
        model = Signal

    media = factory.SubFactory(MediaFactory)
    detector = "ai_labels"
    version = "1"
    score = None
    label = "none_found"
    evidence = factory.LazyFunction(dict)


def token_for(user: User, **kwargs: object) -> str:
    """A real bearer token for ``user`` (through the token service)."""
    return token_create(user, **kwargs)[1]  # type: ignore[arg-type]
