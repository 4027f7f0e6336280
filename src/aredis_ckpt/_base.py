"""Everything the two savers share that does no I/O.

The async saver (``_async/saver.py``) and its generated sync twin only sequence Redis calls;
the key names, script arguments, validation and decoding of replies all live here.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
    PendingWrite,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from redis.exceptions import ResponseError

from aredis_ckpt import _guards, _serde
from aredis_ckpt._appends import Appends, Key, Update
from aredis_ckpt._budget import DEFAULT_SCRIPT_BUDGET, ScriptBudget
from aredis_ckpt._commands import Arg, Command, ScriptCall, evalsha
from aredis_ckpt._config import (
    DEFAULT_COMPRESS_THRESHOLD,
    DEFAULT_KEY_PREFIX,
    DEFAULT_MAX_PAYLOAD_BYTES,
    LIST_PAGE,
    LIST_SCAN_BUDGET,
    SCHEMA_VERSION,
    TTLConfig,
    ttl_milliseconds,
)
from aredis_ckpt._damage import ThreadDamage, damage_of, is_damage, unescape
from aredis_ckpt._keys import (
    NUL,
    BucketKeys,
    PrefixKeys,
    ThreadKeys,
    decode,
    encode,
    escape,
    key_part,
    ns_member,
    validate_prefix,
    value_field,
    write_field_suffix,
)
from aredis_ckpt._limits import check_limit_option, check_request, size_of
from aredis_ckpt._scripts import SCRIPTS, LuaScript
from aredis_ckpt.errors import (
    CorruptedDataError,
    ReplicationError,
    SchemaVersionError,
    ServerOutOfMemoryError,
    UnencryptedDataError,
)

__all__ = [
    "BaseRedisSaver",
    "ListQuery",
    "MaintenanceJob",
    "PutOp",
    "PutPlan",
    "ScriptCall",
    "WritesOp",
    "bucket_call",
]

logger = logging.getLogger("aredis_ckpt")

# A filter on a key the metadata lacks matches None, as in Python's `metadata.get(key)`.
NULL_DIGEST = _serde.filter_digest(None)


class _Naming:
    """``BaseRedisSaver._naming``'s context (a class: about 1 us per call cheaper than a
    generator-based context manager, and it wraps every saver call)."""

    __slots__ = ("op", "saver", "thread_id")

    def __init__(self, saver: BaseRedisSaver, op: str, thread_id: str | None) -> None:
        self.saver = saver
        self.op = op
        self.thread_id = thread_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, ResponseError) and _guards.is_out_of_memory(exc):
            raise self.saver._out_of_memory(self.op, self.thread_id, exc) from exc


@dataclass
class PutOp:
    """The arguments of one ``put``, for the savers' internal batched write path."""

    config: RunnableConfig
    checkpoint: Checkpoint
    metadata: CheckpointMetadata
    new_versions: ChannelVersions


@dataclass
class WritesOp:
    """The arguments of one ``put_writes``, for the savers' internal batched write path."""

    config: RunnableConfig
    writes: Sequence[tuple[str, Any]]
    task_id: str
    task_path: str = ""


@dataclass
class MaintenanceJob:
    """One thread's share of delete_thread / prune / delete_for_runs, run a slice at a time.

    ``phases`` still to run, each a slice script called until it reports it is done:
    ``delete`` (the thread vanishes: delete_thread.lua), ``drain`` (bucket entries of deleted
    incarnations: drain.lua), ``prune_n`` / ``prune_w`` (checkpoints beyond ``keep``, then
    orphaned writes: prune.lua), ``runs`` (checkpoints of ``runs``: delete_runs.lua), ``gc``
    (values no checkpoint references: gc.lua).  ``cursor`` is where the phase resumes.
    """

    tk: ThreadKeys
    phases: list[str]
    keep: int = 0
    runs: list[bytes] = field(default_factory=list)
    cursor: bytes = b""
    slices: int = 0


@dataclass
class ListQuery:
    """State of one ``list`` call across its pages."""

    keys: Sequence[bytes]
    mode: bytes
    max_bound: bytes
    min_bound: bytes
    remaining: int | None
    ns_e: bytes
    exact: bytes
    filter_args: list[Arg] = field(default_factory=list)
    thread_id: str | None = None
    namespace: str | None = None
    # index entries one call may examine (ScriptBudget.list_scan); without a filter, never
    # below the page size (each entry examined is then a checkpoint returned)
    scan_budget: int = LIST_SCAN_BUDGET

    def page_args(self, prefix: bytes) -> list[Arg]:
        page = LIST_PAGE if self.remaining is None else min(self.remaining, 1000)
        return [
            self.mode,
            self.max_bound,
            self.min_bound,
            page,
            self.scan_budget if self.filter_args else max(self.scan_budget, page),
            prefix,
            self.ns_e,
            self.exact,
            NULL_DIGEST,
            len(self.filter_args) // 2,
            *self.filter_args,
        ]

    def advance(self, cursor: bytes, returned: int) -> bool:
        """Record a page; return whether another page may hold more checkpoints."""
        if self.remaining is not None:
            self.remaining -= returned
            if self.remaining <= 0:
                return False
        if not cursor:
            return False
        self.max_bound = cursor
        return True


@dataclass
class DeltaWalk:
    """State of one ``get_delta_channel_history`` call across its slices of the parent chain.

    Each call of the script reads at most ``budget`` ancestors plus pending writes and hands
    back the next ancestor and the channels still open; ``ancestors`` collects the replies'
    entries, nearest ancestor first, as one unsliced walk returns them.
    """

    keys: Sequence[bytes]
    ns_e: bytes
    cid: bytes
    channels: list[bytes]
    budget: int
    how: bytes = b"s"
    ancestors: list[Any] = field(default_factory=list)

    def call(self) -> ScriptCall:
        return ScriptCall(self.keys, [self.ns_e, self.cid, self.how, self.budget, *self.channels])

    def advance(self, reply: Sequence[Any]) -> bool:
        """Record one slice; return whether the walk goes on."""
        part, after, still_open = reply
        self.ancestors.extend(part)
        if not after:
            return False
        self.cid, self.how, self.channels = after, b"c", list(still_open)
        return True


