"""Shipped C2PA trust lists, ``trust_import``, which list matched, and the legacy interim pass.

SECURITY C9 with a generated test CA: (a) CA on no list -> valid, nothing matched; (b) CA as a
newsroom anchor or imported into the C2PA list -> trusted, and the report names that list;
(c) the signing certificate only on the legacy allowed list (or its CA only among the legacy
anchors) -> still "valid" (never the C2PA trusted state), the legacy pass labelled and trusted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command

from authcheck.models import AuditEvent, TrustAnchor, TrustListImport
from authcheck.pipeline.verdict import ReportFacts, decide
from authcheck.services.trust import trust_cache_clear, trust_config_current
from authcheck.services.trust_lists import SHIPPED
from authcheck.services.verify import verify_path
from tests.c2pa_fixtures import corpus, manifest, new_ca, signed_jpeg, signer_from, test_ca

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _only_shipped_trust(settings) -> None:
    settings.AUTHCHECK_TRUST_ANCHORS = []
    settings.AUTHCHECK_TRUST_ALLOWED_LIST = []
    settings.AUTHCHECK_TRUST_C2PA_LISTS = True
    settings.AUTHCHECK_TRUST_LEGACY_PASS = False
    trust_cache_clear()


def _pem_file(tmp_path: Path, text: str, name: str = "bundle.pem") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_shipped_c2pa_and_tsa_lists_are_active_by_default() -> None:
    config = trust_config_current()
    names = [name for name, _ in config.lists]
    assert names == ["c2pa", "tsa", "newsroom"]
    shipped = SHIPPED["c2pa"].read_text().count("BEGIN CERTIFICATE")
    shipped += SHIPPED["tsa"].read_text().count("BEGIN CERTIFICATE")
    assert shipped > 40
    assert config.anchors_pem.count("BEGIN CERTIFICATE") == shipped
    assert config.legacy_anchors_pem == ""  # the legacy pass is off by default


def test_the_lists_can_be_switched_off_and_that_changes_the_hash(settings) -> None:
    with_lists = trust_config_current()
    settings.AUTHCHECK_TRUST_C2PA_LISTS = False
    without = trust_config_current()
    assert [n for n, _ in without.lists] == ["newsroom"]
    assert without.version != with_lists.version


def test_c9a_a_test_ca_on_no_list_is_valid_and_matches_nothing() -> None:
    report = verify_path(corpus().intact_jpeg)
    assert report["state"] == "valid"
    assert report["trust"]["signer_trusted"] is False
    assert report["trust"]["matched_lists"] == []
    assert report["trust"]["legacy"] is None
    # The whole chain from the COSE signature, leaf first, with validity dates.
    leaf, root = report["trust"]["chain"]
    assert "CN=authcheck Test Signer" in leaf["subject"]
    assert leaf["issuer"] == root["subject"] and "CN=authcheck Test Root" in root["subject"]
    assert leaf["serial_number"] == report["trust"]["chain"][0]["serial_number"]
    der = test_ca().root.public_bytes(serialization.Encoding.DER)
    assert root["sha256"] == hashlib.sha256(der).hexdigest()
    assert root["not_after"] > leaf["not_before"]


def test_c9b_a_newsroom_anchor_is_named_as_the_list_that_matched() -> None:
    before = verify_path(corpus().intact_jpeg)
    pem = test_ca().root_pem
    TrustAnchor.objects.create(
        name="root", pem=pem, sha256=hashlib.sha256(pem.encode()).hexdigest()
    )
    after = verify_path(corpus().intact_jpeg)
    assert (before["state"], after["state"]) == ("valid", "trusted")
    assert after["trust"]["matched_lists"] == ["newsroom"]
    assert after["trust_version"] != before["trust_version"]


def test_trust_import_replaces_a_list_audited_and_changes_the_hash(tmp_path: Path) -> None:
    before = trust_config_current().version
    bundle = _pem_file(tmp_path, test_ca().root_pem)
    call_command("trust_import", str(bundle), "--list", "c2pa")
    row = TrustListImport.objects.get()
    event = json.loads(AuditEvent.objects.get(action="trust_list.imported").body)["data"]
    assert event["list"] == "c2pa" and event["sha256"] == row.sha256
    assert event["certificates"] == 1
    assert trust_config_current().version != before
    report = verify_path(corpus().intact_jpeg)
    assert report["state"] == "trusted"
    assert report["trust"]["matched_lists"] == ["c2pa"]
    # The same bundle again changes nothing and records nothing.
    call_command("trust_import", str(bundle), "--list", "c2pa")
    assert TrustListImport.objects.count() == 1
    assert AuditEvent.objects.filter(action="trust_list.imported").count() == 1


def test_trust_import_refuses_what_is_not_a_certificate_bundle(tmp_path: Path) -> None:
    junk = _pem_file(tmp_path, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(SystemExit) as exit_info:
        call_command("trust_import", str(junk), "--list", "tsa")
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        call_command("trust_import", str(tmp_path / "missing.pem"), "--list", "tsa")
    assert not TrustListImport.objects.exists()
    assert not AuditEvent.objects.filter(action="trust_list.imported").exists()


def test_c9c_legacy_anchor_pass_is_labelled_and_never_the_c2pa_state(
    settings, tmp_path: Path
) -> None:
    call_command("trust_import", str(_pem_file(tmp_path, test_ca().root_pem)), "--list", "legacy")
    off = verify_path(corpus().intact_jpeg)
    assert off["trust"]["legacy"] is None  # imported, but the pass is off
    settings.AUTHCHECK_TRUST_LEGACY_PASS = True
    report = verify_path(corpus().intact_jpeg)
    assert report["trust_version"] != off["trust_version"]
    assert report["state"] == "valid"
    assert report["trust"]["matched_lists"] == []
    legacy = report["trust"]["legacy"]
    assert legacy == {
        "label": "legacy interim list",
        "trusted": True,
        "via": "anchor",
        "note": "A frozen pre-C2PA list; never the C2PA trusted state.",
    }
    decision = decide(ReportFacts.from_report(report))
    assert decision.label == "provenance_untrusted"
    assert "legacy interim list" in decision.summary


def test_c9c_legacy_allowed_list_matches_the_signing_certificate(settings, tmp_path: Path) -> None:
    ca = new_ca("Allowed-only Root")
    chain, key = ca.leaf()
    path = signed_jpeg(
        tmp_path / "allowed.jpg", manifest("allowed.jpg"), signer=signer_from(chain, key)
    )
    leaf_pem = chain.decode().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
    settings.AUTHCHECK_TRUST_LEGACY_PASS = True
    assert verify_path(path)["trust"]["legacy"]["trusted"] is False  # shipped legacy list
    call_command("trust_import", str(_pem_file(tmp_path, leaf_pem)), "--list", "legacy-allowed")
    report = verify_path(path)
    assert report["state"] == "valid"
    assert report["trust"]["legacy"]["via"] == "allowed list"
    # Another certificate of the same CA is not on the allowed list.
    other_chain, other_key = ca.leaf()
    other = signed_jpeg(
        tmp_path / "other.jpg", manifest("other.jpg"), signer=signer_from(other_chain, other_key)
    )
    assert verify_path(other)["trust"]["legacy"]["trusted"] is False
