"""C2PA verification against a corpus signed (and damaged) by a throw-away CA (SECURITY C1-C15)."""

from __future__ import annotations

import ast
import json
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import c2pa
import pytest
from django.db import DataError, connection, transaction

import authcheck
from authcheck.models import Media, ProvenanceReport
from authcheck.pipeline import provenance
from authcheck.pipeline.provenance import TrustConfig, findings_from_json, read
from tests.c2pa_fixtures import (
    HOSTILE,
    Canary,
    ai_ingredient_jpeg,
    corpus,
    new_ca,
    ocsp_jpeg,
    remote_only_jpeg,
    signed_jpeg,
    signer_from,
    test_ca,
)

MIMES = {".jpg": "image/jpeg", ".png": "image/png", ".mp4": "video/mp4"}


def trusting() -> TrustConfig:
    return TrustConfig(anchors_pem=test_ca().root_pem)


def verify(path: Path, trust: TrustConfig | None = None) -> provenance.ProvenanceFindings:
    return read(path, MIMES[path.suffix], trust or trusting())


def codes(findings: provenance.ProvenanceFindings) -> list[str]:
    return [f.code for f in findings.failures]


# --- C8: exact state and failure codes per fixture ---------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "state", "failure_codes"),
    [
        ("intact_jpeg", "trusted", []),
        ("ai_jpeg", "trusted", []),
        ("signed_png", "trusted", []),
        ("signed_mp4", "trusted", []),
        ("signature_flipped", "invalid", ["claimSignature.mismatch"]),
        ("pixels_altered", "invalid", ["assertion.dataHash.mismatch"]),
        ("assertion_altered", "invalid", ["assertion.hashedURI.mismatch"]),
        # An expired leaf no longer chains to the anchor either.
        ("expired_cert", "invalid", ["signingCredential.untrusted", "signingCredential.expired"]),
        ("unsigned_jpeg", "absent", []),
        ("remuxed_mp4", "absent", []),
    ],
)
def test_each_corpus_file_gets_its_exact_state_and_codes(
    fixture: str, state: str, failure_codes: list[str]
) -> None:
    findings = verify(getattr(corpus(), fixture))
    assert (findings.state, codes(findings)) == (state, failure_codes)
    assert findings.error_code == ""


def test_an_invalid_ingredient_is_surfaced_under_a_trusted_parent() -> None:
    findings = verify(corpus().bad_ingredient)
    assert findings.state == "trusted" and codes(findings) == []
    (ingredient,) = findings.ingredients
    assert ingredient["title"] == "child-bad-signature.jpg"
    assert ingredient["relationship"] == "componentOf"
    assert ingredient["state"] == "invalid"
    assert [f["code"] for f in ingredient["failures"]] == ["claimSignature.mismatch"]
    assert findings.ingredients_invalid is True
    assert findings.to_report()["ingredients_invalid"] is True


def test_an_untrusted_ingredient_stays_untrusted_without_anchors() -> None:
    findings = verify(corpus().bad_ingredient, TrustConfig())
    (ingredient,) = findings.ingredients
    assert findings.state == "valid"
    assert {f["code"] for f in ingredient["failures"]} == {
        "claimSignature.mismatch",
        "signingCredential.untrusted",
    }


def test_the_active_manifest_is_summarised() -> None:
    manifest = verify(corpus().intact_jpeg).active_manifest
    assert manifest is not None
    assert manifest["title"] == "intact.jpg"
    assert manifest["claim_generator"] == "authcheck-tests 1.0"
    assert manifest["signer"]["common_name"] == "authcheck Test Signer"
    assert manifest["signer"]["issuer"] == "authcheck test CA"
    assert manifest["signer"]["algorithm"] == "Es256"
    assert manifest["actions"][0]["action"] == "c2pa.created"
    assert manifest["digital_source_type"].endswith("/digitalCapture")