@dataclass
class CopyPage:
    """What ``copy_thread`` has written so far into one set of keys (target or staging)."""

    # entries each of the ten keys gained (checked before a staging copy is published)
    added: list[int] = field(default_factory=lambda: [0] * len(ThreadKeys.NAMES))
    # bucket entries and runs of the copied checkpoints, not yet in the index across threads
    members: list[bytes] = field(default_factory=list)
    runs: list[bytes] = field(default_factory=list)
    # the source existed at the first page; it was gone at a later one
    found: bool = False
    vanished: bool = False

    def record(self, reply: Sequence[Any]) -> None:
        added, members, runs = reply
        self.added = [a + int(b) for a, b in zip(self.added, added, strict=True)]
        self.members.extend(members)
        self.runs.extend(runs)


@dataclass
class PutPlan:
    """A ``put``: the thread script, the config to return, and the thread's bucket entries."""

    call: ScriptCall
    config: RunnableConfig
    thread: ThreadKeys
    member: bytes
    # a shallow put's parent, whose bucket entry goes with it (the thread script drops it)
    superseded: list[bytes]
    # on a cluster: the bucket's commands, sent beside the thread script
    bucket: list[Command]
    # what to remember of the compressed values once the put succeeded (see _appends.py)
    remember: list[Update] = field(default_factory=list)


def _configurable(config: RunnableConfig | None, what: str) -> Mapping[str, Any]:
    if not isinstance(config, Mapping):
        raise TypeError(
            f"{what}: config must be a RunnableConfig dict, got {type(config).__name__}"
        )
    conf = config.get("configurable")
    if not isinstance(conf, Mapping):
        raise ValueError(f"{what}: config has no 'configurable' section: {config!r}")
    return conf


def _thread_id(conf: Mapping[str, Any], what: str) -> str:
    if "thread_id" not in conf:
        raise ValueError(
            f"{what}: config['configurable'] has no 'thread_id'; pass "
            "{'configurable': {'thread_id': ...}} when invoking a graph with a checkpointer"
        )
    tid = conf["thread_id"]
    if not isinstance(tid, str):
        raise TypeError(f"{what}: thread_id must be a str, got {type(tid).__name__} {tid!r}")
    return tid


def _str_field(conf: Mapping[str, Any], name: str, what: str, default: str = "") -> str:
    value = conf.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise TypeError(f"{what}: {name} must be a str, got {type(value).__name__} {value!r}")
    return value


