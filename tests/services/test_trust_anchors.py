"""Admin-managed trust anchors: a CA added makes its signers trusted at once, disabling it makes
them merely valid again, every change is audited, and non-CA or garbage PEM is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from authcheck.models import AuditEvent
from authcheck.services.trust import trust_cache_clear
from authcheck.services.trust_anchors import (
    TrustAnchorError,
    trust_anchor_add,
    trust_anchor_disable,
)
from authcheck.services.verify import verify_path
from tests.c2pa_fixtures import signed_jpeg, test_ca

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_trust_cache() -> None:
    trust_cache_clear()


def test_adding_the_ca_makes_its_signer_trusted_and_disabling_undoes_it(tmp_path: Path) -> None:
    photo = signed_jpeg(tmp_path / "signed.jpg")
    assert verify_path(photo)["state"] == "valid"

    anchor = trust_anchor_add(pem=test_ca().root_pem, name="Test newsroom CA", user=None)
    trusted = verify_path(photo)
    assert trusted["state"] == "trusted"

    trust_anchor_disable(sha256=anchor.sha256, user=None)
    after = verify_path(photo)
    assert after["state"] == "valid"
    assert len({trusted["trust_version"], after["trust_version"]}) == 2
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["trust_anchor.added", "trust_anchor.disabled"]


def test_adding_the_same_anchor_twice_changes_nothing() -> None:
    first = trust_anchor_add(pem=test_ca().root_pem, name="", user=None)
    again = trust_anchor_add(pem=test_ca().root_pem, name="other name", user=None)
    assert first.pk == again.pk
    assert AuditEvent.objects.count() == 1


@pytest.mark.parametrize(
    "pem",
    ["not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
)
def test_garbage_is_refused_with_a_code(pem: str) -> None:
    with pytest.raises(TrustAnchorError) as caught:
        trust_anchor_add(pem=pem, name="x", user=None)
    assert caught.value.code == "trust_anchor_invalid"
    assert not AuditEvent.objects.exists()


def test_a_leaf_certificate_is_not_an_anchor(tmp_path: Path) -> None:
    chain, _key = test_ca().leaf()
    leaf_pem = chain.decode().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
    with pytest.raises(TrustAnchorError, match="not a CA"):
        trust_anchor_add(pem=leaf_pem, name="", user=None)


def test_the_command_adds_lists_and_refuses(tmp_path: Path, capsys) -> None:
    pem = tmp_path / "ca.pem"
    pem.write_text(test_ca().root_pem)
    call_command("trust_anchors", "add", str(pem), "--name", "CA")
    call_command("trust_anchors", "list")
    assert "enabled  CA" in capsys.readouterr().out
    (tmp_path / "bad.pem").write_text("nope")
    with pytest.raises(SystemExit) as exited:
        call_command("trust_anchors", "add", str(tmp_path / "bad.pem"))
    assert exited.value.code == 2
