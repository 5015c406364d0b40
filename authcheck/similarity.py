"""PDQ frame-hash index for source tracing: store a media's frame hashes, find earlier matches.

Distance threshold: two PDQ hashes (256 bits) are taken to show the same picture when their
Hamming distance is at most ``MATCH_THRESHOLD`` = 31, the value PDQ's authors recommend for
matching (unrelated pictures sit near 128; re-encodes, rescales and mild crops stay far below 31).
Hashes whose PDQ quality is below ``MIN_QUALITY`` (flat, dark or featureless frames, which all
hash alike) are neither searched with nor matched against.

Lookup is multi-index hashing. The hash is split into sixteen 16-bit chunks, stored in the
indexed columns ``c0``..``c15`` (as signed 16-bit integers, the same bits: ``stored_chunks``).
If two hashes differ in at most 31 bits, the sixteen chunk distances sum to at most 31, so at
least one chunk differs in at most ``31 // 16`` = 1 bit (pigeonhole). Candidates are therefore
the rows where some chunk equals the query's chunk or one of its 16 one-bit flips: 16 x 17 index
probes per query hash instead of a scan. Every candidate is then confirmed on the full hash.

On PostgreSQL one statement does it all, in two steps per chunk column. The probe values are
computed in SQL from the query (passed as arrays: the four 64-bit words and the sixteen chunks
of each query hash). Step one probes the chunk's narrow index (migration 0012) on an index-only
scan: besides the chunk, each index tuple carries three chunks and one 64-bit word of the other
words of the hash (``models.chunk_cover``, 112 bits), and a candidate whose distance on those
bits alone exceeds the threshold is dropped there (a random hash passes with probability about
1e-6). Step two reads the few rows left from the table, through the same index (chunk and word
equal), and confirms them on all 256 bits (``bit_count`` of the XOR of ``h0``..``h3``), quality
and media. Elsewhere (SQLite, the embedded default) the same chunk prefilter selects candidates
through the ORM and Python confirms them.

Cost: with random hashes a probe value matches 1/65536 of the rows, so a query hash draws about
16 x 17 / 65536 = 0.4 % of the table as candidates (about 4,000 per query hash over 1,000,000
rows), each rejected on its 24-byte index tuple. Those candidates and the 16 x 17 index probes
per query hash bound the lookup time (``benchmarks/bench_similar.py``).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Min, Q

from authcheck.detectors.near_duplicate import MIN_QUALITY
from authcheck.models import REFERENCE_FRAME_BASE, Check, FrameHash, Media, chunk_cover, words_hex

HASH_HEX_CHARS = 64
CHUNKS = 16
CHUNK_BITS = 16
MATCH_THRESHOLD = 31
MAX_MATCHED_FRAMES = 20  # frame pairs reported per matching media
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class SimilarMatch:
    """An earlier media whose frames match: its earliest check, the best distance, the pairs."""

    media_id: int
    check_id: int | None
    sha256: str
    distance: int
    matched_frames: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class _Query:
    """One distinct query hash and the query frames (index, variant) that produced it."""

    hex: str
    value: int
    frames: tuple[tuple[int, str], ...]


def _normalise(hex_hash: str) -> str:
    text = str(hex_hash).strip().lower()
    if len(text) != HASH_HEX_CHARS or not set(text) <= _HEX:
        raise ValueError(f"not a 256-bit PDQ hash in hex: {hex_hash!r}")
    return text


def hash_chunks(hex_hash: str) -> tuple[int, ...]:
    """The sixteen 16-bit chunks of a 64-hex-digit hash, most significant first (0..65535)."""
    text = _normalise(hex_hash)
    step = CHUNK_BITS // 4
    return tuple(int(text[i : i + step], 16) for i in range(0, HASH_HEX_CHARS, step))


def signed16(value: int) -> int:
    """A 16-bit value (0..65535) as the signed 16-bit integer with the same bits."""
    return value - 65536 if value >= 32768 else value


def stored_chunks(hex_hash: str) -> tuple[int, ...]:
    """The sixteen chunks as the ``c0``..``c15`` columns store them (signed 16-bit)."""
    return value_chunks(int(_normalise(hex_hash), 16))


def value_chunks(value: int) -> tuple[int, ...]:
    """``stored_chunks`` of a hash given as its 256-bit integer value."""
    top = CHUNK_BITS * (CHUNKS - 1)
    return tuple(signed16((value >> (top - CHUNK_BITS * i)) & 0xFFFF) for i in range(CHUNKS))


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two 256-bit hashes given in hex."""
    return (int(_normalise(a_hex), 16) ^ int(_normalise(b_hex), 16)).bit_count()


