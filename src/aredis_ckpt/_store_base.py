"""Everything the two stores share that does no I/O.

``AsyncRedisStore`` (``_async/store.py``) and its generated twin ``RedisStore`` only sequence
Redis calls: op validation, the encoding of a batch for ``lua/store_batch.lua``, filter
compilation, embedding bookkeeping and the decoding of replies live here.

Layout.  ``P`` is the key prefix; every key carries the hash tag ``{%S<P escaped>}``
(``_keys.escape`` writes ``%`` only before two hex digits, so no thread's tag can be one), so a
store sits in one Redis Cluster slot, stores under other prefixes in other slots, and every
batch is one atomic script.  Below, ``{%S}`` stands for that tag::

    P:{%S}:schema   STRING  layout version of the store under this prefix
    P:{%S}:vmode    STRING  "v": vectors also live in Redis 8 vector sets; "x": they do not
    P:{%S}:seq      STRING  counter for namespace ids and item order
    P:{%S}:ns       ZSET    N, score 0, for every namespace holding an item (lexicographic)
    P:{%S}:no       ZSET    N -> namespace id, which is also its creation order
    P:{%S}:o:<id>   ZSET    key -> insertion order, for the items of namespace <id>
    P:{%S}:it       HASH    N\\0\\0key -> item record (see ``record_tail``)
    P:{%S}:vec      HASH    N\\0\\0key -> the item's vectors, msgpack [path, norm, [floats], ...]
    P:{%S}:vs:<id>  VSET    key\\0<j> -> the item's j-th vector (Redis 8 only)
    P:{%S}:exp      ZSET    N\\0\\0key -> expiry in ms (server clock), items with a TTL only

``N`` is a namespace's labels in UTF-8 joined by NUL.  LangGraph rejects empty labels and labels
holding NUL, so ``N`` never contains ``\\0\\0`` and the byte order of ``N`` is Python's order
of the tuples: ``list_namespaces`` pages straight off ``ns`` and a prefix search is one
ZRANGEBYLEX range.  (``_keys.escape`` is not used for ``N``: it would break that order.)
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from langchain_core.embeddings import Embeddings
from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    ensure_embeddings,
    get_text_at_path,
    tokenize_path,
)
from redis.exceptions import ResponseError

from aredis_ckpt import _guards
from aredis_ckpt._budget import DEFAULT_SCRIPT_BUDGET, ScriptBudget
from aredis_ckpt._config import DEFAULT_KEY_PREFIX, DEFAULT_MAX_PAYLOAD_BYTES
from aredis_ckpt._keys import decode, encode, escape, validate_prefix
from aredis_ckpt._limits import check_limit_option, check_request
from aredis_ckpt._serde import pack_len, pack_str
from aredis_ckpt.errors import SchemaVersionError, ServerOutOfMemoryError

__all__ = [
    "STORE_SCHEMA_VERSION",
    "BaseRedisStore",
    "BatchPlan",
    "StoreKeys",
    "compile_filter",
    "ns_from_path",
    "ns_path",
    "out_of_memory",
]

STORE_TAG: Final = b"%S"
STORE_SCHEMA_VERSION: Final = 1
# Expired items each batch removes before its own work (reads skip the rest until swept).
SWEEP_PER_BATCH: Final = 200

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SCRIPT_ERROR = re.compile(r"aredis-store:(TypeError|ValueError):(.*?):aredis-store-end", re.DOTALL)
_TTL_OPTIONS = {"default_ttl", "refresh_on_read", "sweep_interval_minutes", "omit_expired"}

Arg = bytes | str | int | float


class StoreKeys:
    """The store's key names under one prefix (the script derives the rest from ``schema``)."""

    __slots__ = ("base", "schema")

    def __init__(self, prefix: bytes) -> None:
        tag = STORE_TAG + escape(prefix.decode("utf-8"))
        self.base = prefix + b":{" + tag + b"}:"
        self.schema = self.base + b"schema"


