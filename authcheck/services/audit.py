"""The tamper-evident audit trail: the only writer of ``AuditEvent`` rows, and its verifier.

Each event's ``body`` is canonical JSON and ``hash = sha256(prev_hash | seq | body)``, so editing,
inserting or removing any event breaks the chain at that event. On PostgreSQL a trigger (migration
0002) assigns ``seq``/``prev_hash``/``hash`` under an advisory lock and refuses UPDATE, DELETE and
TRUNCATE; elsewhere (SQLite) this module assigns them inside the caller's transaction. Signed
checkpoints written to a file outside the database catch a consistently rewritten tail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import os
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.signals import pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.crypto import salted_hmac

from authcheck.audit_format import event_time
from authcheck.errors import AuthcheckError
from authcheck.models import AuditEvent, User, Verdict

logger = logging.getLogger("authcheck.audit")

GENESIS = "0" * 64
# Integers wider than this become hex strings: Python refuses to print or parse decimal integers
# of more than 4300 digits, and the verifier must always be able to re-read what was written.
_MAX_INT_BITS = 4096
_CHECKPOINT_SALT = "authcheck.audit.checkpoint"
_ROW_FIELDS = (
    "seq",
    "prev_hash",
    "hash",
    "body",
    "actor",
    "action",
    "object_type",
    "object_id",
    "check_id",
    "created_at",
)
# ``created_at`` is a copy of the body's hashed ``at``: written as the same value since issue 9;
# events written before were stamped by the ORM moments after ``at``, so a small skew is allowed.
_CREATED_AT_SKEW = dt.timedelta(seconds=2)
_COLUMN_LIMITS = {"actor": 150, "action": 60, "object_type": 40, "object_id": 64}


class AuditError(AuthcheckError):
    """The audit trail could not be written or read as asked (a fault of the caller or setup)."""

    code = "audit_error"
    status = 500


class AuditChainBroken(AuditError):
    """The chain failed verification; ``chain`` holds the verifier's result."""

    code = "audit_chain_broken"

    def __init__(self, chain: ChainStatus) -> None:
        super().__init__(chain.describe())
        self.chain = chain


# --- canonical form ----------------------------------------------------------------------------


def canonical_json(data: Any) -> str:
    """Serialise ``data`` to one canonical ASCII JSON text (sorted keys, no spaces).

    Tuples/sets become lists, datetimes ISO 8601 UTC, Decimal/UUID/paths strings, lone surrogates
    U+FFFD, non-finite floats the strings "NaN"/"Infinity"/"-Infinity". ASCII escaping keeps NUL as
    the six characters ``\\u0000``, which PostgreSQL ``text`` accepts.
    """
    return json.dumps(
        _normalise(data),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    )