def test_it_keeps_the_raw_store_json_as_bytes_with_its_hash() -> None:
    findings = verify(corpus().intact_jpeg)
    assert findings.raw_json is not None
    assert findings.raw_sha256 == __import__("hashlib").sha256(findings.raw_json).hexdigest()
    store = json.loads(findings.raw_json)
    # C4: verification ran after reading (the effective config, not just the keys we set).
    assert store["validation_results"]["activeManifest"]["success"]
    assert findings.sdk_version == provenance.sdk_version() and findings.sdk_version


# --- AI declarations -----------------------------------------------------------------------------


def test_it_reports_a_signed_ai_declaration() -> None:
    findings = verify(corpus().ai_jpeg)
    assert findings.ai_declared is True
    assert findings.ai_declaration is not None
    assert findings.ai_declaration["digital_source_type"].endswith("/trainedAlgorithmicMedia")
    assert findings.ai_declaration["software_agent"] == "GenModel 3"
    assert findings.ai_declaration["in_ingredient"] is False


def test_it_finds_an_ai_declaration_in_an_ingredient(tmp_path: Path) -> None:
    findings = verify(ai_ingredient_jpeg(tmp_path / "parent.jpg"))
    assert findings.state == "trusted"
    assert findings.ai_declared is True
    assert findings.ai_declaration is not None and findings.ai_declaration["in_ingredient"]
    assert findings.ingredients[0]["state"] == "trusted"


def test_a_camera_capture_declares_no_ai() -> None:
    findings = verify(corpus().intact_jpeg)
    assert (findings.ai_declared, findings.ai_declaration) == (False, None)


# --- C9: trust -------------------------------------------------------------------------------


def test_without_the_ca_the_signer_is_only_valid_never_trusted() -> None:
    findings = verify(corpus().intact_jpeg, TrustConfig())
    assert findings.state == "valid"
    assert codes(findings) == ["signingCredential.untrusted"]


def test_another_ca_in_the_anchors_does_not_make_it_trusted() -> None:
    findings = verify(corpus().intact_jpeg, TrustConfig(anchors_pem=new_ca("Other").root_pem))
    assert findings.state == "valid"


def test_the_allowed_list_alone_does_not_make_a_signer_trusted_in_this_sdk(
    tmp_path: Path,
) -> None:
    # Pinned SDK behaviour (c2pa-rs 0.91): a leaf on trust.allowed_list is still reported
    # Valid/untrusted, with or without anchors or an EKU trust_config. If this starts failing,
    # the SDK honours the list: add the separate "legacy interim" labelling of SECURITY C9c.
    chain, key = test_ca().leaf()
    signed = signed_jpeg(tmp_path / "allowed.jpg", signer=signer_from(chain, key))
    leaf_pem = chain.split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
    findings = verify(signed, TrustConfig(allowed_pem=leaf_pem.decode()))
    assert (findings.state, codes(findings)) == ("valid", ["signingCredential.untrusted"])
    assert verify(signed).state == "trusted"


def test_trust_version_ignores_pem_layout_but_not_content() -> None:
    root = test_ca().root_pem
    other = new_ca("Other").root_pem
    reflowed = root.replace("\n", "\r\n  ")
    assert (
        TrustConfig(anchors_pem=root + other).version
        == TrustConfig(anchors_pem=other + reflowed).version
    )
    assert TrustConfig(anchors_pem=root).version != TrustConfig().version
    assert TrustConfig(anchors_pem=root).version != TrustConfig(allowed_pem=root).version
    assert TrustConfig(max_manifest_mb=8).version != TrustConfig().version
    assert verify(corpus().intact_jpeg).trust_version == trusting().version


# --- C1, C2, C6: the network stays closed ----------------------------------------------------


@pytest.fixture
def canary() -> Iterator[Canary]:
    server = Canary()
    yield server
    server.close()


def _open_network(monkeypatch: pytest.MonkeyPatch, **verify_keys: bool) -> None:
    """Make read() use a Context with the given network switches on (positive controls)."""
    original = provenance.settings_dict

    def permissive(trust: TrustConfig) -> dict[str, Any]:
        data = original(trust)
        data["verify"].update(verify_keys)
        data["core"]["allowed_network_hosts"] = None
        return data

    monkeypatch.setattr(provenance, "settings_dict", permissive)


