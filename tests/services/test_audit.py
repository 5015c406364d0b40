"""The audit trail: canonical bodies, the hash chain, append-only enforcement, checkpoints.

Rows L1-L8 of SECURITY.md section E and F3 of section G. PostgreSQL-only rows (triggers, roles,
concurrent writers) skip on SQLite with the reason; tampering runs on both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authcheck.models import AuditEvent, User
from authcheck.services.audit import (
    GENESIS,
    AuditChainBroken,
    AuditError,
    audit_checkpoint_write,
    audit_events_for_check,
    audit_record,
    audit_verify,
    canonical_json,
    event_hash,
    moved_away_events,
)

ROOT = Path(__file__).resolve().parents[2]
TABLE = AuditEvent._meta.db_table
APP_ROLE = "authcheck_app"
needs_postgres = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="PostgreSQL only: triggers and roles enforce this there; SQLite has neither",
)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def record(count: int = 1, check_id: int | None = None, **data: Any) -> list[AuditEvent]:
    """Append ``count`` events, each in its own transaction like a real state change."""
    events = []
    for number in range(count):
        with transaction.atomic():
            events.append(
                audit_record(
                    actor="user:alice",
                    action="test.step",
                    object_type="check",
                    object_id=check_id or number,
                    check_id=check_id,
                    data={"n": number, **data},
                )
            )
    return events


def tamper(sql: str, params: list[Any]) -> None:
    """Change stored rows the way a superuser would: on PostgreSQL, with the guard disabled."""
    with transaction.atomic(), connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER authcheck_audit_no_update_delete")
        cursor.execute(sql, params)
        if is_postgres():
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER authcheck_audit_no_update_delete")


def stored(seq: int) -> AuditEvent:
    return AuditEvent.objects.get(seq=seq)


def rewrite_tail_consistently(from_seq: int) -> None:
    """Replace every body from ``from_seq`` on and recompute all hashes: a valid-looking chain."""
    prev = stored(from_seq - 1).hash if from_seq > 1 else GENESIS
    for event in AuditEvent.objects.filter(seq__gte=from_seq).order_by("seq"):
        body = event.body.replace('"test.step"', '"test.forged"')
        new_hash = event_hash(prev, event.seq, body)
        tamper(
            f"UPDATE {TABLE} SET body = %s, action = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [body, "test.forged", prev, new_hash, event.seq],
        )
        prev = new_hash


def database_error(sql: str, role: str | None = None) -> DatabaseError:
    """Run ``sql`` (as ``role``) in a savepoint that is rolled back; return the error it raised."""
    with pytest.raises(DatabaseError) as info, transaction.atomic(), connection.cursor() as cursor:
        if role:
            cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute(sql)
    return info.value


@pytest.fixture
def audit_truncate_allowed(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Let the harness flush (TRUNCATE) the audit table after a transactional test.

    Request it *before* ``transactional_db`` so it is torn down after the flush.
    """
    with django_db_blocker.unblock():
        if is_postgres():
            with connection.cursor() as cursor:
                cursor.execute("SET authcheck.audit_truncate = 'allow'")
    yield
    with django_db_blocker.unblock():
        if is_postgres():
            with connection.cursor() as cursor:
                cursor.execute("RESET authcheck.audit_truncate")


# --- canonical form and hash ---------------------------------------------------------------------


def test_canonical_json_sorts_keys_drops_spaces_and_escapes_to_ascii() -> None:
    text = canonical_json({"b": 1, "a": [1, (2, 3)], "\u00e9": "\x00\u202e", 2: None})
    assert text == '{"2":null,"a":[1,[2,3]],"b":1,"\\u00e9":"\\u0000\\u202e"}'
    assert text.isascii()