def _normalise(value: Any) -> Any:
    """Convert ``value`` to plain JSON types that serialise the same way every time."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, int):
        number = int(value)
        return number if number.bit_length() <= _MAX_INT_BITS else hex(number)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict):
        return {_key(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_normalise(v) for v in value), key=canonical_json)
    return _scalar(value)


def _scalar(value: Any) -> Any:
    """Normalise the non-JSON scalars an audit record may reasonably carry."""
    if isinstance(value, dt.datetime):
        aware = value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID | PurePath):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    raise AuditError(f"cannot audit a value of type {type(value).__name__}", code="audit_type")


def _text(value: str) -> str:
    """A plain ``str`` with surrogate pairs joined and lone surrogates replaced by U+FFFD."""
    if not any("\ud800" <= ch <= "\udfff" for ch in value):
        return str.__str__(value)  # drop str subclasses (enums, SafeString)
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _float(value: float) -> float | str:
    """Finite floats stay numbers; NaN and infinities (not JSON) become their names."""
    number = float(value)
    if math.isfinite(number):
        return number
    return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")


def _key(key: Any) -> str:
    """Object keys are strings; other scalar keys take their canonical JSON spelling."""
    normal = _normalise(key)
    return normal if isinstance(normal, str) else canonical_json(normal)


def event_hash(prev_hash: str, seq: int, body: str) -> str:
    """The chain hash of one event; the PostgreSQL trigger computes the identical value."""
    return hashlib.sha256(f"{prev_hash}|{seq}|{body}".encode()).hexdigest()


def verdict_digest(verdict: Verdict) -> str:
    """SHA-256 of a verdict row's content, recorded in its audit event (``verdict_sha256``) so
    that a row edited directly in the database no longer matches the chain."""
    content = {
        "check_id": verdict.check_ref_id,
        "label": verdict.label,
        "decision": verdict.decision,
        "summary": verdict.summary,
        "rule": verdict.rule,
        "versions": verdict.versions,
        "note": verdict.note,
        "author_id": verdict.author_id,
        "supersedes_id": verdict.supersedes_id,
        "replaces_id": verdict.replaces_id,
        "cause": verdict.cause,
    }
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


# --- writing -------------------------------------------------------------------------------------


def actor_of(user: User | None) -> str:
    """The audit actor string for a user (or the system)."""
    return f"user:{user.username}" if user else "system"


def audit_record(
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    check_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Call inside the transaction of the change it records (SECURITY L8)."""
    alias = router.db_for_write(AuditEvent)
    connection = connections[alias]
    if not connection.in_atomic_block:
        raise AuditError("audit_record must run inside transaction.atomic()", code="audit_no_tx")
    columns = _columns(actor=actor, action=action, object_type=object_type, object_id=object_id)
    if check_id is not None and (isinstance(check_id, bool) or not isinstance(check_id, int)):
        raise AuditError("check_id must be an integer or None", code="audit_field")
    now = timezone.now()
    body = canonical_json({**columns, "check_id": check_id, "data": data or {}, "at": now})
    event = AuditEvent(check_id=check_id, body=body, created_at=now, **columns)
    if connection.vendor == "postgresql":
        return _insert_chained_by_trigger(event, alias)
    return _insert_chained_here(event, alias)


def _columns(**values: str | int) -> dict[str, str]:
    """The indexed copies of body fields, checked against their column limits."""
    columns = {name: _text(str(value)) for name, value in values.items()}
    for name, value in columns.items():
        if not value or len(value) > _COLUMN_LIMITS[name] or "\x00" in value:
            raise AuditError(f"audit {name} is empty, too long or has NUL", code="audit_field")
    return columns


def _insert_chained_by_trigger(event: AuditEvent, alias: str) -> AuditEvent:
    """Insert with placeholders; the trigger assigns seq/prev_hash/hash under its lock, and
    ``RETURNING`` reads them back in the same round trip (no second SELECT per event)."""
    event.seq, event.prev_hash, event.hash = 0, "", ""
    connection = connections[alias]
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    # Identifiers come from the model's metadata; every value is a parameter.
    returning = ", ".join(quote(c) for c in ("id", "seq", "prev_hash", "hash"))
    sql = " ".join(
        [
            "INSERT INTO",
            quote(AuditEvent._meta.db_table),
            f"({', '.join(quote(f.column) for f in fields)})",
            f"VALUES ({', '.join(['%s'] * len(fields))})",
            "RETURNING",
            returning,
        ]
    )
    params = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        event.pk, event.seq, event.prev_hash, event.hash = cursor.fetchone()
    event._state.adding, event._state.db = False, alias
    # Proves the trigger ran and agrees with event_hash (a missing migration fails loudly here).
    if event.hash != event_hash(event.prev_hash, event.seq, event.body):
        raise AuditError("the audit chain trigger is missing or disagrees", code="audit_trigger")
    return event


def _insert_chained_here(event: AuditEvent, alias: str) -> AuditEvent:
    """Portable path: link to the last event. SQLite's IMMEDIATE transactions serialise writers,
    and the unique ``seq`` turns any other race into an error rather than a fork."""
    last = AuditEvent.objects.using(alias).order_by("-seq").values_list("seq", "hash").first()
    event.seq, event.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    event.hash = event_hash(event.prev_hash, event.seq, event.body)
    event.save(force_insert=True, using=alias)
    return event


@receiver(pre_save, sender=AuditEvent, dispatch_uid="authcheck.audit.refuse_update")
def _refuse_update(sender: type[AuditEvent], instance: AuditEvent, **kwargs: Any) -> None:
    """Refuse saving an existing event: the trail is append-only (refuses, never writes)."""
    if not instance._state.adding or instance.pk is not None:
        raise AuditError("audit events are append-only", code="audit_append_only")


