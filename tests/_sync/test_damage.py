# This file is generated from tests/_async/test_damage.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Damage is named (docs/reliability.md): a thread missing records raises DamagedThreadError
naming the thread, checkpoint and record; never a raw Lua error, never an empty read.

Each case deletes one kind of record of a small thread and checks every read that touches it.
Written once for AsyncRedisSaver; scripts/unasync.py generates the RedisSaver twin.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from langgraph.checkpoint.base import CheckpointTuple
from redis.exceptions import ResponseError
from tests._sync.conftest import SaverFactory
from tests._sync.test_saver import cfg, make_checkpoint, md

from aredis_ckpt import (
    CorruptedDataError,
    DamagedThreadError,
    RedisSaver,
    ScriptBudget,
    ThreadDamage,
)
from aredis_ckpt._compat import sleep
from aredis_ckpt._keys import ThreadKeys, key_part, ns_member, value_field, write_field_suffix

TID = "dam:{aged} thread"
KEY = {name.decode(): i for i, name in enumerate(ThreadKeys.NAMES)}


@dataclass
class Built:
    """A small whole thread: three checkpoints in namespace "", one in "sub", two writes."""

    saver: RedisSaver
    configs: list[dict[str, Any]]
    sub: dict[str, Any]
    versions: list[dict[str, str]]
    thread_id: str = TID

    @property
    def keys(self) -> tuple[bytes, ...]:
        return self.saver._thread(self.thread_id).all

    def key(self, name: str) -> bytes:
        return self.keys[KEY[name]]

    def cid(self, i: int) -> str:
        return str(self.configs[i]["configurable"]["checkpoint_id"])

    def field(self, i: int) -> bytes:
        return ns_member(key_part(""), self.cid(i))

    def value(self, i: int, channel: str) -> bytes:
        return value_field(key_part(""), channel, self.versions[i][channel])

    def write(self, i: int, idx: int, task: str) -> bytes:
        cid = self.cid(i).encode()
        return (
            key_part("") + b"\x00" + str(len(cid)).encode() + b":" + cid
            + write_field_suffix(idx, task)
        )  # fmt: skip


def build(saver: RedisSaver, thread_id: str = TID) -> Built:
    configs: list[dict[str, Any]] = []
    versions: list[dict[str, str]] = []
    parent: str | None = None
    current: dict[str, str] = {}
    for i in range(3):
        new = {"count": saver.get_next_version(current.get("count"), None)}
        if i == 0:
            new["const"] = saver.get_next_version(None, None)
            new["nothing"] = saver.get_next_version(None, None)  # a channel without value
        current = {**current, **new}
        cp = make_checkpoint({"count": i, "const": "same"}, current)
        stored = saver.put(cfg(thread_id, "", parent), cp, md(i), new)
        parent = stored["configurable"]["checkpoint_id"]
        configs.append(dict(stored))
        versions.append(dict(current))
    saver.put_writes(configs[-1], [("count", 10), ("const", "w")], "task-1")
    sub_cp = make_checkpoint({"inner": 1}, {"inner": "1"})
    sub = saver.put(cfg(thread_id, "sub"), sub_cp, md(0), {"inner": "1"})
    return Built(saver, configs, dict(sub), versions, thread_id)


Damage = Callable[[Built], Awaitable[Any]]


def hdel(b: Built, key: str, field: bytes) -> None:
    assert b.saver._redis.hdel(b.key(key), field) == 1


def delete(b: Built, key: str) -> None:
    assert b.saver._redis.delete(b.key(key)) == 1