def chunk_neighbours(chunk: int, radius: int) -> list[int]:
    """``chunk`` and every 16-bit value within ``radius`` bit flips of it."""
    values = [chunk]
    for flips in range(1, radius + 1):
        for bits in itertools.combinations(range(CHUNK_BITS), flips):
            values.append(chunk ^ sum(1 << b for b in bits))
    return values


def frame_hash_row(media_id: int, entry: dict[str, Any]) -> FrameHash:
    """An unsaved FrameHash for one hash entry of the near-duplicate detector (stored by
    ``services.similar.frame_hashes_store``: writes belong to the services)."""
    text = _normalise(entry["hash"])
    return FrameHash(
        media_id=media_id,
        frame_index=int(entry.get("frame_index", 0)),
        timestamp=float(entry.get("timestamp", 0.0)),
        variant=str(entry.get("variant", "full"))[:20],
        quality=max(0, min(100, int(entry.get("quality", 0)))),
        **{f"h{k}": word for k, word in enumerate(_halves(int(text, 16)))},
        **{f"c{i}": chunk for i, chunk in enumerate(stored_chunks(text))},
    )


def similar_find(
    hashes: list[dict[str, Any]],
    exclude_media_id: int | None,
    max_distance: int = MATCH_THRESHOLD,
    limit: int = 10,
    *,
    min_quality: int = MIN_QUALITY,
) -> list[SimilarMatch]:
    """Media with at least one stored frame within ``max_distance`` of a query frame, nearest first.

    ``hashes`` has the near_duplicate evidence shape (``hash``, ``frame_index``, ``variant``,
    ``quality``). Query frames below ``min_quality`` are ignored, and so are stored ones.
    """
    queries = _queries(hashes, min_quality)
    if not queries or limit <= 0:
        return []
    radius = max(0, max_distance) // CHUNKS
    if connection.vendor == "postgresql":
        pairs = _pairs_postgres(queries, exclude_media_id, max_distance, radius, min_quality)
    else:
        pairs = _pairs_generic(queries, exclude_media_id, max_distance, radius, min_quality)
    return _matches(pairs, queries, limit)


def _queries(hashes: Iterable[dict[str, Any]], min_quality: int) -> list[_Query]:
    frames: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for entry in hashes:
        if int(entry.get("quality", 0)) < min_quality:
            continue
        frame = (int(entry.get("frame_index", 0)), str(entry.get("variant", "full")))
        frames[_normalise(entry["hash"])].append(frame)
    return [_Query(h, int(h, 16), tuple(f)) for h, f in frames.items()]


# A candidate pair: (query position, stored media id, stored frame index, stored variant, distance).
_Pair = tuple[int, int, int, str, int]
HALF_BITS = 64
HALVES = 4
# Settings for the lookup statement only: set transaction-locally, and put back right after the
# statement, so a caller's enclosing transaction plans its later queries as usual.
# The plan wanted is always 16 loops of parameterised index-only probes. On small tables the
# planner misjudges the probe-to-chunk join and hashes a sequential scan of the whole table in
# each of the 16 branches instead: 20,000 rows took 147 ms that way against 17 ms with hash and
# merge joins off. JIT compiling the 16-branch statement costs ~200 ms against ~40 ms of
# execution (measured at 1,000,000 rows with jit_above_cost=0); the cost estimate grows with the
# table and crosses the default jit_above_cost at a few million rows.
_PLAN_SETTINGS = ("jit", "enable_hashjoin", "enable_mergejoin")
_PLAN_SETTINGS_SQL = "SELECT " + ", ".join(
    f"current_setting('{name}'), set_config('{name}', 'off', true)" for name in _PLAN_SETTINGS
)
_PLAN_RESTORE_SQL = "SELECT " + ", ".join(
    f"set_config('{name}', %s, true)" for name in _PLAN_SETTINGS
)


def _halves(value: int) -> tuple[int, ...]:
    """The 256-bit value as four signed 64-bit integers, most significant first (``h0``..``h3``)."""
    mask = (1 << HALF_BITS) - 1
    words = [(value >> (HALF_BITS * (HALVES - 1 - k))) & mask for k in range(HALVES)]
    return tuple(w - (1 << HALF_BITS) if w >> (HALF_BITS - 1) else w for w in words)


def _prefilter_q(query: _Query, radius: int) -> Q:
    condition = Q()
    for i, chunk in enumerate(hash_chunks(query.hex)):
        condition |= Q(**{f"c{i}__in": [signed16(v) for v in chunk_neighbours(chunk, radius)]})
    return condition