@receiver(pre_delete, sender=AuditEvent, dispatch_uid="authcheck.audit.refuse_delete")
def _refuse_delete(sender: type[AuditEvent], instance: AuditEvent, **kwargs: Any) -> None:
    """Refuse deleting events, one by one or through a queryset."""
    raise AuditError("audit events are append-only", code="audit_append_only")


# --- reading and verifying ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChainStatus:
    """The verifier's result: ``first_bad_seq``/``reason`` name the first problem found."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str
    last_seq: int | None
    last_hash: str | None

    def describe(self) -> str:
        """One line for people: "audit chain OK: N events" or "audit chain BROKEN at seq N: ..."."""
        if self.ok:
            return f"audit chain OK: {self.checked} events"
        where = f" at seq {self.first_bad_seq}" if self.first_bad_seq is not None else ""
        return f"audit chain BROKEN{where}: {self.reason}"


class _Row(NamedTuple):
    seq: int
    prev_hash: str
    hash: str
    body: str
    actor: str
    action: str
    object_type: str
    object_id: str
    check_id: int | None
    created_at: dt.datetime


class _Problem(NamedTuple):
    seq: int | None
    reason: str


def audit_events_for_check(check_id: int) -> QuerySet[AuditEvent]:
    """The events recorded about one check, oldest first."""
    return AuditEvent.objects.filter(check_id=check_id).order_by("seq")


def audit_verify(
    *, check_id: int | None = None, checkpoint: Path | None = None, alert: bool = True
) -> ChainStatus:
    """Recompute the chain (streamed, constant memory) and report the first bad event.

    With ``check_id`` only that check's events and their links to their neighbours are checked
    (cheap, for the API); the full walk is the authority. With ``checkpoint`` every signed line
    of that file is checked and the events it names must still carry the hashes it recorded.
    ``alert=False`` leaves reporting a broken chain to the caller (the command prints it once).
    """
    marks: dict[int, str] = {}
    problem = _checkpoints_read(checkpoint, marks) if checkpoint is not None else None
    if problem is None:
        walk = _walk_chain if check_id is None else _walk_check
        checked, last, problem = walk(marks, check_id)
        problem = problem or _verdicts_problem(check_id)
    else:
        checked, last = 0, None
    status = ChainStatus(
        ok=problem is None,
        checked=checked,
        first_bad_seq=problem.seq if problem else None,
        reason=problem.reason if problem else "",
        last_seq=last.seq if last else None,
        last_hash=last.hash if last else None,
    )
    if not status.ok and alert:
        logger.error("%s", status.describe())  # the alert of SECURITY L6
    return status


def _walk_chain(
    marks: dict[int, str], _check_id: int | None
) -> tuple[int, _Row | None, _Problem | None]:
    """Walk every event in seq order, linking each to the recomputed hash of the one before."""
    rows = AuditEvent.objects.order_by("seq").values_list(*_ROW_FIELDS)
    expected_seq, expected_prev, checked, last = 1, GENESIS, 0, None
    for row in map(_Row._make, rows.iterator(chunk_size=1000)):
        problem = _event_problem(row, expected_seq, expected_prev, marks)
        if problem is not None:
            return checked, last, problem
        checked, last = checked + 1, row
        expected_seq, expected_prev = row.seq + 1, row.hash
    missing = [seq for seq in marks if seq >= expected_seq]
    if missing:
        return checked, last, _Problem(min(missing), "event named by the checkpoint is missing")
    return checked, last, None


def _walk_check(
    marks: dict[int, str], check_id: int | None
) -> tuple[int, _Row | None, _Problem | None]:
    """Check one check's events: own hash, columns, and both links to their neighbours."""
    found = audit_events_for_check(check_id or 0).values_list(*_ROW_FIELDS)
    rows = sorted(
        [_Row._make(values) for values in found] + _moved_away(check_id or 0),
        key=lambda row: row.seq,
    )
    seqs = [row.seq for row in rows]
    wanted = [s - 1 for s in seqs] + [s + 1 for s in seqs]
    neighbours = {
        seq: (prev, own)
        for seq, prev, own in AuditEvent.objects.filter(seq__in=wanted).values_list(
            "seq", "prev_hash", "hash"
        )
    }
    for checked, row in enumerate(rows):
        problem = _linked_problem(row, neighbours, marks)
        if problem is not None:
            return checked, rows[checked - 1] if checked else None, problem
    return len(rows), rows[-1] if rows else None, None