# ---------------------------------------------------------------------- namespaces and keys


def check_labels(namespace: Sequence[Any]) -> None:
    """LangGraph's label rules: str, non-empty, no '.', no NUL (``InvalidNamespaceError``)."""
    if not isinstance(namespace, tuple):
        raise InvalidNamespaceError(f"a namespace must be a tuple of str, got {namespace!r}")
    for label in namespace:
        if not isinstance(label, str):
            raise InvalidNamespaceError(
                f"Invalid namespace label '{label}' found in {namespace}. Namespace labels"
                f" must be strings, but got {type(label).__name__}."
            )
        if "." in label:
            raise InvalidNamespaceError(
                f"Invalid namespace label '{label}' found in {namespace}. Namespace labels "
                "cannot contain periods ('.')."
            )
        if "\x00" in label:
            raise InvalidNamespaceError(
                f"Invalid namespace label '{label}' found in {namespace}. Namespace labels "
                "cannot contain NUL bytes ('\\x00')."
            )
        if not label:
            raise InvalidNamespaceError(
                f"Namespace labels cannot be empty strings. Got {label} in {namespace}"
            )


def ns_path(namespace: Sequence[str]) -> bytes:
    """``N``: the labels in UTF-8 joined by NUL (labels are checked first)."""
    return b"\x00".join(encode(label) for label in namespace)


def ns_from_path(path: bytes) -> tuple[str, ...]:
    return tuple(decode(p) for p in path.split(b"\x00")) if path else ()


def item_field(namespace: Sequence[str], key: str) -> bytes:
    return ns_path(namespace) + b"\x00\x00" + encode(key)


def split_field(name: bytes) -> tuple[tuple[str, ...], str]:
    path, _, key = name.partition(b"\x00\x00")
    return ns_from_path(path), decode(key)


def _check_key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"store keys must be str, got {type(key).__name__} {key!r}")
    return key


