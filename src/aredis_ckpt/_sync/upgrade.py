# This file is generated from src/aredis_ckpt/_async/upgrade.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Schema migration run by ``setup()``: version-1 data brought to version 2, in slices.

Written once; ``scripts/unasync.py`` generates the synchronous twin.  What each step sends is
built by ``aredis_ckpt._upgrade`` (see there for the order of the steps and why it is safe to
interrupt, repeat or run concurrently).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aredis_ckpt._base import bucket_call, logger
from aredis_ckpt._commands import Command, ScriptCall, checked, evalsha
from aredis_ckpt._config import SCHEMA_VERSION
from aredis_ckpt._keys import ThreadKeys
from aredis_ckpt._scripts import SCRIPTS
from aredis_ckpt._upgrade import SLICE, ThreadMove, legacy_cleanup_call, plan_slice, plan_tags

if TYPE_CHECKING:
    from aredis_ckpt._sync.saver import RedisSaver

__all__ = ["upgrade"]


def upgrade(saver: RedisSaver) -> int:
    """Record the schema version of a fresh prefix, or migrate the data under it to the
    current version; returns the number of threads migrated."""
    pk, runner = saver._pk, saver._runner
    schema = Command(("GET", pk.schema), pk.schema)
    legacy_exp = pk.legacy_base + b"exp"
    probe = [
        schema,
        Command(("EXISTS", pk.legacy_index, legacy_exp), pk.legacy_index),
    ]
    stored, legacy = checked((runner.batch(probe)).replies)
    version = saver._stored_version(stored, bool(legacy))
    if version is None:
        init = [Command(("SET", pk.schema, str(SCHEMA_VERSION), "NX"), pk.schema), *probe]
        _, stored, legacy = checked((runner.batch(init)).replies)
        version = saver._stored_version(stored, bool(legacy))
    if version == SCHEMA_VERSION and not legacy:
        return 0
    logger.debug("migrating prefix %r from schema %s to %s", saver.key_prefix, version, 2)
    threads = 0
    while True:
        read = Command(
            ("ZRANGEBYLEX", pk.legacy_index, "-", "+", "LIMIT", 0, SLICE), pk.legacy_index
        )
        (members,) = checked((runner.batch([read])).replies)
        if not members:
            break
        threads += _migrate(saver, plan_slice(members))
    while True:
        read = Command(("ZRANGE", legacy_exp, 0, SLICE - 1), legacy_exp)
        (tags,) = checked((runner.batch([read])).replies)
        if not tags:
            break
        threads += _migrate(saver, plan_tags(tags))
    checked((runner.batch([Command(("SET", pk.schema, str(SCHEMA_VERSION)), pk.schema)])).replies)
    logger.debug("prefix %r: %d thread(s) migrated", saver.key_prefix, threads)
    return threads


def _migrate(saver: RedisSaver, moves: dict[bytes, ThreadMove]) -> int:
    """One slice: threads to the new layout, their entries into their buckets, then out of
    the version-1 indexes."""
    pk, runner, cluster = saver._pk, saver._runner, saver._cluster
    todo = list(moves.values())
    while todo:
        replies = checked(
            (
                runner.batch([evalsha(SCRIPTS.upgrade_thread, m.call(pk, cluster)) for m in todo])
            ).replies
        )
        again = []
        for move, reply in zip(todo, replies, strict=True):
            if not reply:
                continue  # gone: only its version-1 entries remain to drop
            if reply[0] == b"names":
                move.rename(reply[1])
                again.append(move)
                continue
            _, move.members, move.runs, move.old_members, move.pttl = reply
            move.alive = True
        todo = again
    alive = [m for m in moves.values() if m.alive]
    if cluster:
        _move_keys(saver, [m for m in alive if m.new != m.old])
    adds = []
    for move in alive:
        if not (move.members or move.runs) or not saver._global:
            continue
        ttl = max(int(move.pttl), 0)
        bucket = pk.bucket_of(move.new)
        call = bucket_call(bucket, move.new, "add", ttl, move.members, add_runs=move.runs)
        adds.append(evalsha(SCRIPTS.bucket, call))
    if adds:
        checked((runner.batch(adds)).replies)
    cleanup = legacy_cleanup_call(pk, list(moves.values()))
    checked((runner.batch([evalsha(SCRIPTS.upgrade_legacy, cleanup)])).replies)
    return len(alive)


def _move_keys(saver: RedisSaver, moves: list[ThreadMove]) -> None:
    """Cluster: threads whose key part changed move to their new slot (export, import, then
    the old keys go), as copy_thread does."""
    if not moves:
        return
    runner, prefix = saver._runner, saver._pk.prefix
    olds = [ThreadKeys(prefix, m.old) for m in moves]
    exported = checked(
        (
            runner.batch([evalsha(SCRIPTS.export_thread, ScriptCall(tk.all, [])) for tk in olds])
        ).replies
    )
    imports, unlinks = [], []
    for move, old, data in zip(moves, olds, exported, strict=True):
        if not data:
            continue  # already moved by a concurrent migration
        new = ThreadKeys(prefix, move.new)
        args: list[Any] = [data[0], move.new, max(int(move.pttl), 0)]
        for section in data[1:]:
            args.append(len(section))
            args.extend(section)
        imports.append(evalsha(SCRIPTS.import_thread, ScriptCall(new.all, args)))
        unlinks.append(Command(("UNLINK", *old.all), old.all[0]))
    if imports:
        checked((runner.batch(imports)).replies)
        checked((runner.batch(unlinks)).replies)