# name: (damage, the record the message names, the checkpoint the damage is at (index into
# configs) or None).  The records get_tuple does not need (the thread's id and namespace
# records) are named by list and check_threads; get_tuple returns the whole checkpoint.
CASES: dict[str, tuple[Damage, str, int | None]] = {
    "meta field": (lambda b: hdel(b, "m", b.field(2)), "the checkpoint's metadata", 2),
    "checkpoint field": (lambda b: hdel(b, "c", b.field(2)), "the checkpoint record", 2),
    "value field": (
        lambda b: hdel(b, "v", b.value(2, "count")),
        "channel value 'count'@",
        2,
    ),
    "empty-marker value field": (
        lambda b: hdel(b, "v", b.value(2, "nothing")),
        "channel value 'nothing'@",
        2,
    ),
    "write field": (
        lambda b: hdel(b, "w", b.write(2, 1, "task-1")),
        "pending write task-1/1",
        2,
    ),
    "t key": (lambda b: delete(b, "t"), "the thread's id record (key t)", 2),
    "n key": (lambda b: delete(b, "n"), "namespace records (key n)", 2),
    "m key": (lambda b: delete(b, "m"), "the checkpoint's metadata", 2),
    "c key": (lambda b: delete(b, "c"), "the checkpoint record", 2),
    "v key": (lambda b: delete(b, "v"), "channel value 'const'@", 2),
    "w key": (lambda b: delete(b, "w"), "pending write task-1/0", 2),
    "i key": (lambda b: delete(b, "i"), "the thread's checkpoint index (key i)", None),
    "wx key": (lambda b: delete(b, "wx"), "the thread's pending-write index (key wx)", 2),
    "j key": (lambda b: delete(b, "j"), "index across namespaces j 0", 2),
}
# damage to records get_tuple does not read: it returns the whole checkpoint
GET_TUPLE_WHOLE = ("t key", "n key", "j key")


@pytest.mark.parametrize("case", list(CASES))
def test_damage_is_named_by_every_read(make_saver: SaverFactory, case: str) -> None:
    damage, record, at = CASES[case]
    with make_saver() as saver:
        b = build(saver)
        damage(b)

        def check(exc: DamagedThreadError, exact: bool = True) -> None:
            text = str(exc)
            assert isinstance(exc, CorruptedDataError)
            assert repr(TID) in text and exc.thread_id == TID, text
            if not exact:  # a listing across namespaces may meet another damaged one first
                return
            assert record in text, text
            assert any(record in m for m in exc.missing), exc.missing
            if at is not None:
                assert repr(b.cid(at)) in text and exc.checkpoint_id == b.cid(at)
            else:
                assert exc.checkpoint_id is None

        if case in GET_TUPLE_WHOLE:
            for config in (cfg(TID), b.configs[2]):
                got = saver.get_tuple(config)
                assert got is not None and got.checkpoint["channel_values"]["count"] == 2
                assert len(got.pending_writes or []) == 2
        else:
            with pytest.raises(DamagedThreadError) as info:
                saver.get_tuple(cfg(TID))
            check(info.value)
            assert info.value.checkpoint_ns == ""
        if at is not None and case not in GET_TUPLE_WHOLE:
            with pytest.raises(DamagedThreadError) as info:
                saver.get_tuple(b.configs[at])
            check(info.value)
        with pytest.raises(DamagedThreadError) as info:
            _all(saver.list(cfg(TID)))
        check(info.value)
        with pytest.raises(DamagedThreadError) as info:
            _all(saver.list({"configurable": {"thread_id": TID}}))
        check(info.value, exact=False)
        with pytest.raises(DamagedThreadError) as info:
            _all(saver.list(None))
        check(info.value, exact=False)