def _check_page(op: str, limit: Any, offset: Any) -> None:
    for name, value in (("limit", limit), ("offset", offset)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{op}: {name} must be an int >= 0, got {value!r}")


# ---------------------------------------------------------------------- msgpack for Lua


def _lua_obj(out: bytearray, obj: Any) -> None:
    if obj is True or obj is False:
        out.append(0xC3 if obj else 0xC2)
    elif isinstance(obj, int):
        if 0 <= obj < 0x80:
            out.append(obj)
        else:
            out += b"\xd3" + struct.pack(">q", obj)
    elif isinstance(obj, float):
        out += b"\xcb" + struct.pack(">d", obj)
    elif isinstance(obj, bytes):
        pack_str(out, obj)
    elif isinstance(obj, str):
        pack_str(out, encode(obj))
    elif obj and all(type(x) is float for x in obj):
        pack_len(out, len(obj), 0x90, b"\xdc", b"\xdd")
        out += struct.pack(">" + "Bd" * len(obj), *(y for x in obj for y in (0xCB, x)))
    else:
        pack_len(out, len(obj), 0x90, b"\xdc", b"\xdd")
        for item in obj:
            _lua_obj(out, item)


def lua_pack(obj: Any) -> bytes:
    """msgpack as Redis' Lua cmsgpack reads it: it predates the bin type, so bytes and str
    both go as "str" (arrays, ints, floats and booleans as usual)."""
    out = bytearray()
    _lua_obj(out, obj)
    return bytes(out)


# ---------------------------------------------------------------------- values


def _walk(value: Any, path: list[str | int], empties: list[list[str | int]]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(
                    f"store values are JSON objects: key {k!r} at {path!r} is not a str"
                )
            _walk(v, [*path, k], empties)
    elif isinstance(value, (list, tuple)):
        if not value and path:
            empties.append(path)
        for i, v in enumerate(value):
            _walk(v, [*path, i], empties)


def record_tail(value: Mapping[str, Any], ttl_ms: int) -> bytes:
    """An item record without its timestamps (the script prepends them from the server clock).

    ``<ttl_ms> <n> <n bytes: msgpack paths of empty arrays><JSON value>``.  Filters run in Lua
    on the JSON, where cjson decodes ``[]`` and ``{}`` alike: the paths tell them apart.
    """
    empties: list[list[str | int]] = []
    _walk(value, [], empties)
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except TypeError as exc:
        raise TypeError(f"store values must be JSON-serializable: {exc}") from None
    marks = lua_pack(empties) if empties else b""
    return f"{ttl_ms} {len(marks)} ".encode() + marks + encode(text)


def _timestamp(us: bytes) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def decode_record(rec: bytes) -> tuple[dict[str, Any], datetime, datetime]:
    created, updated, _ttl, n, rest = rec.split(b" ", 4)
    value = json.loads(decode(rest[int(n) :]))
    return value, _timestamp(created), _timestamp(updated)


# ---------------------------------------------------------------------- filters


def _value_node(value: Any) -> list[Any]:
    """A filter value for Python equality, tagged so Lua can tell [] from {} and True from 1."""
    if value is None:
        return ["z"]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        try:
            return ["n", float(value)]
        except OverflowError:
            return ["n", math.inf if value > 0 else -math.inf]
    if isinstance(value, float):
        return ["n", value]
    if isinstance(value, str):
        return ["s", encode(value)]
    if isinstance(value, (list, tuple)):
        return ["L", [_value_node(v) for v in value]]
    if isinstance(value, Mapping):
        pairs: list[Any] = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"filter: object keys must be str, got {k!r}")
            pairs += [encode(k), _value_node(v)]
        return ["D", pairs]
    raise TypeError(
        f"filter values must be JSON values (str, number, bool, None, list, dict), got "
        f"{type(value).__name__} {value!r}"
    )


def _float_node(value: Any) -> list[Any]:
    try:
        return ["f", float(value)]
    except (TypeError, ValueError) as exc:
        return ["F", type(exc).__name__, str(exc)]


def _compare_node(value: Any) -> list[Any]:
    """``langgraph.store.memory._compare_values``'s view of one filter value."""
    if isinstance(value, Mapping):
        keys = list(value)
        for k in keys:
            if not isinstance(k, str):
                raise TypeError(f"filter: object keys must be str, got {k!r}")
        if any(k.startswith("$") for k in keys):
            ops: list[Any] = []
            for k, v in value.items():
                arg = _value_node(v) if k in ("$eq", "$ne") else _float_node(v)
                ops += [encode(k), arg]
            return ["o", ops]
        return ["d", [x for k, v in value.items() for x in (encode(k), _compare_node(v))]]
    if isinstance(value, (list, tuple)):
        return ["l", [_compare_node(v) for v in value]]
    return ["v", _value_node(value)]


def compile_filter(filter: Any) -> list[Any] | None:
    """A search filter as the script evaluates it, or None when it keeps every item."""
    if filter is None:
        return None
    if not isinstance(filter, Mapping):
        raise TypeError(f"search filter must be a dict, got {type(filter).__name__}")
    if not filter:
        return None
    pairs: list[Any] = []
    for k, v in filter.items():
        if not isinstance(k, str):
            raise TypeError(f"filter keys must be str, got {k!r}")
        pairs += [encode(k), _compare_node(v)]
    return ["d", pairs]


def script_error(message: str) -> Exception | None:
    """The Python exception a filter raised inside the script (as InMemoryStore raises it)."""
    found = _SCRIPT_ERROR.search(message)
    if found is None:
        return None
    kind, text = found.groups()
    return TypeError(text) if kind == "TypeError" else ValueError(text)


def out_of_memory(exc: ResponseError, prefix: str) -> ServerOutOfMemoryError | None:
    """A store batch the server refused for lack of memory, named (None: another error)."""
    if not _guards.is_out_of_memory(exc):
        return None
    return ServerOutOfMemoryError(
        f"a store batch under prefix {prefix!r} was refused: Redis is out of memory (used "
        "memory over maxmemory, nothing it may evict); nothing of this batch was written. "
        f"Server said: {exc}"
    )


# ---------------------------------------------------------------------- options


def check_ttl_config(ttl: TTLConfig | None) -> TTLConfig | None:
    if ttl is None:
        return None
    if not isinstance(ttl, Mapping):
        raise TypeError(f"ttl must be a dict like {{'default_ttl': 60}}, got {ttl!r}")
    unknown = set(ttl) - _TTL_OPTIONS
    if unknown:
        raise ValueError(f"unknown ttl option(s): {sorted(unknown)}")
    ttl_minutes(ttl.get("default_ttl"), "ttl['default_ttl']")
    return TTLConfig(**ttl)


def ttl_minutes(minutes: Any, what: str = "ttl") -> int:
    """Minutes (None: no expiry) as milliseconds (0: no expiry)."""
    if minutes is None:
        return 0
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not minutes > 0:
        raise ValueError(f"{what} must be a positive number of minutes or None, got {minutes!r}")
    return max(1, round(minutes * 60_000))


@dataclass(frozen=True)
class IndexSettings:
    config: IndexConfig
    embeddings: Embeddings
    dims: int
    fields: list[tuple[str, str | list[str]]]


def prepare_index(index: IndexConfig | None) -> IndexSettings | None:
    """The ``index=`` option as InMemoryStore reads it."""
    if not index:
        return None
    if not isinstance(index, Mapping):
        raise TypeError(f"index must be a dict with 'dims' and 'embed', got {index!r}")
    dims = index.get("dims")
    if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
        raise ValueError(f"index['dims'] must be a positive int, got {dims!r}")
    config: IndexConfig = IndexConfig(**index)
    embeddings = ensure_embeddings(index.get("embed"))
    fields: list[tuple[str, str | list[str]]] = [
        (p, tokenize_path(p)) if p != "$" else (p, p) for p in (index.get("fields") or ["$"])
    ]
    return IndexSettings(config, embeddings, dims, fields)


# ---------------------------------------------------------------------- batches


@dataclass
class BatchCall:
    """One batch on its way through ``store_batch.lua``, one budget-bounded call at a time.

    A call that runs out of budget answers the reads it finished, hands back the read it was in
    with a state to resume from (and what it found so far), and writes nothing; the next call
    sends the remaining reads, that read resumed, and the same writes, which the call that
    answers the last read applies.
    """

    keys: list[bytes]
    args: list[Arg]
    # the encoded reads still to answer (the first one resumed when it has a state)
    reads: list[list[Any]]
    answers: list[Any] = field(default_factory=list)
    # what the read in progress found in the calls before (plain search, list_namespaces)
    carry: list[Any] = field(default_factory=list)
    calls: int = 0


# Length of each encoded read before the state a resumed read carries.
_READ_SIZE: Final = {b"s": 7, "s": 7, b"l": 5, "l": 5, b"x": 1, "x": 1}


@dataclass
class BatchPlan:
    """One batch: reads answered in order, then the writes, deduplicated as InMemoryStore does
    (the last op on a (namespace, key) wins, at the place of the first)."""

    size: int
    reads: list[tuple[int, Op]] = field(default_factory=list)
    puts: list[PutOp] = field(default_factory=list)
    # distinct queries of searches that rank by similarity, in order
    queries: list[str] = field(default_factory=list)
    # distinct texts to embed -> the (put index, path) each vector is stored for
    texts: dict[str, list[tuple[int, str]]] = field(default_factory=dict)


class BaseRedisStore(BaseStore):
    """Shared construction, batch encoding and decoding of the stores (no I/O)."""

    supports_ttl = True

    def __init__(
        self,
        *,
        key_prefix: str | None,
        index: IndexConfig | None,
        ttl: TTLConfig | None,
        vector_sets: bool,
        max_payload_bytes: int | None = DEFAULT_MAX_PAYLOAD_BYTES,
        strict_server: bool = False,
        script_budget: ScriptBudget | None = None,
    ) -> None:
        super().__init__()
        if script_budget is not None and not isinstance(script_budget, ScriptBudget):
            raise TypeError(f"script_budget must be a ScriptBudget, got {script_budget!r}")
        # how many items one store script may read before the client continues it
        self._budget = script_budget or DEFAULT_SCRIPT_BUDGET
        self._max_payload = check_limit_option(max_payload_bytes)
        # the server's proto-max-bulk-len, once setup() could read it
        self._bulk_limit: int | None = None
        self._strict_server = bool(strict_server)
        self.key_prefix = DEFAULT_KEY_PREFIX if key_prefix is None else key_prefix
        self._sk = StoreKeys(validate_prefix(self.key_prefix))
        self.ttl_config = check_ttl_config(ttl)
        self._index = prepare_index(index)
        self.index_config: IndexConfig | None = None
        self.embeddings: Embeddings | None = None
        if self._index is not None:
            self.index_config = self._index.config
            self.embeddings = self._index.embeddings
        self._use_vector_sets = bool(vector_sets)
        # whether the server keeps this prefix's vectors in vector sets (known after setup)
        self.vector_sets: bool | None = None

    def _check_store_schema(self, stored: bytes | None) -> None:
        try:
            version = int(stored) if stored is not None else None
        except ValueError:
            version = None
        if version is None:
            raise SchemaVersionError(
                f"the store schema record under prefix {self.key_prefix!r} is not a version "
                f"number ({stored!r}); is another application using this prefix?"
            )
        if version > STORE_SCHEMA_VERSION:
            raise SchemaVersionError(
                f"the store under prefix {self.key_prefix!r} was written with schema version "
                f"{version}, newer than the {STORE_SCHEMA_VERSION} this aredis-ckpt "
                "understands; upgrade aredis-ckpt (or use another key_prefix)"
            )

    def _apply_server_facts(self, facts: Sequence[_guards.ServerFacts]) -> None:
        """setup(): remember the server's bulk limit; warn about (or, with strict_server,
        refuse) a server that may evict our keys or has no persistence.  The store's keys
        never carry a Redis expiry (its TTLs are swept by the scripts), so only allkeys-*
        policies can evict them."""
        limits = [f.bulk_limit for f in facts if f.bulk_limit]
        self._bulk_limit = min(limits) if limits else None
        _guards.report(
            facts,
            who="store",
            prefix=self.key_prefix,
            expiring_keys=False,
            strict=self._strict_server,
        )

    def _setup_args(self) -> tuple[list[bytes], list[Arg]]:
        return [self._sk.schema], [str(STORE_SCHEMA_VERSION)]

    # ------------------------------------------------------------------ planning

    def _plan(self, ops: Iterable[Op]) -> BatchPlan:
        ops = list(ops)
        plan = BatchPlan(len(ops))
        dedup: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for i, op in enumerate(ops):
            if isinstance(op, GetOp):
                check_labels(op.namespace)
                _check_key(op.key)
                plan.reads.append((i, op))
            elif isinstance(op, SearchOp):
                check_labels(op.namespace_prefix)
                _check_page("search", op.limit, op.offset)
                if op.query is not None and not isinstance(op.query, str):
                    raise TypeError(f"search: query must be a str, got {op.query!r}")
                if op.query and self._index is not None and op.query not in plan.queries:
                    plan.queries.append(op.query)
                plan.reads.append((i, op))
            elif isinstance(op, ListNamespacesOp):
                for cond in op.match_conditions or ():
                    check_labels(tuple(cond.path))
                    if cond.match_type not in ("prefix", "suffix"):
                        raise ValueError(f"Unsupported match type: {cond.match_type}")
                if op.max_depth is not None and (
                    isinstance(op.max_depth, bool) or not isinstance(op.max_depth, int)
                ):
                    raise ValueError(f"max_depth must be an int or None, got {op.max_depth!r}")
                _check_page("list_namespaces", op.limit, op.offset)
                plan.reads.append((i, op))
            elif isinstance(op, PutOp):
                check_labels(op.namespace)
                _check_key(op.key)
                if op.value is not None and not isinstance(op.value, Mapping):
                    raise TypeError(f"put: value must be a dict or None, got {op.value!r}")
                if op.value is not None:
                    ttl_minutes(op.ttl)
                dedup[(op.namespace, op.key)] = op
            else:
                raise ValueError(f"Unknown operation type: {type(op)}")
        plan.puts = list(dedup.values())
        if self._index is not None:
            self._collect_texts(plan)
        return plan

    def _collect_texts(self, plan: BatchPlan) -> None:
        """InMemoryStore's ``_extract_texts``: the texts each put embeds, by field path."""
        assert self._index is not None
        for n, op in enumerate(plan.puts):
            if op.value is None or op.index is False:
                continue
            if op.index is None:
                paths = self._index.fields
            else:
                paths = [(ix, tokenize_path(ix)) for ix in op.index]
            for path, tokens in paths:
                texts = get_text_at_path(op.value, tokens)
                if len(texts) > 1:
                    for i, text in enumerate(texts):
                        plan.texts.setdefault(text, []).append((n, f"{path}.{i}"))
                elif texts:
                    plan.texts.setdefault(texts[0], []).append((n, path))

    def _check_vectors(self, vectors: Sequence[Sequence[float]], n: int) -> list[list[float]]:
        if n == 0:
            return []
        assert self._index is not None
        dims = self._index.dims
        if len(vectors) != n:
            raise ValueError(
                f"the embedding function returned {len(vectors)} vectors for {n} texts"
            )
        out = []
        for v in vectors:
            if len(v) != dims:
                raise ValueError(
                    f"the embedding function returned a vector of {len(v)} dimensions; "
                    f"index['dims'] is {dims}"
                )
            out.append([float(x) for x in v])
        return out

    # ------------------------------------------------------------------ encoding

    def _batch_call(
        self,
        plan: BatchPlan,
        query_vectors: Sequence[Sequence[float]],
        text_vectors: Sequence[Sequence[float]],
    ) -> BatchCall:
        """The calls of ``store_batch.lua`` for a planned batch and its embeddings."""
        checked = self._check_vectors(query_vectors, len(plan.queries))
        qvec = dict(zip(plan.queries, checked, strict=True))
        per_put: dict[int, dict[str, list[float]]] = {}
        if plan.texts:
            vectors = self._check_vectors(text_vectors, len(plan.texts))
            for vector, targets in zip(vectors, plan.texts.values(), strict=True):
                for n, path in targets:
                    per_put.setdefault(n, {})[path] = vector
        reads: list[Any] = []
        for _, op in plan.reads:
            if isinstance(op, GetOp):
                reads.append(["g", item_field(op.namespace, op.key), bool(op.refresh_ttl)])
            elif isinstance(op, SearchOp):
                q: Any = qvec.get(op.query, False) if op.query else False
                reads.append(
                    [
                        "s",
                        ns_path(op.namespace_prefix),
                        compile_filter(op.filter) or False,
                        op.limit,
                        op.offset,
                        q,
                        bool(op.refresh_ttl),
                    ]
                )
            elif isinstance(op, ListNamespacesOp):
                conds = [
                    ["p" if c.match_type == "prefix" else "s", [encode(x) for x in c.path]]
                    for c in op.match_conditions or ()
                ]
                depth: Any = False if op.max_depth is None else op.max_depth
                reads.append(["l", conds, depth, op.limit, op.offset])
        puts: list[Any] = []
        sizes: list[tuple[str, int]] = []
        for n, op in enumerate(plan.puts):
            if op.value is None:
                puts.append(["p", ns_path(op.namespace), encode(op.key), False, 0, False])
                continue
            ttl = ttl_minutes(op.ttl)
            vecs: Any = False
            if n in per_put:
                vecs = lua_pack([x for p, v in per_put[n].items() for x in (p, _norm(v), v)])
            tail = record_tail(op.value, ttl)
            sizes.append((f"item {op.key!r} of namespace {op.namespace!r}", len(tail)))
            puts.append(["p", ns_path(op.namespace), encode(op.key), tail, ttl, vecs])
        args: list[Arg] = [
            lua_pack(reads),
            lua_pack(puts),
            SWEEP_PER_BATCH,
            "1" if self._use_vector_sets else "0",
            self._budget.store_items,
        ]
        check_request(
            self._max_payload,
            self._bulk_limit,
            "put" if len(plan.puts) == 1 and not plan.reads else "batch",
            f"store prefix {self.key_prefix!r} ({len(plan.puts)} puts, {len(plan.reads)} reads)",
            args,
            lambda: sizes,
        )
        return BatchCall([self._sk.schema], args, reads)

    def _sweep_call(self) -> BatchCall:
        reads: list[list[Any]] = [["x"]]
        args: list[Arg] = [
            lua_pack(reads),
            lua_pack([]),
            SWEEP_PER_BATCH,
            "0",
            self._budget.store_items,
        ]
        return BatchCall([self._sk.schema], args, reads)

    @staticmethod
    def _advance(call: BatchCall, reply: Sequence[Any]) -> bool:
        """Take in one call's reply; True when the batch is done (every read answered, the
        writes applied), else ``call`` is ready for the next call."""
        call.calls += 1
        status, answers = int(reply[0]), list(reply[1])
        finished = answers if status == 0 else answers[: status - 1]
        for answer in finished:
            if call.carry:
                answer = [*call.carry, *answer]
                call.carry = []
            call.answers.append(answer)
        if status == 0:
            return True
        state, partial = answers[status - 1]
        if status > 1:
            call.carry = []
        call.carry.extend(partial or ())
        call.reads = call.reads[status - 1 :]
        if state is not None:
            first = call.reads[0]
            call.reads[0] = [*first[: _READ_SIZE[first[0]]], state]
        call.args[0] = lua_pack(call.reads)
        return False

    # ------------------------------------------------------------------ decoding

    def _results(self, plan: BatchPlan, reply: Sequence[Any]) -> list[Result]:
        """The batch's results from the answers of its reads, in order."""
        results: list[Result] = [None] * plan.size
        for (i, op), answer in zip(plan.reads, reply, strict=True):
            if isinstance(op, GetOp):
                results[i] = None if answer is None else self._item(op, answer)
            elif isinstance(op, SearchOp):
                results[i] = [
                    _search_item(answer[j], answer[j + 1], answer[j + 2])
                    for j in range(0, len(answer), 3)
                ]
            elif isinstance(op, ListNamespacesOp):
                results[i] = [ns_from_path(p) for p in answer]
        return results

    @staticmethod
    def _item(op: GetOp, rec: bytes) -> Item:
        value, created, updated = decode_record(rec)
        return Item(
            value=value,
            key=op.key,
            namespace=op.namespace,
            created_at=created,
            updated_at=updated,
        )


def _norm(vector: Sequence[float]) -> float:
    """The vector's Euclidean norm, summed in order as the script's scoring loop would."""
    total = 0.0
    for x in vector:
        total += x * x
    return math.sqrt(total)


def _search_item(name: bytes, rec: bytes, score: bytes) -> SearchItem:
    namespace, key = split_field(name)
    value, created, updated = decode_record(rec)
    return SearchItem(
        namespace=namespace,
        key=key,
        value=value,
        created_at=created,
        updated_at=updated,
        score=float(score) if score else None,
    )
