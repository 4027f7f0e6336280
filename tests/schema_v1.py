"""Data as schema version 1 wrote it: the released Lua (``fixtures/schema_v1``, copied verbatim
from the last commit with schema 1) driven with that version's key names and arguments.

Only ``put`` and ``put_writes`` are needed to lay down everything version 1 stores: the thread's
ten keys under its escaped id (whatever its length), the one-slot index ``P:{%G}:ix``, run sets
and TTL bookkeeping.  On a cluster version 1 applied the shared-index changes with a second
script in the slot ``{%G}``, as here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import WRITES_IDX_MAP, get_checkpoint_metadata
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from aredis_ckpt import _serde
from aredis_ckpt._keys import NUL, encode, escape, value_field, write_field_suffix

HERE = Path(__file__).parent / "fixtures" / "schema_v1"
NAMES = (b"t", b"n", b"c", b"m", b"v", b"i", b"j", b"w", b"wx", b"r")


def _source(name: str) -> bytes:
    return (HERE / "lib.lua").read_bytes() + b"\n" + (HERE / f"{name}.lua").read_bytes()


class V1Writer:
    """Writes checkpoints and pending writes exactly as aredis-ckpt with schema 1 did."""

    def __init__(self, client: Any, prefix: str, *, cluster: bool, ttl_ms: int = 0) -> None:
        self.client = client
        self.prefix = encode(prefix)
        self.cluster = cluster
        self.ttl_ms = ttl_ms
        self.serde = JsonPlusSerializer()
        self.gbase = self.prefix + b":{%G}:"
        self.shas = {
            n: client.script_load(_source(n)) for n in ("put", "put_writes", "shared_apply")
        }
        client.set(self.gbase + b"schema", b"1")

    def thread_keys(self, thread_id: str) -> tuple[bytes, ...]:
        base = self.prefix + b":{" + escape(thread_id) + b"}:"
        return tuple(base + n for n in NAMES)

    def _eval(self, name: str, keys: tuple[bytes, ...], args: list[Any]) -> Any:
        return self.client.execute_command("EVALSHA", self.shas[name], len(keys), *keys, *args)

    def put(
        self,
        config: dict[str, Any],
        checkpoint: dict[str, Any],
        metadata: dict[str, Any],
        new_versions: dict[str, Any],
    ) -> dict[str, Any]:
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        parent = conf.get("checkpoint_id") or ""
        cid = checkpoint["id"]
        ns_e, tag = escape(ns), escape(thread_id)
        md = get_checkpoint_metadata(config, metadata)  # type: ignore[arg-type]
        values = checkpoint["channel_values"]
        pairs: list[Any] = []
        for channel, version in new_versions.items():
            pairs.append(value_field(ns_e, channel, version))
            pairs.append(
                _serde.dump_value(self.serde, values[channel], 2048)
                if channel in values
                else _serde.EMPTY_BLOB
            )
        versions = checkpoint["channel_versions"]
        channels = sorted(versions)
        run_id = md.get("run_id")
        run_e = escape(str(run_id)) if run_id is not None else b""
        keys = self.thread_keys(thread_id)
        if not self.cluster:
            keys += (self.gbase + b"ix", self.gbase + b"run:" + run_e)
        args = [
            encode(cid),
            _serde.dump_checkpoint(self.serde, checkpoint, md),  # type: ignore[arg-type]
            _serde.dump_meta(parent, channels, ns_e, versions, md, run_e),
            ns_e,
            encode(ns),
            encode(thread_id),
            tag,
            run_e,
            self.ttl_ms,
            self.gbase,
            b"0",
            *pairs,
        ]
        self._eval("put", keys, args)
        if self.cluster:
            member = encode(cid) + NUL + tag + NUL + ns_e
            self._eval(
                "shared_apply",
                (self.gbase + b"ix",),
                [self.gbase, tag, self.ttl_ms, 5000, "add", 1, member, *([run_e] if run_e else [])],
            )
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": cid}}

    def put_writes(
        self, config: dict[str, Any], writes: list[tuple[str, Any]], task_id: str
    ) -> None:
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        tag = escape(thread_id)
        args: list[Any] = [
            escape(ns),
            encode(ns),
            encode(thread_id),
            self.ttl_ms,
            encode(conf["checkpoint_id"]),
            tag,
            b"" if self.cluster else self.gbase,
        ]
        for i, (channel, value) in enumerate(writes):
            idx = WRITES_IDX_MAP.get(channel, i)
            args.append(write_field_suffix(idx, task_id))
            args.append(_serde.dump_write(self.serde, task_id, idx, channel, value, "", 2048))
            args.append(b"1" if idx < 0 else b"0")
        self._eval("put_writes", self.thread_keys(thread_id), args)
        if self.cluster and self.ttl_ms:
            self._eval(
                "shared_apply",
                (self.gbase + b"ix",),
                [self.gbase, tag, self.ttl_ms, 5000, "add", 0],
            )