def _moved_away(check_id: int) -> list[_Row]:
    """Events whose hashed body names ``check_id`` but whose column names another check (or none).

    The column is not hashed, so an event moved to another check would otherwise just vanish from
    this check's list. On PostgreSQL and SQLite an expression index on the body's top-level
    ``check_id`` (migration 0013) serves this; elsewhere it is a substring scan (canonical bodies
    sort their keys, so the top-level ``check_id`` is followed by ``"data"``). Either way a nested
    look-alike is dropped by the parse below.
    """
    rows = [_Row._make(values) for values in moved_away_events(check_id).values_list(*_ROW_FIELDS)]
    return [row for row in rows if _hashed_check_id(row.body) == check_id]


def moved_away_events(check_id: int) -> QuerySet[AuditEvent]:
    """The query behind ``_moved_away`` (index-served on PostgreSQL and SQLite)."""
    events = AuditEvent.objects.exclude(check_id=check_id)
    vendor = connections[router.db_for_read(AuditEvent)].vendor
    if vendor == "postgresql":
        events = events.extra(
            where=["authcheck_audit_body_check(body) = %s"], params=[str(check_id)]
        )
    elif vendor == "sqlite":
        events = events.extra(
            where=["(CASE WHEN json_valid(body) THEN json_extract(body, '$.check_id') END) = %s"],
            params=[check_id],
        )
    else:
        events = events.filter(body__contains=f'"check_id":{check_id},"data":')
    return events


def _hashed_check_id(body: str) -> Any:
    parsed = _parsed_body(body)
    return parsed.get("check_id") if parsed is not None else None