def _pairs_generic(
    queries: Sequence[_Query],
    exclude_media_id: int | None,
    max_distance: int,
    radius: int,
    min_quality: int,
) -> list[_Pair]:
    """Chunk prefilter through the ORM, confirmation in Python (SQLite and other backends)."""
    # Checked media only: reference footage is traced by ``authcheck.tracing``.
    base = FrameHash.objects.filter(quality__gte=min_quality, frame_index__lt=REFERENCE_FRAME_BASE)
    if exclude_media_id is not None:
        base = base.exclude(media_id=exclude_media_id)
    pairs: list[_Pair] = []
    for position, query in enumerate(queries):
        rows = base.filter(_prefilter_q(query, radius)).values_list(
            "media_id", "frame_index", "variant", "h0", "h1", "h2", "h3"
        )
        for media_id, frame_index, variant, *words in rows.iterator(chunk_size=2000):
            distance = (query.value ^ int(words_hex(tuple(words)), 16)).bit_count()
            if distance <= max_distance:
                pairs.append((position, media_id, frame_index, variant, distance))
    return pairs


def _distance_sql(words: Sequence[int]) -> str:
    """Bits set in the XOR of 64-bit words ``words`` of stored row ``t`` and query ``q``.

    PostgreSQL 15 has no ``bit_count(bigint)``; the cast to ``bit(64)`` keeps the bits.
    """
    return " + ".join(f"bit_count((t.h{k} # q.a{k})::bit(64))" for k in words)


def _cover_distance_sql(chunk: int) -> tuple[str, str]:
    """The distance on 80 of the bits that chunk ``chunk``'s index carries (its 64-bit word and
    first chunk), and on all 112 (``chunk_cover``), for index tuple ``s`` and query ``q``.

    A smallint XOR, widened to int (sign-extended), cast to ``bit(16)`` keeps its 16 bits.
    """
    *chunks, word = chunk_cover(chunk)
    terms = [f"bit_count((s.{word} # q.a{word[1:]})::bit(64))"]
    terms += [f"bit_count((s.{c} # q.k{c[1:]})::int::bit(16))" for c in chunks]
    return " + ".join(terms[:2]), " + ".join(terms)


def _branch_sql(chunk: int, table: str, exclude: bool) -> str:
    """Matches found through chunk column ``c<chunk>``: every (query, flip mask) probes the
    chunk's narrow index; what survives the 112 carried bits is read and confirmed in full.

    Step one's filter first sums 80 of the carried bits (all but about 2 % of the random
    candidates are already beyond the threshold on them), then all 112: cheaper, by the
    server's CPU time, than either all 112 at once or the 64-bit word alone first.
    """
    word = chunk_cover(chunk)[-1]
    first, carried = _cover_distance_sql(chunk)
    exclude_sql = " AND t.media_id <> %(exclude)s" if exclude else ""
    # The literals let the planner use the partial (checked-media) indexes.
    return (
        f"SELECT c.qi, t.media_id, t.frame_index, t.variant, {_distance_sql(range(HALVES))} AS d "  # noqa: S608
        f"FROM (SELECT DISTINCT q.qi, s.c{chunk} AS v, s.{word} AS w FROM q CROSS JOIN f "
        f"JOIN {table} s ON s.c{chunk} = (q.k{chunk} # f.m) "
        f"WHERE s.frame_index < {REFERENCE_FRAME_BASE} "
        f"AND {first} <= %(max_distance)s AND {carried} <= %(max_distance)s) c "
        f"JOIN q ON q.qi = c.qi JOIN {table} t ON t.c{chunk} = c.v AND t.{word} = c.w "
        f"WHERE t.frame_index < {REFERENCE_FRAME_BASE} AND t.quality >= %(min_quality)s"
        f"{exclude_sql} AND {_distance_sql(range(HALVES))} <= %(max_distance)s"
    )


def _query_cte(queries: Sequence[int]) -> tuple[str, dict[str, Any]]:
    """``q``: one row per query hash, ``qi`` (its position), ``a0``..``a3`` (64-bit words) and
    ``k0``..``k15`` (chunks as stored), from arrays passed as parameters."""
    words = [_halves(v) for v in queries]
    chunks = [value_chunks(v) for v in queries]
    params: dict[str, Any] = {
        **{f"a{k}": [w[k] for w in words] for k in range(HALVES)},
        **{f"k{i}": [c[i] for c in chunks] for i in range(CHUNKS)},
    }
    names = [f"a{k}" for k in range(HALVES)] + [f"k{i}" for i in range(CHUNKS)]
    arrays = [f"%(a{k})s::bigint[]" for k in range(HALVES)]
    arrays += [f"%(k{i})s::smallint[]" for i in range(CHUNKS)]
    columns = ", ".join(names)
    sql = (
        f"q AS MATERIALIZED (SELECT (i - 1)::int AS qi, {columns} "  # noqa: S608
        f"FROM unnest({', '.join(arrays)}) WITH ORDINALITY AS u({columns}, i))"
    )
    return sql, params