def test_damage_in_an_ancestor_is_named_by_delta_history(make_saver: SaverFactory) -> None:
    with make_saver() as saver:
        b = build(saver)
        whole = saver.get_delta_channel_history(config=cfg(TID), channels=["const"])
        assert whole["const"].get("seed") == "same"
        # the seed of "const" is the value stored by checkpoint 0 (its version never changed)
        hdel(b, "v", b.value(0, "const"))
        with pytest.raises(DamagedThreadError) as info:
            saver.get_delta_channel_history(config=cfg(TID), channels=["const"])
        assert "channel value 'const'@" in str(info.value)
        assert info.value.checkpoint_id == b.cid(1)  # the first ancestor holding the field
        hdel(b, "m", b.field(1))
        with pytest.raises(DamagedThreadError) as info:
            saver.get_delta_channel_history(config=cfg(TID), channels=["count"])
        assert info.value.checkpoint_id == b.cid(1)
        assert "the checkpoint's metadata" in str(info.value)
        delete(b, "i")
        with pytest.raises(DamagedThreadError) as info:
            saver.get_delta_channel_history(config=cfg(TID), channels=["count"])
        assert "(key i)" in str(info.value)


def test_whole_and_absent_states_are_not_damage(make_saver: SaverFactory) -> None:
    with make_saver() as saver:
        # a thread that never existed; a namespace without checkpoints of a whole thread
        assert saver.get_tuple(cfg("never")) is None
        assert [c for c in saver.list(cfg("never"))] == []
        assert saver.get_delta_channel_history(config=cfg("never"), channels=["x"]) == {
            "x": {"writes": []}
        }
        b = build(saver)
        assert saver.get_tuple(cfg(TID, "elsewhere")) is None
        assert saver.get_tuple(cfg(TID, "", "no-such-checkpoint")) is None
        assert [c for c in saver.list(cfg(TID, "elsewhere"))] == []
        got = saver.get_tuple(cfg(TID))
        assert got is not None and got.checkpoint["channel_values"] == {
            "count": 2,
            "const": "same",
        }
        assert len(got.pending_writes or []) == 2
        assert len([c for c in saver.list(None)]) == 4
        # a thread holding only pending writes (put_writes before its first checkpoint)
        saver.put_writes(cfg("writes-only", "", "cid-1"), [("a", 1)], "task")
        assert saver.get_tuple(cfg("writes-only")) is None
        assert saver.get_tuple(cfg("writes-only", "", "cid-1")) is None
        assert [c for c in saver.list(cfg("writes-only"))] == []
        # a pruned history: the oldest kept checkpoint's parent is gone without a trace
        saver.prune([TID], keep_last=2)
        history = saver.get_delta_channel_history(config=cfg(TID), channels=["count"])
        assert history["count"].get("seed") == 1
        # ... and a walk past the oldest kept checkpoint ends there
        history = saver.get_delta_channel_history(config=cfg(TID), channels=["absent"])
        assert history == {"absent": {"writes": []}}
        assert len([c for c in saver.list(cfg(TID))]) == 2
        # a thread deleted whole
        saver.delete_thread(b.configs[0]["configurable"]["thread_id"])
        assert saver.get_tuple(cfg(TID)) is None
        assert [c for c in saver.list(None)] == []


def test_every_checkpoint_record_gone(make_saver: SaverFactory) -> None:
    """c, m, i, j and v all evicted: a namespace that kept pending writes reads as holding only
    them; one left with nothing but its record in `n` is named as damage, never read as empty;
    and `check_threads` names the thread."""
    with make_saver() as saver:
        b = build(saver)
        for name in ("c", "m", "i", "j", "v"):
            delete(b, name)
        assert saver.get_tuple(cfg(TID)) is None  # "" kept the writes of checkpoint 2
        assert saver.get_tuple(b.configs[1]) is None
        assert [c for c in saver.list(cfg(TID))] == []
        with pytest.raises(DamagedThreadError) as info:
            saver.get_tuple(b.sub)
        assert info.value.checkpoint_ns == "sub"
        assert "only its namespace record is left" in str(info.value)
        assert TID in {d.thread_id for d in saver.check_threads()}
        # the writes gone too: "" has nothing but its record left either
        for name in ("w", "wx"):
            delete(b, name)
        with pytest.raises(DamagedThreadError) as info:
            saver.get_tuple(cfg(TID))
        assert info.value.checkpoint_ns == ""
        assert "only its namespace record is left" in str(info.value)


