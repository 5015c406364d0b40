"""SECURITY C10 (issue 8): a manifest time-stamped by a real RFC 3161 TSA, whose root is first on
no list and then imported into the TSA list the way a newsroom does it (``trust_import``).

The TSA is ``tests/tsa.py``: ``openssl ts -reply`` behind a loopback HTTP server, with a generated
TSA root and a TSA certificate with critical extendedKeyUsage timeStamping. Signing talks to it
(c2pa-python's ``ta_url``); verification never does (the verifier's c2pa context has the network
off, and the TSA counts its queries).

What c2pa-rs (c2pa-python 0.38.1) reports, found here: ``timeStamp.validated`` in both cases,
plus ``timeStamp.untrusted`` (informational: the manifest's state is not changed by it) while the
TSA root is on no list, ``timeStamp.trusted`` once it is. The SDK names the TSA only in its
explanation and in the crJSON ``timeStampInfo``; which configured list holds the TSA root is
found by authcheck (one extra read per list), not by the SDK, whose own answer is always
"system_anchors".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import c2pa
import pytest
from django.core.management import call_command
from django.test import Client

from authcheck.models import AuditEvent, Check, ProvenanceReport, TrustListImport, Verdict
from authcheck.services import processing
from authcheck.services.checks import check_create
from authcheck.services.trust import trust_cache_clear, trust_config_current
from authcheck.services.trust_lists import SHIPPED
from authcheck.services.verify import verify_path
from tests.c2pa_fixtures import manifest, signed_jpeg, test_ca
from tests.factories import UserFactory
from tests.tsa import TimeStampAuthority

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def tsa() -> Iterator[TimeStampAuthority]:
    with TimeStampAuthority("authcheck Test TSA") as authority:
        yield authority


@pytest.fixture(scope="module")
def stamped(tsa: TimeStampAuthority, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JPEG signed by the test CA with an RFC 3161 time-stamp from the loopback TSA."""
    chain, key = test_ca().leaf()
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, key, tsa.url.encode()))
    path = tmp_path_factory.mktemp("tsa") / "stamped.jpg"
    signed_jpeg(path, manifest("stamped.jpg"), signer=signer)
    assert tsa.queries == 1 and not tsa.errors, "signing did not get a time-stamp"
    return path


@pytest.fixture(autouse=True)
def _shipped_lists_only(settings) -> None:
    settings.AUTHCHECK_TRUST_ANCHORS = []
    settings.AUTHCHECK_TRUST_ALLOWED_LIST = []
    settings.AUTHCHECK_TRUST_C2PA_LISTS = True
    settings.AUTHCHECK_TRUST_LEGACY_PASS = False
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    trust_cache_clear()


def _add_tsa_root_to_the_tsa_list(tsa: TimeStampAuthority, tmp_path: Path) -> None:
    """What a newsroom does: keep the shipped C2PA TSA list and append its own TSA root."""
    own = tmp_path / "newsroom-tsa.pem"
    own.write_text(tsa.root_pem)
    call_command("trust_import", str(SHIPPED["tsa"]), str(own), "--list", "tsa")


def _timestamp(report: dict[str, Any]) -> dict[str, Any]:
    assert report["trust"] is not None, report
    return report["trust"]["timestamp"]


def test_a_timestamp_from_a_tsa_root_on_no_list_is_reported_untrusted(
    stamped: Path, tsa: TimeStampAuthority
) -> None:
    report = verify_path(stamped)
    stamp = _timestamp(report)
    assert stamp["present"] is True and stamp["time"]
    assert stamp["codes"] == ["timeStamp.untrusted", "timeStamp.validated"]
    assert stamp["trusted"] is False
    assert stamp["matched_lists"] == []
    # The TSA is named from the token's certificate, with its validity.
    assert stamp["authority"] == "authcheck Test TSA"
    assert stamp["certificate"]["issuer"]["CN"] == "authcheck Test TSA Root"
    assert stamp["certificate"]["not_after"] > stamp["certificate"]["not_before"]
    assert report["active_manifest"]["signer"]["timestamp_authority"] == "authcheck Test TSA"
    # Informational only: the signer's own state (valid, its CA is on no list) is unchanged.
    assert report["state"] == "valid"
    assert [f["code"] for f in report["failures"]] == ["signingCredential.untrusted"]


def test_importing_the_tsa_root_into_the_tsa_list_makes_the_timestamp_trusted(
    stamped: Path, tsa: TimeStampAuthority, tmp_path: Path
) -> None:
    before = verify_path(stamped)
    _add_tsa_root_to_the_tsa_list(tsa, tmp_path)
    after = verify_path(stamped)
    stamp = _timestamp(after)
    assert stamp["codes"] == ["timeStamp.trusted", "timeStamp.validated"]
    assert stamp["trusted"] is True
    assert stamp["matched_lists"] == ["tsa"]
    assert stamp["authority"] == "authcheck Test TSA"
    assert after["trust_version"] != before["trust_version"]
    assert after["trust"]["matched_lists"] == []  # a TSA root never vouches for the signer
    row = TrustListImport.objects.get(name="tsa")
    event = json.loads(AuditEvent.objects.get(action="trust_list.imported").body)["data"]
    assert event["list"] == "tsa" and event["sha256"] == row.sha256
    assert row.certificates == SHIPPED["tsa"].read_text().count("BEGIN CERTIFICATE") + 1


def test_the_verdict_records_the_trust_configuration_the_timestamp_was_judged_under(
    stamped: Path, tsa: TimeStampAuthority, tmp_path: Path
) -> None:
    user = UserFactory(username="desk")

    def examine() -> tuple[Verdict, dict[str, Any]]:
        with open(stamped, "rb") as handle:
            check = check_create(user=user, upload=handle, filename="stamped.jpg").check
        assert processing.check_process(check.pk) == "done"
        check = Check.objects.get(pk=check.pk)
        verdict = Verdict.objects.filter(check_ref=check, author__isnull=True).get()
        report = ProvenanceReport.objects.get(
            media=check.media, trust_version=verdict.versions["trust"]
        )
        return verdict, report.report

    def page(verdict: Verdict) -> str:
        client = Client()
        client.force_login(user)
        response = client.get(f"/dashboard/checks/{verdict.check_ref_id}")
        assert response.status_code == 200
        return response.text

    first, first_report = examine()
    assert first.versions["trust"] == trust_config_current().version
    assert _timestamp(first_report)["trusted"] is False
    assert "authcheck Test TSA" in page(first)
    assert "time-stamp authority on no trust list" in page(first)
    _add_tsa_root_to_the_tsa_list(tsa, tmp_path)
    second, second_report = examine()
    assert second.versions["trust"] == trust_config_current().version != first.versions["trust"]
    assert _timestamp(second_report)["trusted"] is True
    assert _timestamp(second_report)["matched_lists"] == ["tsa"]
    assert "trusted time-stamp (tsa list)" in page(second)


def test_verification_never_asks_the_tsa(stamped: Path, tsa: TimeStampAuthority) -> None:
    asked = tsa.queries
    for _ in range(2):
        verify_path(stamped)
    trust_cache_clear()
    verify_path(stamped)
    assert tsa.queries == asked