def test_canonical_json_normalises_times_numbers_ids_and_surrogates() -> None:
    moment = dt.datetime(2025, 3, 1, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    ident = uuid.UUID(int=7)
    data = {"at": moment, "d": Decimal("1.10"), "u": ident, "s": "a\ud800b\ud83d\ude00"}
    assert json.loads(canonical_json(data)) == {
        "at": "2025-03-01T11:00:00.000000+00:00",
        "d": "1.10",
        "u": str(ident),
        "s": "a\ufffdb\U0001f600",
    }


def test_canonical_json_keeps_numbers_it_can_read_back_and_names_the_rest() -> None:
    big = 2**5000
    data = [2**64, big, float("nan"), float("-inf"), 0.1]
    assert json.loads(canonical_json(data)) == [2**64, hex(big), "NaN", "-Infinity", 0.1]


def test_canonical_json_refuses_a_type_it_cannot_represent() -> None:
    with pytest.raises(AuditError) as info:
        canonical_json({"x": object()})
    assert info.value.code == "audit_type"


def test_event_hash_is_sha256_of_prev_seq_and_body() -> None:
    expected = hashlib.sha256(("0" * 64 + "|1|{}").encode()).hexdigest()
    assert event_hash(GENESIS, 1, "{}") == expected
    assert event_hash(GENESIS, 2, "{}") != expected


@needs_postgres
@pytest.mark.django_db
def test_the_trigger_hash_formula_equals_event_hash() -> None:
    body = canonical_json({"s": "\u00e9\U0001f600\x00"}) + "\u00e9 not ascii"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encode(sha256(convert_to(%s || '|' || %s::bigint::text || '|' || %s,"
            " 'UTF8')), 'hex')",
            [GENESIS, 12345678901, body],
        )
        (from_sql,) = cursor.fetchone()
    assert from_sql == event_hash(GENESIS, 12345678901, body)


# --- writing -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_events_chain_from_genesis_and_verify() -> None:
    first, second, third = record(3)
    assert [e.seq for e in (first, second, third)] == [1, 2, 3]
    assert (first.prev_hash, second.prev_hash, third.prev_hash) == (
        GENESIS,
        first.hash,
        second.hash,
    )
    assert third.hash == event_hash(second.hash, 3, third.body)
    status = audit_verify()
    assert (status.ok, status.checked, status.last_seq, status.last_hash) == (
        True,
        3,
        3,
        third.hash,
    )


@pytest.mark.django_db
def test_the_body_is_the_canonical_record_and_matches_the_columns() -> None:
    (event,) = record(check_id=42, note="x")
    body = json.loads(event.body)
    assert set(body) == {"actor", "action", "object_type", "object_id", "check_id", "data", "at"}
    assert (body["actor"], body["object_id"], body["check_id"]) == ("user:alice", "42", 42)
    assert body["data"] == {"n": 0, "note": "x"}
    assert canonical_json(body) == event.body
    assert list(audit_events_for_check(42)) == [event]


@pytest.mark.django_db
def test_an_empty_chain_verifies_with_nothing_checked() -> None:
    status = audit_verify()
    assert (status.ok, status.checked, status.last_seq, status.last_hash) == (True, 0, None, None)


def test_recording_outside_a_transaction_is_refused(
    audit_truncate_allowed: None, transactional_db: None
) -> None:
    with pytest.raises(AuditError) as info:
        audit_record(actor="system", action="x", object_type="check", object_id=1)
    assert info.value.code == "audit_no_tx"
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [("actor", ""), ("action", "a" * 61), ("object_id", "x\x00y"), ("check_id", "7")],
)
def test_bad_fields_are_refused_before_anything_is_written(field: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"actor": "system", "action": "x", "object_type": "t", "object_id": 1}
    kwargs[field] = value
    with pytest.raises(AuditError) as info, transaction.atomic():
        audit_record(**kwargs)
    assert info.value.code == "audit_field"
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_the_event_rolls_back_with_the_change_it_records() -> None:  # L8
    record(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        User.objects.create(username="bob")
        audit_record(actor="system", action="user.created", object_type="user", object_id="bob")
        raise RuntimeError("the change fails after the event was written")
    assert not User.objects.filter(username="bob").exists()
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1]
    (after,) = record(1)
    assert after.seq == 2 and audit_verify().ok


@pytest.mark.django_db
def test_the_orm_refuses_to_update_or_delete_an_event() -> None:
    (event,) = record(1)
    event.body = "{}"
    # Each in its own savepoint: a refused delete also dooms the caller's transaction.
    with pytest.raises(AuditError), transaction.atomic():
        event.save()
    with pytest.raises(AuditError), transaction.atomic():
        event.delete()
    with pytest.raises(AuditError), transaction.atomic():
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditError), transaction.atomic():
        AuditEvent(pk=event.pk, seq=99, body="{}", prev_hash="", hash="").save()
    assert stored(1).body != "{}" and audit_verify().ok


# --- PostgreSQL enforcement ----------------------------------------------------------------------


@needs_postgres
@pytest.mark.django_db
def test_forged_chain_values_are_overwritten_by_the_trigger() -> None:  # L5
    record(2)
    body = canonical_json({"forged": True})
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (seq, created_at, actor, action, object_type, object_id, body,"
            " prev_hash, hash) VALUES (1, now(), 'x', 'x', 'x', 'x', %s, %s, %s)",
            [body, "f" * 64, "e" * 64],
        )
    forged = stored(3)
    assert (forged.prev_hash, forged.hash) == (stored(2).hash, event_hash(stored(2).hash, 3, body))
    assert AuditEvent.objects.count() == 3


@pytest.mark.django_db
def test_forged_chain_values_break_the_chain_where_no_trigger_fixes_them() -> None:
    if is_postgres():
        pytest.skip("on PostgreSQL the trigger overwrites forged values (previous test)")
    record(2)
    AuditEvent.objects.create(seq=3, body="{}", prev_hash="f" * 64, hash="e" * 64)
    assert audit_verify().first_bad_seq == 3


@needs_postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET body = '{{}}'",
        f"DELETE FROM {TABLE}",
        f"TRUNCATE {TABLE}",
        f"TRUNCATE {TABLE} CASCADE",
    ],
)
def test_the_owner_cannot_change_the_table(sql: str) -> None:  # L3
    (event,) = record(1)
    error = database_error(f"SET LOCAL authcheck.audit_truncate = 'deny'; {sql}")
    assert "append-only" in str(error)
    assert stored(1).body == event.body and audit_verify().ok