REMOTE_HOSTS = ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433", "0x7f.0.0.1"]


@pytest.mark.parametrize("host", REMOTE_HOSTS)
def test_a_remote_manifest_is_never_fetched(tmp_path: Path, canary: Canary, host: str) -> None:
    asset = remote_only_jpeg(tmp_path / "remote.jpg", f"http://{host}:{canary.port}/m.c2pa")
    findings = verify(asset)
    assert (findings.state, findings.error_code) == ("error", "c2pa_remote_manifest_required")
    assert canary.connections_settled() == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433"])
def test_the_remote_canary_does_see_a_permissive_reader(
    tmp_path: Path, canary: Canary, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    # Positive control: the same asset with fetching on reaches the canary, so the zero above
    # is the settings' doing.
    asset = remote_only_jpeg(tmp_path / "remote.jpg", f"http://{host}:{canary.port}/m.c2pa")
    _open_network(monkeypatch, remote_manifest_fetch=True)
    findings = verify(asset)
    assert canary.wait_for_requests(1) == 1 and canary.hits == ["/m.c2pa"]
    assert findings.state == "error"


def test_the_ocsp_responder_of_a_certificate_is_never_asked(tmp_path: Path, canary: Canary) -> None:
    asset = ocsp_jpeg(tmp_path / "ocsp.jpg", f"http://127.0.0.1:{canary.port}/ocsp")
    findings = verify(asset)
    assert findings.state == "trusted"
    assert canary.connections_settled() == 0


def test_the_ocsp_canary_does_see_a_permissive_reader(
    tmp_path: Path, canary: Canary, monkeypatch: pytest.MonkeyPatch
) -> None:
    asset = ocsp_jpeg(tmp_path / "ocsp.jpg", f"http://127.0.0.1:{canary.port}/ocsp")
    _open_network(monkeypatch, ocsp_fetch=True)
    verify(asset)
    # c2pa may give up on the response early, so wait (bounded) for the request to land.
    assert canary.wait_for_requests(1) == 1


# --- C3, C5: configuration guards --------------------------------------------------------------


def test_the_deployed_settings_parse_strictly_enough_to_catch_bad_values() -> None:
    c2pa.Settings.from_dict(provenance.settings_dict(trusting())).close()
    with pytest.raises(c2pa.C2paError):
        c2pa.Settings.from_dict({"verify": {"remote_manifest_fetch": "no"}})
    settings = provenance.settings_dict(TrustConfig())
    assert settings["verify"]["remote_manifest_fetch"] is False
    assert settings["verify"]["ocsp_fetch"] is False
    assert settings["core"]["allowed_network_hosts"] == []


def _c2pa_calls(tree: ast.AST) -> Iterator[tuple[str, ast.Call]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            names = []
            while isinstance(func, ast.Attribute):
                names.append(func.attr)
                func = func.value
            if isinstance(func, ast.Name):
                names.append(func.id)
            yield ".".join(reversed(names)), node


def test_no_module_reads_c2pa_without_an_explicit_context() -> None:
    package = Path(authcheck.__file__).parent
    offenders = []
    for source in sorted(package.rglob("*.py")):
        tree = ast.parse(source.read_text(), str(source))
        text = source.read_text()
        if "load_settings" in text:
            offenders.append(f"{source}: load_settings")
        if source.name != "provenance.py" and any(
            isinstance(n, ast.Import | ast.ImportFrom)
            and any((getattr(n, "module", None) or a.name).split(".")[0] == "c2pa" for a in n.names)
            for n in ast.walk(tree)
        ):
            offenders.append(f"{source}: imports c2pa")
        for name, call in _c2pa_calls(tree):
            last = name.split(".")
            if {"Reader", "Builder"} & set(last) and not any(
                k.arg == "context" for k in call.keywords
            ):
                offenders.append(f"{source}:{call.lineno}: {name}(...) without context=")
    assert offenders == []


def test_the_ast_guard_catches_a_bare_reader() -> None:
    tree = ast.parse("import c2pa\nc2pa.Reader('image/jpeg', f)\nReader.try_create(p, s)\n")
    bare = [n for n, c in _c2pa_calls(tree) if not c.keywords]
    assert bare == ["c2pa.Reader", "Reader.try_create"]


# --- C7: a Context built before fork is never used in the child ------------------------------


def _read_in_child(path: str, queue: Any) -> None:
    try:
        findings = read(Path(path), "image/jpeg", trusting())
        pids = {pid for pid, _ in provenance._contexts}
        queue.put((findings.state, findings.error_message, pids == {os.getpid()}))
    except BaseException as exc:  # report, never hang the parent
        queue.put(("raised", repr(exc), False))


def test_a_forked_child_builds_its_own_context() -> None:
    path = corpus().intact_jpeg
    assert verify(path).state == "trusted"  # the parent now holds a Context
    assert any(pid == os.getpid() for pid, _ in provenance._contexts)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_read_in_child, args=(str(path), queue))
    child.start()
    result = queue.get(timeout=60)
    child.join(timeout=60)
    assert result == ("trusted", "", True)
    assert child.exitcode == 0


def test_the_context_is_reused_within_a_process() -> None:
    trust = trusting()
    assert provenance.context_for(trust) is provenance.context_for(trust)
    assert provenance.context_for(trust) is not provenance.context_for(TrustConfig())


# --- C12: hostile strings ------------------------------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_hostile_strings_are_stripped_of_controls_but_otherwise_kept() -> None:
    findings = verify(corpus().hostile)
    report = findings.to_report()
    json.dumps(report)
    for text in _strings(report):
        assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text), text
    title = report["active_manifest"]["title"]
    assert title == "eviltitle\u202e<script>alert(1)</script>[31m"
    assert report["active_manifest"]["claim_generator"].startswith("eviltitle\u202e<script>")
    # The raw store keeps everything, NUL included, as bytes.
    assert findings.raw_json is not None
    assert (
        HOSTILE
        in json.loads(findings.raw_json)["manifests"][report["active_manifest"]["label"]]["title"]
    )