def _pairs_postgres(
    queries: Sequence[_Query],
    exclude_media_id: int | None,
    max_distance: int,
    radius: int,
    min_quality: int,
) -> list[_Pair]:
    """One statement: 16 two-step probe loops (one per chunk column), confirmed in SQL.

    ``q`` holds the query hashes, ``f`` the flip masks within ``radius`` bits (signed 16-bit,
    like the stored chunks: XOR of sign-extended values is the sign-extended XOR); each branch
    joins every (query, mask) pair to its chunk index, so the planner sees small inputs and
    picks parameterised index-only scans on the narrow indexes of migration 0012. ``UNION``
    drops the duplicates of rows that share several chunks with a query.
    """
    # Only constants and the model's own table name are ever interpolated into SQL here.
    table = connection.ops.quote_name(FrameHash._meta.db_table)
    exclude = exclude_media_id is not None
    q_sql, params = _query_cte([q.value for q in queries])
    params.update(
        masks=[signed16(m) for m in chunk_neighbours(0, radius)],
        min_quality=min_quality,
        max_distance=max_distance,
        exclude=exclude_media_id,
    )
    sql = (
        f"WITH {q_sql}, f AS MATERIALIZED (SELECT m FROM unnest(%(masks)s::smallint[]) AS m) "  # noqa: S608
        + " UNION ".join(_branch_sql(i, table, exclude) for i in range(CHUNKS))
    )
    with transaction.atomic(), server_cursor() as cursor:
        cursor.execute(_PLAN_SETTINGS_SQL)
        current = cursor.fetchone()
        assert current is not None  # one row: SELECT without FROM
        saved = current[0::2]
        rows = prepared_rows(cursor, sql, params)
        cursor.execute(_PLAN_RESTORE_SQL, saved)
    return [(int(q), int(m), int(f), str(v), int(d)) for q, m, f, v, d in rows]


def prepared_rows(cursor: Any, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` run as a server-side prepared statement on a psycopg ``cursor`` with
    server-side binding (``server_cursor``). Django's own cursors bind on the client: every
    call is planned anew (planning the 16-branch lookup costs about 5 ms of the server's CPU,
    a fifth of the lookup) and quoting thousands of array elements into the text costs the
    client more than the query (about 100 ms for the 1,500 seed hashes of a trace)."""
    # Django's error wrapper: driver errors become django.db errors, and a connection broken
    # here is marked, so the request's end discards it instead of handing it to the next one.
    with connection.wrap_database_errors:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()


def server_cursor() -> Any:
    """A psycopg cursor with server-side binding on Django's PostgreSQL connection (inside the
    caller's transaction, if any)."""
    import psycopg  # the PostgreSQL driver, there only when PostgreSQL is

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _matches(pairs: list[_Pair], queries: Sequence[_Query], limit: int) -> list[SimilarMatch]:
    """Group confirmed pairs by stored media, nearest media first, with their frame pairs."""
    by_media: dict[int, dict[tuple[int, int, str, str], int]] = defaultdict(dict)
    for position, media_id, other_index, other_variant, distance in pairs:
        for frame_index, variant in queries[position].frames:
            key = (frame_index, other_index, variant, other_variant)
            best = by_media[media_id].get(key)
            by_media[media_id][key] = distance if best is None else min(best, distance)
    ranked = sorted(by_media.items(), key=lambda item: (min(item[1].values()), item[0]))[:limit]
    media_ids = [media_id for media_id, _ in ranked]
    sha = dict(Media.objects.filter(pk__in=media_ids).values_list("pk", "sha256"))
    first_check = dict(
        Check.objects.filter(media_id__in=media_ids)
        .values("media_id")
        .annotate(first=Min("pk"))
        .values_list("media_id", "first")
    )
    return [
        SimilarMatch(
            media_id=media_id,
            check_id=first_check.get(media_id),
            sha256=sha.get(media_id, ""),
            distance=min(found.values()),
            matched_frames=_frame_pairs(found),
        )
        for media_id, found in ranked
    ]


def _frame_pairs(found: dict[tuple[int, int, str, str], int]) -> tuple[dict[str, Any], ...]:
    ordered = sorted(found.items(), key=lambda item: (item[1], item[0]))[:MAX_MATCHED_FRAMES]
    return tuple(
        {
            "frame_index": frame_index,
            "other_frame_index": other_index,
            "distance": distance,
            "variant": variant,
            "other_variant": other_variant,
        }
        for (frame_index, other_index, variant, other_variant), distance in ordered
    )