@needs_postgres
@pytest.mark.django_db
def test_only_the_explicit_maintenance_switch_lets_truncate_through() -> None:
    record(2)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL authcheck.audit_truncate = 'allow'; TRUNCATE {TABLE}")
    assert not AuditEvent.objects.exists()
    (event,) = record(1)
    assert event.seq == 1
    assert "append-only" in str(database_error(f"DELETE FROM {TABLE}"))


@pytest.fixture
def app_role(db: None) -> str:
    """The role of deploy/postgres/app_role.sql, created inside the test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute((ROOT / "deploy" / "postgres" / "app_role.sql").read_text())
        cursor.execute((ROOT / "deploy" / "postgres" / "app_role.sql").read_text())  # rerunnable
    return APP_ROLE


@needs_postgres
@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET body = '{{}}'",
        f"DELETE FROM {TABLE}",
        f"TRUNCATE {TABLE}",
        f"TRUNCATE {TABLE} CASCADE",
        f"ALTER TABLE {TABLE} DISABLE TRIGGER authcheck_audit_no_update_delete",
        f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL",
        f"DROP TRIGGER authcheck_audit_chain ON {TABLE}",
        "SET session_replication_role = replica",
    ],
)
def test_the_application_role_is_denied(app_role: str, sql: str) -> None:  # L1, L2
    (event,) = record(1)
    error = database_error(sql, role=app_role)
    assert error.__cause__.sqlstate == "42501", error
    assert stored(1).body == event.body and audit_verify().ok


@needs_postgres
def test_the_application_role_can_still_append_and_read(app_role: str) -> None:
    record(1)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {app_role}")
        (event,) = record(1)
        status = audit_verify()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (app_role,)
            cursor.execute("RESET ROLE")
    assert event.seq == 2 and (status.ok, status.checked) == (True, 2)


@needs_postgres
def test_concurrent_writers_get_a_gap_free_chain(
    audit_truncate_allowed: None, transactional_db: None
) -> None:  # L4
    threads, per_thread = 8, 50
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait(timeout=60)
            for step in range(per_thread):
                with transaction.atomic():
                    audit_record(
                        actor=f"token:{number:08d}",
                        action="test.concurrent",
                        object_type="thread",
                        object_id=number,
                        data={"step": step},
                    )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not any(worker.is_alive() for worker in workers) and failures == []
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, threads * per_thread + 1))
    status = audit_verify()
    assert (status.ok, status.checked) == (True, 400)


# --- detection -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_edited_body_is_named_and_alerted(caplog: pytest.LogCaptureFixture) -> None:  # L6
    record(5)
    body = stored(3).body.replace('"n":2', '"n":9')
    tamper(f"UPDATE {TABLE} SET body = %s WHERE seq = %s", [body, 3])
    status = audit_verify()
    assert (status.ok, status.first_bad_seq, status.checked) == (False, 3, 2)
    assert status.reason == "hash does not match the event (body or seq altered)"
    assert "audit chain BROKEN at seq 3" in caplog.text


@pytest.mark.django_db
def test_a_body_edited_with_its_hash_is_named_by_the_next_link() -> None:
    record(5)
    body = stored(3).body.replace('"n":2', '"n":9')
    tamper(
        f"UPDATE {TABLE} SET body = %s, hash = %s WHERE seq = 3",
        [body, event_hash(stored(2).hash, 3, body)],
    )
    status = audit_verify()
    assert (status.first_bad_seq, status.reason) == (
        4,
        "prev_hash does not match the hash of seq 3",
    )


@pytest.mark.django_db
def test_a_deleted_event_is_named() -> None:
    record(5)
    tamper(f"DELETE FROM {TABLE} WHERE seq = %s", [3])
    status = audit_verify()
    assert (status.first_bad_seq, status.reason) == (
        3,
        "event missing (next stored event is seq 4)",
    )


@pytest.mark.django_db
def test_an_edited_column_outside_the_hash_is_named() -> None:
    record(3, check_id=7)
    tamper(f"UPDATE {TABLE} SET check_id = %s WHERE seq = %s", [8, 2])
    status = audit_verify()
    assert (status.first_bad_seq, status.reason) == (
        2,
        "column check_id differs from the hashed body",
    )


@pytest.mark.django_db
def test_verifying_one_check_covers_its_events_and_their_links() -> None:
    record(2, check_id=1)
    record(1, check_id=2)
    record(1, check_id=1)
    assert (audit_verify(check_id=1).ok, audit_verify(check_id=1).checked) == (True, 3)
    body = stored(3).body.replace('"n":0', '"n":5')
    tamper(f"UPDATE {TABLE} SET body = %s, hash = %s WHERE seq = 3", [body, "0" * 64])
    assert audit_verify(check_id=2).first_bad_seq == 3
    assert audit_verify(check_id=1).first_bad_seq == 4  # seq 4 no longer links to seq 3
    tamper(f"DELETE FROM {TABLE} WHERE seq = %s", [3])
    assert audit_verify(check_id=1).reason == "event missing before this check's event"
    assert audit_verify(check_id=1).first_bad_seq == 3


# --- checkpoints (L7) ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_consistently_rewritten_tail_is_caught_by_the_checkpoint(tmp_path: Path) -> None:
    record(6)
    checkpoint = tmp_path / "audit.checkpoints"
    line = audit_checkpoint_write(checkpoint)
    assert (line["seq"], line["hash"]) == (6, stored(6).hash)
    rewrite_tail_consistently(from_seq=3)
    assert audit_verify().ok  # the chain alone cannot see it
    status = audit_verify(checkpoint=checkpoint)
    assert (status.ok, status.first_bad_seq) == (False, 6)
    assert status.reason == "hash differs from the signed checkpoint (chain rewritten)"


@pytest.mark.django_db
def test_every_checkpoint_line_is_checked(tmp_path: Path) -> None:
    checkpoint = tmp_path / "audit.checkpoints"
    audit_checkpoint_write(checkpoint)  # of the empty chain
    record(3)
    audit_checkpoint_write(checkpoint)
    record(3)
    audit_checkpoint_write(checkpoint)
    assert len(checkpoint.read_text().splitlines()) == 3
    assert audit_verify(checkpoint=checkpoint).ok
    rewrite_tail_consistently(from_seq=2)
    assert audit_verify(checkpoint=checkpoint).first_bad_seq == 3


@pytest.mark.django_db
def test_a_truncated_tail_is_caught_by_the_checkpoint(tmp_path: Path) -> None:
    record(4)
    checkpoint = tmp_path / "audit.checkpoints"
    audit_checkpoint_write(checkpoint)
    tamper(f"DELETE FROM {TABLE} WHERE seq >= %s", [3])
    assert audit_verify().ok
    status = audit_verify(checkpoint=checkpoint)
    assert (status.first_bad_seq, status.reason) == (4, "event named by the checkpoint is missing")


@pytest.mark.django_db
def test_a_forged_checkpoint_line_is_refused(tmp_path: Path) -> None:
    record(2)
    checkpoint = tmp_path / "audit.checkpoints"
    audit_checkpoint_write(checkpoint)
    rewrite_tail_consistently(from_seq=1)
    entry = json.loads(checkpoint.read_text())
    checkpoint.write_text(json.dumps({**entry, "hash": stored(2).hash}) + "\n")
    status = audit_verify(checkpoint=checkpoint)
    assert (status.first_bad_seq, status.reason) == (2, "checkpoint line 1 has a bad signature")
    checkpoint.write_text("{not json\n")
    assert audit_verify(checkpoint=checkpoint).reason == "checkpoint line 1 is malformed"


@pytest.mark.django_db
def test_the_checkpoint_key_can_be_kept_apart_from_the_secret_key(settings, tmp_path: Path) -> None:
    record(1)
    checkpoint = tmp_path / "audit.checkpoints"
    settings.AUTHCHECK_AUDIT_CHECKPOINT_KEY = "a key kept elsewhere"
    audit_checkpoint_write(checkpoint)
    assert audit_verify(checkpoint=checkpoint).ok
    settings.AUTHCHECK_AUDIT_CHECKPOINT_KEY = ""
    assert "bad signature" in audit_verify(checkpoint=checkpoint).reason


@pytest.mark.django_db
def test_a_missing_or_empty_checkpoint_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    for path in (tmp_path / "missing", tmp_path / "empty"):
        with pytest.raises(AuditError) as info:
            audit_verify(checkpoint=path)
        assert info.value.code == "checkpoint_unreadable"


@pytest.mark.django_db
def test_no_checkpoint_certifies_a_broken_chain(tmp_path: Path) -> None:
    record(3)
    tamper(f"UPDATE {TABLE} SET body = %s WHERE seq = %s", ["{}", 2])
    checkpoint = tmp_path / "audit.checkpoints"
    with pytest.raises(AuditChainBroken) as info:
        audit_checkpoint_write(checkpoint)
    assert info.value.chain.first_bad_seq == 2
    assert not checkpoint.exists()


# --- F3: arbitrary JSON through the whole trail ------------------------------------------------

_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**4000, max_value=2**4200).map(lambda n: -n)
    | st.floats()
    | _TEXT
    | st.sampled_from(["\x00", "\ud800", "\udfff\ud800", "\U0001f600", "\u202e", "\ufeff"])
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=16,
)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=_JSON, position=st.integers(min_value=0), shift=st.integers(1, 126))
def test_arbitrary_json_round_trips_and_any_one_byte_change_is_caught(
    value: Any, position: int, shift: int
) -> None:
    with transaction.atomic():
        (event,) = record(1, value=value)
        assert stored(1).body == event.body
        assert canonical_json(json.loads(event.body)) == event.body
        assert json.loads(event.body)["data"]["value"] == json.loads(canonical_json(value))
        assert audit_verify().ok
        index = position % len(event.body)
        changed = chr((ord(event.body[index]) - 1 + shift) % 127 + 1)
        body = event.body[:index] + changed + event.body[index + 1 :]
        tamper(f"UPDATE {TABLE} SET body = %s WHERE seq = 1", [body])
        assert audit_verify().first_bad_seq == 1
        transaction.set_rollback(True)


# --- issue 9: every column of an event is covered ---------------------------------------------


@pytest.mark.django_db
def test_the_created_at_column_is_the_hashed_time_of_the_event() -> None:
    (event,) = record(1)
    assert stored(event.seq).created_at == dt.datetime.fromisoformat(json.loads(event.body)["at"])


@pytest.mark.django_db
def test_a_changed_created_at_is_named_by_the_full_walk_and_by_the_check() -> None:
    record(3, check_id=7)
    moved = stored(2).created_at - dt.timedelta(days=3)
    tamper(f"UPDATE {TABLE} SET created_at = %s WHERE seq = %s", [moved, 2])
    for status in (audit_verify(), audit_verify(check_id=7)):
        assert (status.ok, status.first_bad_seq) == (False, 2)
        assert status.reason == "column created_at differs from the hashed body"


@pytest.mark.django_db
def test_a_check_id_moved_to_another_check_breaks_that_checks_chain_status() -> None:
    record(2, check_id=7)
    record(1, check_id=8)
    tamper(f"UPDATE {TABLE} SET check_id = %s WHERE seq = %s", [8, 1])
    status = audit_verify(check_id=8)
    assert (status.ok, status.first_bad_seq) == (False, 1)
    assert status.reason == "column check_id differs from the hashed body"


@pytest.mark.django_db
def test_an_event_moved_to_another_check_breaks_the_chain_status_of_the_check_it_left() -> None:
    record(2, check_id=7)
    record(1, check_id=8)
    record(1, check_id=7)
    assert audit_verify(check_id=7).ok
    tamper(f"UPDATE {TABLE} SET check_id = %s WHERE seq = %s", [8, 2])
    status = audit_verify(check_id=7)
    assert (status.ok, status.first_bad_seq) == (False, 2)
    assert status.reason == "column check_id differs from the hashed body"
    tamper(f"UPDATE {TABLE} SET check_id = NULL WHERE seq = %s", [4])  # moved to no check
    assert audit_verify(check_id=7).first_bad_seq == 2
    assert audit_verify(check_id=8).first_bad_seq == 2
    assert audit_verify().first_bad_seq == 2


@pytest.mark.django_db
def test_a_nested_check_id_in_another_events_data_is_not_taken_for_a_moved_event() -> None:
    record(1, check_id=7)
    with transaction.atomic():
        audit_record(
            actor="system",
            action="test.nested",
            object_type="check",
            object_id=8,
            check_id=8,
            data={"inner": {"check_id": 7, "data": 1}},
        )
    assert (audit_verify(check_id=7).ok, audit_verify(check_id=7).checked) == (True, 1)


@pytest.mark.django_db
def test_looking_for_events_moved_away_from_a_check_is_an_index_probe_not_a_scan() -> None:
    """Without migration 0013's expression index every check page scanned every audit body."""
    record(3, check_id=7)
    query = moved_away_events(7)
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the plan show
            plan = query.explain()
    else:
        plan = query.explain()
    assert "authcheck_audit_body_check_idx" in plan
    assert list(query) == []