@pytest.mark.django_db
def test_a_hostile_report_is_storable_in_a_json_column() -> None:
    findings = verify(corpus().hostile)
    media = Media.objects.create(sha256="a" * 64, size=1, mime="image/jpeg", storage_name="x")
    ProvenanceReport.objects.create(
        media=media,
        trust_version=findings.trust_version,
        sdk_version=findings.sdk_version,
        state=findings.state,
        report=findings.to_report(),
        raw_manifest=findings.raw_json,
        raw_manifest_sha256=findings.raw_sha256,
    )
    stored = ProvenanceReport.objects.get(media=media)
    assert stored.report["active_manifest"]["title"].startswith("eviltitle\u202e")
    assert bytes(stored.raw_manifest) == findings.raw_json
    if connection.vendor == "postgresql":
        # Negative control: the unprojected store (NUL included) is what jsonb refuses.
        with pytest.raises(DataError), transaction.atomic():
            ProvenanceReport.objects.filter(pk=stored.pk).update(
                report=json.loads(findings.raw_json or b"{}")
            )


# --- C13, C14: bad input never raises ------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime", "state", "code"),
    [
        (b"", "image/jpeg", "unsupported", "unsupported_media"),
        (b"\xff", "image/jpeg", "unsupported", "unsupported_media"),
        (b"\x00" * 64, "application/octet-stream", "unsupported", "unsupported_media"),
        (b"\xff\xd8\xff\xe0" + b"\x11" * 4000, "image/jpeg", "error", "media_malformed"),
        (b"\x00\x00\x00\x18ftypisom" + b"\x22" * 400, "video/mp4", "error", "media_malformed"),
    ],
)
def test_garbage_gets_a_state_and_a_code(
    tmp_path: Path, data: bytes, mime: str, state: str, code: str
) -> None:
    path = tmp_path / "garbage"
    path.write_bytes(data)
    findings = read(path, mime, TrustConfig())
    assert (findings.state, findings.error_code) == (state, code)
    json.dumps(findings.to_report())