class BaseRedisSaver(BaseCheckpointSaver[str]):
    """Shared construction, request building and decoding (no I/O)."""

    # Shallow savers keep only the latest checkpoint of each namespace (see _async/shallow.py).
    _shallow = False

    def __init__(
        self,
        *,
        key_prefix: str,
        ttl: TTLConfig | None,
        serde: SerializerProtocol | None,
        cluster: bool,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 1000,
        compress_threshold: int | None = DEFAULT_COMPRESS_THRESHOLD,
        allow_plaintext: bool = False,
        max_payload_bytes: int | None = DEFAULT_MAX_PAYLOAD_BYTES,
        strict_server: bool = False,
        global_index: bool = True,
        script_budget: ScriptBudget | None = None,
        skip_damaged: bool = False,
    ) -> None:
        super().__init__(serde=serde)
        if not isinstance(skip_damaged, bool):
            raise TypeError(f"skip_damaged must be True or False, got {skip_damaged!r}")
        # list(): skip damaged checkpoints with a WARNING per thread instead of raising
        self._skip_damaged = skip_damaged
        if script_budget is not None and not isinstance(script_budget, ScriptBudget):
            raise TypeError(f"script_budget must be a ScriptBudget, got {script_budget!r}")
        # how much one maintenance script call may do (see _budget.py)
        self._budget = script_budget or DEFAULT_SCRIPT_BUDGET
        # Whether self.serde encrypts, worked out on first read (for the serde of that moment:
        # with_allowlist() swaps it on a copy of the saver).
        self._allow_plaintext = bool(allow_plaintext)
        self._encrypts_for: tuple[SerializerProtocol, bool] | None = None
        self._max_payload = check_limit_option(max_payload_bytes)
        # the server's proto-max-bulk-len, once setup() could read it
        self._bulk_limit: int | None = None
        self._strict_server = bool(strict_server)
        if not isinstance(global_index, bool):
            raise TypeError(f"global_index must be True or False, got {global_index!r}")
        # The index across threads (list(None), delete_for_runs, its TTL bookkeeping); off, a
        # thread's writes touch only the thread's own keys (one slot).
        self._global = global_index
        if compress_threshold is not None and (
            isinstance(compress_threshold, bool)
            or not isinstance(compress_threshold, int)
            or compress_threshold < 1
        ):
            raise ValueError(
                f"compress_threshold must be a positive int or None, got {compress_threshold!r}"
            )
        self._compress = compress_threshold
        # the last compressed value of each thread, namespace and channel: a new version that
        # extends it compresses only what it adds (see _appends.py)
        self._appends = Appends()
        for name, value in (("wait_replicas", wait_replicas), ("wait_timeout_ms", wait_timeout_ms)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        self._wait_replicas = wait_replicas
        self._wait_timeout_ms = wait_timeout_ms
        self.key_prefix = key_prefix
        self.ttl = ttl
        self._ttl_ms, self._refresh_on_read = ttl_milliseconds(ttl)
        self._pk = PrefixKeys(validate_prefix(key_prefix))
        # On a cluster a thread's bucket of the indexes across threads lives in another slot
        # than the thread, so thread scripts cannot touch it: the client sends the bucket's
        # script beside the thread's.  On one server (or Sentinel) the thread scripts update
        # the bucket themselves, atomically.
        self._cluster = cluster
        # Whether this saver has seen the schema record (setup() or its first call).
        self._schema_ok = False
        # Whether a call went through _ready() (on the async saver: the event loop is known).
        self._bound = False

    # ------------------------------------------------------------------ versions

    def get_next_version(self, current: str | None, channel: None) -> str:
        """``<32-digit counter>.<16-digit random>``, as LangGraph's own savers make them.

        The random part keeps two forks that reach the same counter from sharing a stored value.
        """
        # tests and older threads may hand in int versions: str() covers both
        current_v = 0 if current is None else int(str(current).split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"

    # ------------------------------------------------------------------ setup

    def _check_replicas(self, op: str, acked: int) -> None:
        if acked < self._wait_replicas:
            raise ReplicationError(
                f"{op}: {acked} of the {self._wait_replicas} replicas required by wait_replicas "
                f"acknowledged the write within {self._wait_timeout_ms} ms; it is on the primary "
                "but could be lost if the primary fails now"
            )

    def _stored_version(self, stored: bytes | None, legacy: bool) -> int | None:
        """The schema version of the data under the prefix: the record's, 1 for version-1 data
        without a record (its setup() never ran), None for a prefix without data."""
        if stored is None:
            return 1 if legacy else None
        try:
            version = int(stored)
        except ValueError:
            raise SchemaVersionError(
                f"the schema record under prefix {self.key_prefix!r} is not a version "
                f"number ({stored!r}); is another application using this prefix?"
            ) from None
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"the data under prefix {self.key_prefix!r} was written with schema version "
                f"{version}, newer than the {SCHEMA_VERSION} this aredis-ckpt understands; "
                "upgrade aredis-ckpt (or use another key_prefix)"
            )
        return version

    def _check_current(self, stored: bytes | None, legacy: bool) -> None:
        """Refuse to work on data that still needs setup()'s migration."""
        version = self._stored_version(stored, legacy)
        if (version is not None and version < SCHEMA_VERSION) or legacy:
            raise SchemaVersionError(
                f"the data under prefix {self.key_prefix!r} was written by an earlier "
                f"aredis-ckpt (schema version {version or 1}); call setup() (or asetup()) once "
                f"to migrate it to version {SCHEMA_VERSION} before using it"
            )

    def _require_global(self, what: str) -> None:
        if not self._global:
            raise ValueError(
                f"{what} needs the index across threads, and this saver was created with "
                "global_index=False (its writes only touch each thread's own keys); use a "
                "saver with global_index=True on a prefix whose writers all keep the index"
            )

    def _apply_server_facts(self, facts: Sequence[_guards.ServerFacts]) -> None:
        """setup(): remember the server's bulk limit; warn about (or, with strict_server,
        refuse) a server that may evict our keys or has no persistence."""
        limits = [f.bulk_limit for f in facts if f.bulk_limit]
        self._bulk_limit = min(limits) if limits else None
        _guards.report(
            facts,
            who="checkpointer",
            prefix=self.key_prefix,
            expiring_keys=self._ttl_ms > 0,
            strict=self._strict_server,
        )

    # ------------------------------------------------------------------ errors

    def _naming(self, op: str, thread_id: str | None) -> _Naming:
        """A context that re-raises an out-of-memory refusal of the server as
        ``ServerOutOfMemoryError`` naming the operation and thread (the server's error stays
        as ``__cause__``)."""
        return _Naming(self, op, thread_id)

    def _out_of_memory(self, op: str, thread_id: str | None, exc: Exception) -> Exception:
        subject = f" on thread {thread_id!r}" if thread_id is not None else ""
        # one server: the call is one script, refused whole; on a cluster a put's thread
        # script and bucket update go to their nodes together, and either may be refused
        trace = "the refused script wrote nothing" if self._cluster else "nothing was written"
        return ServerOutOfMemoryError(
            f"{op}{subject} under prefix {self.key_prefix!r} was refused: Redis is out of "
            f"memory (used memory over maxmemory, nothing it may evict); {trace}. Server "
            f"said: {exc}"
        )

    # ------------------------------------------------------------------ encryption

    def _require_encrypted(self) -> bool:
        """Whether reads refuse plaintext records (the serializer encrypts and
        ``allow_plaintext`` is off)."""
        if self._allow_plaintext:
            return False
        known = self._encrypts_for
        if known is None or known[0] is not self.serde:
            known = (self.serde, _serde.serializer_encrypts(self.serde))
            self._encrypts_for = known
        return known[1]

    def _unencrypted(
        self, exc: _serde.NotEncrypted, channel: str | None, thread_id: str, ns: str, at: str
    ) -> UnencryptedDataError:
        record = exc.record if channel is None else f"{exc.record} of channel {channel!r}"
        return UnencryptedDataError(
            f"thread {thread_id!r} (namespace {ns!r}) under prefix {self.key_prefix!r}, {at}: "
            f"the {record} is not encrypted (type tag {exc.tag!r}) but this saver's serializer "
            "encrypts; refused as forged or legacy plaintext. To read records written before "
            "encryption was switched on, pass allow_plaintext=True while migrating"
        )

    # ------------------------------------------------------------------ keys

    def _bucket_keys(self, tk: ThreadKeys) -> tuple[bytes, ...]:
        """The bucket index a thread script gets after the thread's keys: on one server, with
        the index across threads on; else none (the script then leaves the bucket alone)."""
        if self._cluster or not self._global:
            return ()
        return (self._pk.buckets[tk.bucket].index,)

    def _thread(self, thread_id: str) -> ThreadKeys:
        return self._pk.thread(thread_id)

    def _bucket(self, tk: ThreadKeys) -> BucketKeys:
        return self._pk.buckets[tk.bucket]

    def _bucket_call(
        self,
        tk: ThreadKeys,
        op: str,
        add: Sequence[bytes] = (),
        remove: Sequence[bytes] = (),
        add_runs: Sequence[bytes] = (),
        remove_runs: Sequence[bytes] = (),
    ) -> ScriptCall | None:
        """On a cluster: the bucket script applying a thread's index changes (or None).

        On one server the thread scripts update the bucket themselves, atomically, and this
        returns None; so it does with the index across threads off, or with nothing to do.
        """
        if not self._cluster or not self._global:
            return None
        if op != "forget" and not (add or remove or add_runs or remove_runs):
            return None
        return bucket_call(
            self._bucket(tk), tk.tag, op, self._ttl_ms, add, remove, add_runs, remove_runs
        )

    def _bucket_put(
        self, tk: ThreadKeys, member: bytes, superseded: list[bytes], run_e: bytes
    ) -> list[Command]:
        """Cluster: what a put sends to its thread's bucket beside the thread script.

        Without a ttl, plain commands (an index entry, the run's set; a shallow put's parent
        entry out): no script to start.  With a ttl, the bucket script, which also records the
        expiry and names due threads.
        """
        if not self._cluster or not self._global:
            return []
        bucket = self._bucket(tk)
        runs = [run_e] if run_e else []
        if self._ttl_ms:
            call = bucket_call(bucket, tk.tag, "add", self._ttl_ms, [member], superseded, runs)
            return [evalsha(SCRIPTS.bucket, call)]
        commands = [Command(("ZADD", bucket.index, 0, member), bucket.index)]
        if superseded:
            commands.append(Command(("ZREM", bucket.index, *superseded), bucket.index))
        if run_e:
            key = bucket.run(run_e)
            commands.append(Command(("SADD", key, tk.tag), key))
        return commands

    def _settle_call(
        self, bucket: BucketKeys, checked: Sequence[tuple[bytes, bytes, int]]
    ) -> ScriptCall:
        """Cluster: settle due threads of a bucket, given (T, score seen, PTTL of its t key)."""
        args: list[Arg] = ["settle", self._budget.sweep_entries, self._ttl_ms]
        for tag, score, left in checked:
            args.extend((tag, score, left))
        return ScriptCall((bucket.index,), args)

    # ------------------------------------------------------------------ put

    def _put_call(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> PutPlan:
        """The put script, the config to return, and (on a cluster) the bucket update."""
        conf = _configurable(config, "put")
        thread_id = _thread_id(conf, "put")
        ns = _str_field(conf, "checkpoint_ns", "put")
        parent = _str_field(conf, "checkpoint_id", "put")
        cid = checkpoint["id"]
        if not isinstance(cid, str) or not cid:
            raise ValueError(f"put: checkpoint['id'] must be a non-empty str, got {cid!r}")
        ns_e = key_part(ns)
        tk = self._thread(thread_id)
        md = get_checkpoint_metadata(config, metadata)
        values = checkpoint["channel_values"]
        pairs: list[Arg] = []
        remember: list[Update] = []
        # values to compress: (pairs index, (key, type tag, serialized)), encoded together
        # so that one holding another (a Send carrying the state) reuses its frames
        big: list[tuple[int, tuple[Key, str, bytes]]] = []
        for channel, version in new_versions.items():
            pairs.append(value_field(ns_e, channel, version))
            if channel not in values:
                pairs.append(_serde.EMPTY_BLOB)
                continue
            tag, data = self.serde.dumps_typed(values[channel])
            if self._compress is not None and len(data) >= self._compress:
                big.append((len(pairs), (((tk.tag, ns_e), channel), tag, data)))
                pairs.append(b"")
            else:
                pairs.append(_serde.framed(tag, data))
        if big:
            blobs = self._appends.encode([v for _, v in big], remember)
            for (at, _), blob in zip(big, blobs, strict=True):
                pairs[at] = blob
        versions = checkpoint["channel_versions"]
        channels = sorted(versions)
        run_id = md.get("run_id")
        run_e = escape(str(run_id)) if run_id is not None else b""
        keys: tuple[bytes, ...] = tk.all
        bucket_keys = self._bucket_keys(tk)
        if bucket_keys:
            keys += (*bucket_keys, self._bucket(tk).run(run_e))
        tail = NUL + tk.tag + NUL + ns_e
        member = encode(cid) + tail
        # a shallow put supersedes its parent (the namespace's latest): its entry goes too
        superseded = [encode(parent) + tail] if self._shallow and parent and parent != cid else []
        bucket = self._bucket_put(tk, member, superseded, run_e)
        c_blob = _serde.dump_checkpoint(self.serde, checkpoint, md)
        call = ScriptCall(
            keys,
            [
                encode(cid),
                c_blob,
                _serde.dump_meta(parent, channels, ns_e, versions, md, run_e),
                ns_e,
                encode(ns),
                encode(thread_id),
                tk.tag,
                run_e,
                self._ttl_ms,
                self._pk.prefix,
                b"1" if self._shallow else b"0",
                self._budget.sweep_entries,
                *pairs,
            ],
        )
        check_request(
            self._max_payload,
            self._bulk_limit,
            "put",
            f"thread {thread_id!r} (namespace {ns!r})",
            call.args,
            lambda: [
                ("the checkpoint and its metadata", len(c_blob)),
                *(
                    (f"channel {channel!r}", size_of(pairs[2 * i + 1]))
                    for i, channel in enumerate(new_versions)
                ),
            ],
        )
        next_config: RunnableConfig = {
            "configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": cid}
        }
        return PutPlan(call, next_config, tk, member, superseded, bucket, remember)

    def _put_writes_call(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> ScriptCall:
        """The put_writes script (it touches the thread's keys only)."""
        conf = _configurable(config, "put_writes")
        thread_id = _thread_id(conf, "put_writes")
        ns = _str_field(conf, "checkpoint_ns", "put_writes")
        cid = _str_field(conf, "checkpoint_id", "put_writes")
        if not cid:
            raise ValueError("put_writes: config['configurable'] has no 'checkpoint_id'")
        ns_e = key_part(ns)
        tk = self._thread(thread_id)
        args: list[Arg] = [ns_e, encode(ns), encode(thread_id), self._ttl_ms, encode(cid)]
        for i, (channel, value) in enumerate(writes):
            idx = WRITES_IDX_MAP.get(channel, i)
            args.append(write_field_suffix(idx, task_id))
            tag, data = self.serde.dumps_typed(value)
            if self._compress is not None and len(data) >= self._compress:
                # the state a Send passes on holds a value compressed before: reuse its frames
                tag, data = self._appends.embedded((tk.tag, ns_e), tag, data) or _serde.compress(
                    tag, data, self._compress
                )
            args.append(_serde.pack_write(task_id, idx, channel, tag, data, task_path))
            args.append(b"1" if idx < 0 else b"0")
        check_request(
            self._max_payload,
            self._bulk_limit,
            "put_writes",
            f"thread {thread_id!r} (namespace {ns!r}), checkpoint {cid!r}",
            args,
            lambda: [
                (f"write of task {task_id!r} to channel {channel!r}", size_of(args[6 + 3 * i]))
                for i, (channel, _) in enumerate(writes)
            ],
        )
        return ScriptCall(tk.all, args)

    # ------------------------------------------------------------------ get_tuple

    def _get_tuple_call(self, config: RunnableConfig) -> tuple[ScriptCall, str, str]:
        conf = _configurable(config, "get_tuple")
        thread_id = _thread_id(conf, "get_tuple")
        ns = _str_field(conf, "checkpoint_ns", "get_tuple")
        cid = _str_field(conf, "checkpoint_id", "get_tuple")
        refresh = self._ttl_ms if self._refresh_on_read else 0
        call = ScriptCall(self._thread(thread_id).all, [key_part(ns), encode(cid), refresh])
        return call, thread_id, ns

    def _decode_got(self, thread_id: str, ns: str, reply: Any) -> CheckpointTuple | None:
        """A get_tuple reply: None (no such checkpoint), the tuple, or DamagedThreadError."""
        if not reply:
            return None
        if is_damage(reply):
            tag = self._thread(thread_id).tag
            raise damage_of(reply, thread_id, tag, ns).error(self.key_prefix)
        return self._decode_tuple(thread_id, ns, reply)

    def _decode_tuple(self, thread_id: str, ns: str, reply: Sequence[Any]) -> CheckpointTuple:
        cid_raw, c_blob, parent_raw, channels, value_blobs, write_blobs = reply[:6]
        cid = decode(cid_raw)
        parent = decode(parent_raw)
        strict = self._require_encrypted()
        at: str | None = None  # the channel whose value is being read
        try:
            checkpoint, metadata = _serde.load_checkpoint(self.serde, c_blob, strict)
            values: dict[str, Any] = {}
            for channel_raw, blob in zip(channels, value_blobs, strict=True):
                at = channel = decode(channel_raw)
                if blob is None:  # the scripts reply with damage instead: never silently
                    raise ValueError(f"the stored value of channel {channel!r} is missing")
                value = _serde.load_value(self.serde, blob, strict)
                if value is not _serde.EMPTY:
                    values[channel] = value
            at = None
            if not all(write_blobs):
                raise ValueError("a pending write is missing")
            decoded = [_serde.load_write(self.serde, blob, strict) for blob in write_blobs]
        except _serde.NotEncrypted as exc:
            raise self._unencrypted(exc, at, thread_id, ns, f"checkpoint {cid!r}") from None
        except Exception as exc:
            raise CorruptedDataError(
                f"checkpoint {cid!r} of thread {thread_id!r} (namespace {ns!r}) under prefix "
                f"{self.key_prefix!r} could not be decoded: {exc!r}"
            ) from exc
        decoded.sort(key=lambda w: w[0])
        checkpoint["channel_values"] = values
        pending: list[PendingWrite] = [w[1] for w in decoded]
        return CheckpointTuple(
            config={
                "configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": cid}
            },
            checkpoint=cast(Checkpoint, checkpoint),
            metadata=cast(CheckpointMetadata, metadata),
            parent_config=(
                {
                    "configurable": {
                        "thread_id": thread_id,
                        "checkpoint_ns": ns,
                        "checkpoint_id": parent,
                    }
                }
                if parent
                else None
            ),
            pending_writes=pending,
        )

    # ------------------------------------------------------------------ list

    def _list_query(
        self,
        config: RunnableConfig | None,
        filter: Mapping[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> ListQuery | None:
        """Plan a ``list`` call; None when the answer is known to be empty."""
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise TypeError(f"list: limit must be an int or None, got {limit!r}")
            if limit < 0:
                raise ValueError(f"list: limit must not be negative, got {limit}")
            if limit == 0:
                return None
        if filter is not None and not isinstance(filter, Mapping):
            raise TypeError(f"list: filter must be a dict of metadata keys, got {filter!r}")
        before_id = ""
        if before is not None:
            bconf = _configurable(before, "list(before=...)")
            before_id = _str_field(bconf, "checkpoint_id", "list(before=...)")
        filter_args: list[Arg] = []
        for key, value in (filter or {}).items():
            filter_args.append(encode(str(key)))
            filter_args.append(_serde.filter_digest(value))

        if config is None or (isinstance(config, Mapping) and not config):
            # InMemorySaver and PostgresSaver read an empty config as "every thread" too
            self._require_global("list(None)")
            max_b = b"(" + encode(before_id) if before_id else b"+"
            return ListQuery(
                keys=tuple(b.index for b in self._pk.buckets),
                mode=b"g",
                max_bound=max_b,
                min_bound=b"-",
                remaining=limit,
                ns_e=b"",
                exact=b"",
                filter_args=filter_args,
                scan_budget=self._budget.list_scan,
            )
        conf = _configurable(config, "list")
        thread_id = _thread_id(conf, "list")
        if before is not None:
            before_thread = _configurable(before, "list(before=...)").get("thread_id")
            if before_thread is not None and not isinstance(before_thread, str):
                raise TypeError(
                    "list(before=...): thread_id must be a str, got "
                    f"{type(before_thread).__name__} {before_thread!r}"
                )
            if before_thread is not None and before_thread != thread_id:
                raise ValueError(
                    f"list: before= names thread {before_thread!r} but config names thread "
                    f"{thread_id!r}; checkpoint ids are only ordered within one thread's history"
                )
        exact = _str_field(conf, "checkpoint_id", "list")
        if exact and before_id and not exact < before_id:
            return None
        tk = self._thread(thread_id)
        ns_given = conf.get("checkpoint_ns")
        if ns_given is not None:
            ns = _str_field(conf, "checkpoint_ns", "list")
            ns_e = key_part(ns)
            if exact:
                max_b = min_b = b"[" + ns_member(ns_e, exact)
            else:
                max_b = b"(" + ns_member(ns_e, before_id) if before_id else b"(" + ns_e + b"\x01"
                min_b = b"[" + ns_e + NUL
            return ListQuery(
                keys=tk.all,
                mode=b"n",
                max_bound=max_b,
                min_bound=min_b,
                remaining=limit,
                ns_e=ns_e,
                exact=encode(exact),
                filter_args=filter_args,
                scan_budget=self._budget.list_scan,
                thread_id=thread_id,
                namespace=ns,
            )
        if exact:
            max_b, min_b = b"(" + encode(exact) + b"\x01", b"[" + encode(exact) + NUL
        else:
            max_b = b"(" + encode(before_id) if before_id else b"+"
            min_b = b"-"
        return ListQuery(
            keys=tk.all,
            mode=b"t",
            max_bound=max_b,
            min_bound=min_b,
            remaining=limit,
            ns_e=b"",
            exact=encode(exact),
            filter_args=filter_args,
            thread_id=thread_id,
            scan_budget=self._budget.list_scan,
        )

    def _fetch_member_call(self, query: ListQuery, member: bytes) -> ScriptCall:
        """Cluster list(None): read one global-index entry in its own thread's slot."""
        rest, _, ns_e = member.rpartition(NUL)
        cid, _, tag = rest.rpartition(NUL)
        tk = ThreadKeys(self._pk.prefix, tag)
        bound = b"[" + ns_e + NUL + cid
        return ScriptCall(
            tk.all,
            [
                b"x",
                bound,
                bound,
                1,
                1,
                self._pk.prefix,
                ns_e,
                cid,
                NULL_DIGEST,
                len(query.filter_args) // 2,
                *query.filter_args,
            ],
        )

    def _list_damage(
        self, query: ListQuery, item: Sequence[Any], tag: bytes | None = None
    ) -> ThreadDamage:
        """A damage item of the list script ({0, cid, codes, N, T, thread}) as a report."""
        if query.thread_id is not None:
            thread_id: str | None = query.thread_id
            tag = self._thread(query.thread_id).tag
        else:
            thread_id = None
            tag = tag if tag is not None else bytes(item[4])
        ns = query.namespace
        if ns is None and item[1]:
            ns = unescape(bytes(item[3]))
        return damage_of(item, thread_id, tag, ns)

    def _damaged_list_item(
        self, query: ListQuery, item: Sequence[Any], tag: bytes | None, warned: set[str]
    ) -> None:
        """list(): raise for a damaged checkpoint, or (skip_damaged) warn once per thread."""
        damage = self._list_damage(query, item, tag)
        if not self._skip_damaged:
            raise damage.error(self.key_prefix)
        if damage.tag not in warned:
            warned.add(damage.tag)
            logger.warning("list skips a damaged thread: %s", damage.message(self.key_prefix))

    def _decode_list_item(self, query: ListQuery, item: Sequence[Any]) -> CheckpointTuple:
        if is_damage(item):
            raise self._list_damage(query, item).error(self.key_prefix)
        thread_id = query.thread_id if query.thread_id is not None else decode(item[7] or b"")
        if query.thread_id is None and item[7] is None:
            raise CorruptedDataError(
                f"checkpoint {decode(item[0])!r} under prefix {self.key_prefix!r} belongs to a "
                "thread whose id record is missing"
            )
        ns = query.namespace if query.namespace is not None else decode(item[6] or b"")
        return self._decode_tuple(thread_id, ns, item)

    # ------------------------------------------------------------------ delta history

    def _delta_walk(self, config: RunnableConfig, channels: Sequence[str]) -> DeltaWalk:
        conf = _configurable(config, "get_delta_channel_history")
        thread_id = _thread_id(conf, "get_delta_channel_history")
        ns = _str_field(conf, "checkpoint_ns", "get_delta_channel_history")
        cid = _str_field(conf, "checkpoint_id", "get_delta_channel_history")
        return DeltaWalk(
            self._thread(thread_id).all,
            key_part(ns),
            encode(cid),
            [encode(c) for c in channels],
            self._budget.walk,
        )

    def _decode_delta(
        self, config: RunnableConfig, channels: Sequence[str], reply: Sequence[Any]
    ) -> dict[str, DeltaChannelHistory]:
        if is_damage(reply):
            conf = config["configurable"]
            thread_id = conf["thread_id"]
            ns = conf.get("checkpoint_ns") or ""
            raise damage_of(reply, thread_id, self._thread(thread_id).tag, ns).error(
                self.key_prefix
            )
        collected: dict[str, list[PendingWrite]] = {c: [] for c in channels}
        seeds: dict[str, Any] = {}
        strict = self._require_encrypted()
        at: str | None = None  # the channel whose seed value is being read
        try:
            for writes, seed_pairs in reply:
                decoded = sorted(
                    (_serde.load_write(self.serde, b, strict) for b in writes), key=lambda w: w[0]
                )
                # nearest ancestor first, each ancestor's writes newest first; reversed at the
                # end
                for _, write in reversed(decoded):
                    collected[write[1]].append(write)
                for i in range(0, len(seed_pairs), 2):
                    at = decode(seed_pairs[i])
                    seeds[at] = _serde.load_value(self.serde, seed_pairs[i + 1], strict)
                at = None
        except _serde.NotEncrypted as exc:
            conf = config["configurable"]
            cid = conf.get("checkpoint_id")
            start = f"checkpoint {cid!r}" if cid else "the latest checkpoint"
            raise self._unencrypted(
                exc,
                at,
                conf["thread_id"],
                conf.get("checkpoint_ns") or "",
                f"an ancestor of {start} (get_delta_channel_history)",
            ) from None
        result: dict[str, DeltaChannelHistory] = {}
        for channel in channels:
            entry: DeltaChannelHistory = {"writes": list(reversed(collected[channel]))}
            if channel in seeds:
                entry["seed"] = seeds[channel]
            result[channel] = entry
        return result

    # ------------------------------------------------------------------ deletes, copies

    def _delete_job(self, thread_id: str) -> MaintenanceJob:
        if not isinstance(thread_id, str):
            raise TypeError(f"delete_thread: thread_id must be a str, got {thread_id!r}")
        return MaintenanceJob(self._thread(thread_id), ["delete", "drain"])

    def _job_call(self, job: MaintenanceJob) -> tuple[LuaScript, ScriptCall]:
        """The slice script a maintenance job runs next (see ``MaintenanceJob``)."""
        tk, phase, budget = job.tk, job.phases[0], self._budget
        keys = tk.all + self._bucket_keys(tk)
        if phase == "delete":
            nonce = os.urandom(8).hex().encode()
            return SCRIPTS.delete_thread, ScriptCall(
                keys, [tk.tag, nonce, b"1" if self._global else b"0"]
            )
        if phase == "drain":
            return SCRIPTS.drain, ScriptCall(keys, [tk.tag, budget.entries])
        if phase == "gc":
            return SCRIPTS.gc, ScriptCall(keys, [tk.tag, budget.entries])
        if phase == "runs":
            return SCRIPTS.delete_runs, ScriptCall(keys, [tk.tag, budget.checkpoints, *job.runs])
        if phase == "prune_n":
            args: list[Arg] = [tk.tag, job.keep, budget.checkpoints, b"n", job.cursor or b"0"]
        else:
            args = [tk.tag, job.keep, budget.entries, b"w", job.cursor or b"-"]
        return SCRIPTS.prune, ScriptCall(keys, args)

    @staticmethod
    def _job_advance(job: MaintenanceJob, reply: Sequence[Any]) -> tuple[list[bytes], list[bytes]]:
        """Advance a job by a slice's reply; the bucket members and runs it reports (cluster)."""
        nxt, members, runs = reply
        job.slices += 1
        if not nxt:
            job.phases.pop(0)
            job.cursor = b""
        elif job.phases[0] == "runs":
            job.runs = job.runs[int(nxt) :]
        elif job.phases[0] in ("prune_n", "prune_w"):
            job.cursor = nxt
        return list(members), list(runs)

    def _copy_threads(self, source: str, target: str) -> tuple[ThreadKeys, ThreadKeys]:
        for name, tid in (("source_thread_id", source), ("target_thread_id", target)):
            if not isinstance(tid, str):
                raise TypeError(f"copy_thread: {name} must be a str, got {tid!r}")
        return self._thread(source), self._thread(target)

    def _copy_read_call(self, src: ThreadKeys, phase: bytes, cursor: bytes) -> ScriptCall:
        """One page of the source: its pending writes (phase ``w``) or checkpoints (``c``)."""
        return ScriptCall(src.all, [phase, cursor, self._budget.copy, self._budget.copy_bytes])

    def _copy_write_call(
        self,
        keys: Sequence[bytes],
        target: str,
        tag: bytes,
        ttl_ms: int,
        phase: bytes,
        page: Sequence[Any],
    ) -> ScriptCall:
        """Write a page ``copy_read`` returned into ``keys`` (the target's, or staging)."""
        _, spaces, records = page
        args: list[Arg] = [encode(target), tag, ttl_ms, phase, len(spaces) // 2, *spaces]
        if phase == b"w":
            args.extend(records)
        else:
            for ns_e, cid, c, m, values in records:
                args.extend((ns_e, cid, c, m, len(values) // 2, *values))
        return ScriptCall(tuple(keys), args)

    def _copy_publish_call(
        self, staging: Sequence[bytes], dst: ThreadKeys, page: CopyPage
    ) -> ScriptCall:
        return ScriptCall((*staging, *dst.all), [self._ttl_ms, *page.added])

    def _copy_index_calls(self, dst: ThreadKeys, page: CopyPage) -> list[ScriptCall]:
        """The bucket updates of copied checkpoints, a budget of entries per call."""
        if not self._global:
            return []
        bucket = self._bucket(dst)
        size = self._budget.entries
        members = page.members
        runs = list(dict.fromkeys(page.runs))
        calls = []
        for start in range(0, max(len(members), len(runs)), size):
            calls.append(
                bucket_call(
                    bucket,
                    dst.tag,
                    "add",
                    self._ttl_ms,
                    members[start : start + size],
                    (),
                    runs[start : start + size],
                )
            )
        return calls

    def _import_call(self, target: str, exported: Sequence[Any]) -> ScriptCall:
        """Cluster copy_thread, step 2: write an exported thread into ``target``."""
        dst = self._thread(target)
        args: list[Arg] = [encode(target), dst.tag, self._ttl_ms]
        for section in exported[1:]:
            args.append(len(section))
            args.extend(section)
        return ScriptCall(dst.all, args)

    def _prune_keep(self, strategy: str, keep_last: int | None) -> int:
        """Checkpoints to keep per namespace: 0 deletes the threads."""
        if strategy == "delete":
            if keep_last is not None:
                raise ValueError("prune: keep_last only goes with strategy='keep_latest'")
            return 0
        if strategy != "keep_latest":
            raise ValueError(f"prune: unknown strategy {strategy!r}; use 'keep_latest' or 'delete'")
        if keep_last is None:
            return 1
        if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 1:
            raise ValueError(f"prune: keep_last must be an int >= 1, got {keep_last!r}")
        return keep_last

    def _prune_job(self, thread_id: str, keep: int) -> MaintenanceJob:
        if not isinstance(thread_id, str):
            raise TypeError(f"prune: thread ids must be str, got {thread_id!r}")
        return MaintenanceJob(
            self._thread(thread_id), ["drain", "prune_n", "prune_w", "gc"], keep=keep
        )

    def _delete_runs_job(self, tag: bytes, runs: Sequence[bytes]) -> MaintenanceJob:
        phases = ["drain", "runs", "gc"] if runs else ["drain", "gc"]
        return MaintenanceJob(ThreadKeys(self._pk.prefix, tag), phases, runs=list(runs))

    @staticmethod
    def _check_thread_ids(thread_ids: Sequence[str], what: str) -> list[str]:
        if isinstance(thread_ids, str):
            raise TypeError(f"{what}: pass a list of thread ids, not a single str")
        ids = list(thread_ids)
        for tid in ids:
            if not isinstance(tid, str):
                raise TypeError(f"{what}: thread ids must be str, got {tid!r}")
        return ids

    @staticmethod
    def _run_keys(run_ids: Sequence[str]) -> list[bytes]:
        if isinstance(run_ids, str):
            raise TypeError("delete_for_runs: pass a list of run ids, not a single str")
        return [escape(str(r)) for r in run_ids]

    def _log_call(self, op: str, call: ScriptCall) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s keys=%d args=%d prefix=%r", op, len(call.keys), len(call.args), self.key_prefix
            )


def bucket_call(
    bucket: BucketKeys,
    tag: bytes,
    op: str,
    ttl_ms: int,
    add: Sequence[bytes] = (),
    remove: Sequence[bytes] = (),
    add_runs: Sequence[bytes] = (),
    remove_runs: Sequence[bytes] = (),
) -> ScriptCall:
    """The bucket script (``lua/bucket.lua``) applying one thread's index changes.

    ``op`` is "add" (put, copy, migration: index entries and runs; with a ttl the expiry is
    recorded and due threads come back), "remove" (entries dropped) or "forget" (the thread
    was deleted).
    """
    return ScriptCall(
        (bucket.index,),
        [
            op,
            tag,
            ttl_ms,
            len(add),
            *add,
            len(remove),
            *remove,
            len(add_runs),
            *add_runs,
            len(remove_runs),
            *remove_runs,
        ],
    )


def pick_connection_source(
    redis_url: object, redis_client: object, connection_pool: object
) -> object:
    """The one connection source among the constructor's arguments."""
    given = [x for x in (redis_url, redis_client, connection_pool) if x is not None]
    if not given:
        raise ValueError(
            "pass a Redis URL, redis_client= or connection_pool= (or use "
            "from_conn_string(url) to let the saver manage its own client)"
        )
    if len(given) > 1:
        raise ValueError("pass only one of redis_url, redis_client and connection_pool")
    return given[0]


def resolve_prefix(
    key_prefix: str | None,
    checkpoint_prefix: str | None,
    checkpoint_write_prefix: str | None = None,
    checkpoint_blob_prefix: str | None = None,
) -> str:
    """``key_prefix``, or the official package's ``checkpoint_prefix`` for it.

    The official ``checkpoint_write_prefix`` / ``checkpoint_blob_prefix`` are accepted and
    have no effect: writes and values live in their thread's keys under the one prefix.
    """
    for name, extra in (
        ("checkpoint_write_prefix", checkpoint_write_prefix),
        ("checkpoint_blob_prefix", checkpoint_blob_prefix),
    ):
        if extra is not None and not isinstance(extra, str):
            raise TypeError(f"{name} must be a str, got {extra!r}")
    if key_prefix is not None and checkpoint_prefix is not None and key_prefix != checkpoint_prefix:
        raise ValueError(
            f"key_prefix={key_prefix!r} and checkpoint_prefix={checkpoint_prefix!r} name the "
            "same setting: pass one of them"
        )
    if key_prefix is not None:
        return key_prefix
    if checkpoint_prefix is not None:
        return checkpoint_prefix
    return DEFAULT_KEY_PREFIX


def schema_version_bytes() -> bytes:
    return str(SCHEMA_VERSION).encode()