def _parsed_body(body: str) -> dict[str, Any] | None:
    """The stored body as a JSON object, or None if it is not one."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _linked_problem(
    row: _Row, neighbours: dict[int, tuple[str, str]], marks: dict[int, str]
) -> _Problem | None:
    """One event checked against its stored neighbours (seq - 1 and seq + 1)."""
    before = GENESIS if row.seq == 1 else neighbours.get(row.seq - 1, (None, None))[1]
    if before is None:
        return _Problem(row.seq - 1, "event missing before this check's event")
    problem = _event_problem(row, row.seq, before, marks)
    after = neighbours.get(row.seq + 1)
    if problem is None and after is not None and after[0] != row.hash:
        return _Problem(row.seq + 1, f"prev_hash does not match the hash of seq {row.seq}")
    return problem


def _event_problem(
    row: _Row, expected_seq: int, expected_prev: str, marks: dict[int, str]
) -> _Problem | None:
    """What is wrong with one event given what the chain before it says, or None."""
    if row.seq != expected_seq:
        return _Problem(expected_seq, f"event missing (next stored event is seq {row.seq})")
    if row.prev_hash != expected_prev:
        return _Problem(row.seq, f"prev_hash does not match the hash of seq {row.seq - 1}")
    if row.hash != event_hash(row.prev_hash, row.seq, row.body):
        return _Problem(row.seq, "hash does not match the event (body or seq altered)")
    column = _column_mismatch(row)
    if column:
        return _Problem(row.seq, f"column {column} differs from the hashed body")
    if row.seq in marks and marks[row.seq] != row.hash:
        return _Problem(row.seq, "hash differs from the signed checkpoint (chain rewritten)")
    return None


def _column_mismatch(row: _Row) -> str | None:
    """The first indexed column that disagrees with the hashed body (they are not hashed)."""
    body = _parsed_body(row.body)
    if body is None:
        return "body"
    for name in ("actor", "action", "object_type", "object_id", "check_id"):
        if body.get(name) != getattr(row, name):
            return name
    if not _same_time(body.get("at"), row.created_at):
        return "created_at"
    return None


def _same_time(at: Any, created_at: dt.datetime) -> bool:
    hashed = event_time({"at": at})
    return hashed is not None and abs(hashed - created_at) <= _CREATED_AT_SKEW


_VERDICT_ACTIONS = ("verdict.issued", "review.recorded", "verdict.changed")
# Events written before verdict digests existed carry these fields of the row instead.
_LEGACY_VERDICT_FIELDS = {"verdict.issued": ("label", "rule"), "review.recorded": ("decision",)}


def _verdicts_problem(check_id: int | None) -> _Problem | None:
    """Every verdict row (of one check, or all) against the audit event that recorded it."""
    verdicts = Verdict.objects.order_by("pk")
    events = AuditEvent.objects.filter(object_type="verdict", action__in=_VERDICT_ACTIONS)
    if check_id is not None:
        verdicts, events = verdicts.filter(check_ref_id=check_id), events.filter(check_id=check_id)
    recorded = {e.object_id: e for e in events.only("seq", "object_id", "action", "body")}
    for verdict in verdicts.iterator(chunk_size=1000):
        event = recorded.get(str(verdict.pk))
        if event is None:
            return _Problem(None, f"verdict {verdict.pk} has no audit event")
        if not _verdict_matches(verdict, event):
            return _Problem(event.seq, f"verdict {verdict.pk} differs from its audited record")
    return None


def _verdict_matches(verdict: Verdict, event: AuditEvent) -> bool:
    try:
        data = json.loads(event.body).get("data") or {}
    except (ValueError, AttributeError):
        return False
    if "verdict_sha256" in data:
        return bool(data["verdict_sha256"] == verdict_digest(verdict))
    fields = _LEGACY_VERDICT_FIELDS[event.action]
    return all(data.get(name) == getattr(verdict, name) for name in fields)


# --- checkpoints kept outside the database -----------------------------------------------------


def _checkpoint_signature(payload: dict[str, Any]) -> str:
    """HMAC-SHA256 over the canonical payload, keyed apart from other uses of the secret."""
    secret = getattr(settings, "AUTHCHECK_AUDIT_CHECKPOINT_KEY", "") or settings.SECRET_KEY
    message = canonical_json(payload)
    return salted_hmac(_CHECKPOINT_SALT, message, secret=secret, algorithm="sha256").hexdigest()


def audit_checkpoint_write(path: Path, *, verify: bool = True) -> dict[str, Any]:
    """Append a signed ``{"seq","hash","at","sig"}`` line for the last event to ``path``.

    By default the chain (and the checkpoints already in ``path``) is verified first, so a
    checkpoint never certifies a broken chain; raises ``AuditChainBroken`` if it is.
    """
    if verify:
        status = audit_verify(checkpoint=path if _has_content(path) else None)
        if not status.ok:
            raise AuditChainBroken(status)
        last = (status.last_seq, status.last_hash) if status.last_seq is not None else None
    else:
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, last_hash = last if last else (0, GENESIS)
    payload = {"seq": seq, "hash": last_hash, "at": timezone.now()}
    line = {**json.loads(canonical_json(payload)), "sig": _checkpoint_signature(payload)}
    with path.open("a", encoding="ascii") as handle:
        handle.write(canonical_json(line) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return line


def _has_content(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _checkpoints_read(path: Path, marks: dict[int, str]) -> _Problem | None:
    """Fill ``marks`` (seq -> hash) from a checkpoint file; a bad line is a problem."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(
            f"cannot read checkpoint {path}: {exc}", code="checkpoint_unreadable"
        ) from exc
    entries = [(number, text) for number, text in enumerate(lines, 1) if text.strip()]
    if not entries:
        raise AuditError(f"checkpoint {path} holds no checkpoint", code="checkpoint_unreadable")
    for number, text in entries:
        problem = _checkpoint_line(number, text, marks)
        if problem is not None:
            return problem
    return None


def _checkpoint_line(number: int, text: str, marks: dict[int, str]) -> _Problem | None:
    """Check one line's shape and signature, then record what it certifies."""
    try:
        entry = json.loads(text)
        payload = {"seq": entry["seq"], "hash": entry["hash"], "at": entry["at"]}
        signature = entry["sig"]
        valid_shape = isinstance(payload["seq"], int) and isinstance(signature, str)
    except (ValueError, TypeError, KeyError):
        valid_shape = False
    if not valid_shape:
        return _Problem(None, f"checkpoint line {number} is malformed")
    if not hmac.compare_digest(signature, _checkpoint_signature(payload)):
        return _Problem(payload["seq"], f"checkpoint line {number} has a bad signature")
    if payload["seq"] > 0:
        marks[payload["seq"]] = payload["hash"]
    return None