def test_skip_damaged_lists_the_rest_and_warns(
    make_saver: SaverFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with make_saver() as saver:
        b = build(saver)
        build(saver, "intact")
        hdel(b, "v", b.value(2, "count"))
        with pytest.raises(DamagedThreadError):
            [c for c in saver.list(None)]
    with make_saver(skip_damaged=True) as skipping:
        with caplog.at_level(logging.WARNING, logger="aredis_ckpt"):
            everything = [c for c in skipping.list(None)]
            one = [c for c in skipping.list(cfg(TID))]
        # the damaged checkpoint is skipped; every other one is listed whole
        assert set(_ids_of(everything, TID)) == {
            b.cid(0),
            b.cid(1),
            b.sub["configurable"]["checkpoint_id"],
        }
        assert len(_ids_of(everything, "intact")) == 4
        assert [t.config["configurable"]["checkpoint_id"] for t in one] == [b.cid(1), b.cid(0)]
        warnings = [r for r in caplog.records if "list skips" in r.getMessage()]
        assert len(warnings) == 2  # one per list call, naming the thread and the record
        assert all(r.levelno == logging.WARNING for r in warnings)
        assert all(repr(TID) in r.getMessage() for r in warnings)
        assert all("channel value 'count'@" in r.getMessage() for r in warnings)
        # skipped checkpoints do not count toward a limit
        assert len(_all(skipping.list(None, limit=6))) == 6
        assert len(_all(skipping.list(cfg(TID), limit=2))) == 2
        # get_tuple still raises: skipping is for listing only
        with pytest.raises(DamagedThreadError):
            skipping.get_tuple(cfg(TID))


def test_damaged_reads_are_never_raw_lua_errors(make_saver: SaverFactory) -> None:
    """Every key of the thread deleted in turn, alone: each read raises DamagedThreadError or
    returns a whole state, never a ResponseError, never None for the latest checkpoint."""
    with make_saver() as saver:
        for name in KEY:
            thread_id = f"raw-{name}"
            b = build(saver, thread_id)
            saver._redis.delete(b.key(name))
            try:
                _read_everything(saver, thread_id, b)
            except ResponseError as exc:  # pragma: no cover - the failure this test hunts
                pytest.fail(f"{name}: raw error {exc!r}")
            saver.delete_thread(thread_id)


def _read_everything(saver: RedisSaver, thread_id: str, b: Built) -> None:
    for config in (cfg(thread_id), b.configs[1], b.sub):
        try:
            got = saver.get_tuple(config)
            assert got is not None
        except DamagedThreadError as exc:
            _named(exc, thread_id)
    for listed in (cfg(thread_id), {"configurable": {"thread_id": thread_id}}):
        try:
            assert len(_all(saver.list(listed))) >= 3
        except DamagedThreadError as exc:
            _named(exc, thread_id)
    try:
        history = saver.get_delta_channel_history(
            config=cfg(thread_id), channels=["count", "const"]
        )
        assert history["const"].get("seed") == "same"
    except DamagedThreadError as exc:
        _named(exc, thread_id)


def _named(exc: DamagedThreadError, thread_id: str) -> None:
    assert exc.thread_id == thread_id and repr(thread_id) in str(exc)


def _all(it: Any) -> list[Any]:
    return [x for x in it]


def _ids(tuples: list[CheckpointTuple]) -> list[tuple[str, str]]:
    return [
        (t.config["configurable"]["thread_id"], t.config["configurable"]["checkpoint_id"])
        for t in tuples
    ]


def _ids_of(tuples: list[CheckpointTuple], thread_id: str) -> list[str]:
    return [c for t, c in _ids(tuples) if t == thread_id]


def test_check_threads_reports_exactly_the_damaged_threads(
    make_saver: SaverFactory,
) -> None:
    # tiny slices: every thread takes several script calls and bucket reads
    with make_saver(script_budget=ScriptBudget(entries=2)) as saver:
        assert saver.check_threads() == []
        built = {tid: build(saver, tid) for tid in ("whole", "v", "m", "t", "gone", "w")}
        saver.put_writes(cfg("writes-only", "", "cid-1"), [("a", 1)], "task")
        assert saver.check_threads() == []
        hdel(built["v"], "v", built["v"].value(1, "count"))
        hdel(built["m"], "m", built["m"].field(0))
        delete(built["t"], "t")
        delete(built["w"], "w")
        saver._redis.delete(*saver._thread("gone").all)
        report = saver.check_threads()
        by_thread: dict[str | None, list[ThreadDamage]] = {}
        for d in report:
            by_thread.setdefault(d.thread_id, []).append(d)
        assert set(by_thread) == {"v", "m", "t", "gone", "w"}
        (v,) = by_thread["v"]
        assert v.checkpoint_id == built["v"].cid(1) and v.checkpoint_ns == ""
        assert v.missing[0].startswith("channel value 'count'@")
        thread_level, m = sorted(by_thread["m"], key=lambda d: d.checkpoint_id or "")
        assert m.checkpoint_id == built["m"].cid(0)
        assert m.missing == ("the checkpoint's metadata",)
        assert thread_level.checkpoint_id is None
        assert thread_level.missing[0].startswith("some checkpoints' records or index entries")
        assert "4 checkpoint records, 3 metadata records" in thread_level.missing[0]
        assert by_thread["t"][0].missing == ("the thread's id record (key t)",)
        assert by_thread["t"][0].checkpoint_id is None
        gone = by_thread["gone"]
        assert len(gone) == 1 and gone[0].missing[0].startswith("every record of the thread (4")
        assert any("(key w)" in x for d in by_thread["w"] for x in d.missing)
        assert {d.checkpoint_id for d in by_thread["w"] if d.checkpoint_id} == {built["w"].cid(2)}
        assert all(d.as_dict()["thread_id"] == d.thread_id for d in report)


def test_check_threads_reads_many_namespaces_a_slice_at_a_time(
    make_saver: SaverFactory,
) -> None:
    """A thread with more namespaces than one slice may read (subgraphs, ``Send`` fan-outs):
    the namespace check goes on over several calls and still finds the one left empty."""
    with make_saver(script_budget=ScriptBudget(entries=2)) as saver:
        # more than a server keeps in a listpack (128 by default, 512 in Debian's build), so
        # HSCAN really pages
        for i in range(600):
            cp = make_checkpoint({"inner": i}, {"inner": "1"})
            saver.put(cfg("wide", f"sub:{i}"), cp, md(0), {"inner": "1"})
        assert saver.check_threads() == []
        cursors: list[bytes] = []
        real = saver._eval_batch

        def recording(calls: Any) -> Any:
            replies = real(calls)
            for call, reply in zip(calls, replies, strict=True):
                if call[0].name == "check_thread":
                    cursors.append(reply[0])
            return replies

        saver._eval_batch = recording  # type: ignore[method-assign]
        # a namespace record whose checkpoints are all gone
        saver._redis.hset(saver._thread("wide").all[KEY["n"]], key_part("ghost"), b"ghost")
        (report,) = saver.check_threads()
        assert (report.thread_id, report.checkpoint_ns) == ("wide", "ghost")
        # 601 namespaces read over many calls (HSCAN cursors), not in one
        assert sum(c.startswith(b"n:") for c in cursors) >= 50


def test_check_threads_leaves_expired_threads_alone(make_saver: SaverFactory) -> None:
    with make_saver(ttl={"default_ttl": 0.001}) as saver:
        build(saver, "short-lived")
        sleep(0.3)
        assert saver.get_tuple(cfg("short-lived")) is None
        assert saver.check_threads() == []