def test_a_jpeg_declared_as_png_is_still_read(tmp_path: Path) -> None:
    assert read(corpus().intact_jpeg, "image/png", trusting()).state == "trusted"


def test_a_truncated_manifest_is_malformed_credentials(tmp_path: Path) -> None:
    data = corpus().intact_jpeg.read_bytes()
    start = data.find(b"jumb")
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: start + 200])
    findings = read(path, "image/jpeg", trusting())
    assert (findings.state, findings.error_code) == ("error", "c2pa_malformed")


def test_a_missing_file_is_an_error_not_an_exception(tmp_path: Path) -> None:
    findings = read(tmp_path / "gone.jpg", "image/jpeg", TrustConfig())
    assert (findings.state, findings.error_code) == ("error", "c2pa_error")


def _mutations(data: bytes, count: int) -> Iterator[bytes]:
    step = max(len(data) // count, 1)
    for offset in range(0, len(data), step):
        yield data[:offset]  # truncation
        flipped = bytearray(data)
        flipped[offset] ^= 0xFF
        yield bytes(flipped)
        yield data[:offset] + b"\xff\xff\xff\xff" + data[offset + 4 :]  # size fields


@pytest.mark.parametrize("fixture", ["intact_jpeg", "signed_png", "signed_mp4"])
def test_mutated_files_always_end_in_a_known_state(tmp_path: Path, fixture: str) -> None:
    source = getattr(corpus(), fixture)
    path = tmp_path / "mutant"
    seen = set()
    for mutant in _mutations(source.read_bytes(), 40):
        path.write_bytes(mutant)
        findings = read(path, MIMES[source.suffix], trusting())
        assert findings.state in {"trusted", "valid", "invalid", "absent", "unsupported", "error"}
        assert findings.state not in {"error", "unsupported"} or findings.error_code
        json.dumps(findings.to_report())
        seen.add(findings.state)
    assert "invalid" in seen or "error" in seen


# --- C15: ingredient trees are bounded -----------------------------------------------------


def _store(manifests: dict[str, Any], active: str) -> str:
    return json.dumps(
        {"active_manifest": active, "manifests": manifests, "validation_state": "Valid"}
    )


def _manifest_with(child: str) -> dict[str, Any]:
    return {
        "title": f"points at {child}",
        "ingredients": [
            {"title": child, "relationship": "parentOf", "active_manifest": child, "label": "i"}
        ],
    }


def test_cyclic_ingredients_terminate_and_are_marked() -> None:
    store = _store({"a": _manifest_with("b"), "b": _manifest_with("a")}, "a")
    findings = findings_from_json(store)
    (b,) = findings.ingredients
    (a,) = b["ingredients"]
    assert a["truncated"] == "cycle" and a["ingredients"] == []


def test_deep_ingredient_chains_are_cut_at_the_depth_limit() -> None:
    depth = provenance.MAX_INGREDIENT_DEPTH + 20
    manifests = {f"m{i}": _manifest_with(f"m{i + 1}") for i in range(depth)}
    findings = findings_from_json(_store(manifests, "m0"))
    node, levels = findings.ingredients[0], 1
    while node["ingredients"]:
        node, levels = node["ingredients"][0], levels + 1
    assert levels == provenance.MAX_INGREDIENT_DEPTH + 1 and node["truncated"] == "depth"


def test_an_ingredient_without_a_manifest_is_absent_not_trusted() -> None:
    store = _store({"a": {"ingredients": [{"title": "plain.jpg", "label": "i"}]}}, "a")
    (ingredient,) = findings_from_json(store).ingredients
    assert ingredient["state"] == "absent"
