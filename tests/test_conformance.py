"""LangGraph's conformance suite, the external judge, against both savers.

The suite calls only ``a*`` methods and counts a capability as present when the class
overrides its ``a*`` method, so RedisSaver runs through a small adapter that exposes its
synchronous methods under the async names (calling them directly, on the test's thread).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES

from aredis_ckpt import AsyncRedisSaver, RedisSaver


class SyncAsAsync(BaseCheckpointSaver[str]):
    """RedisSaver's sync methods under the names the conformance suite calls."""

    def __init__(self, inner: RedisSaver) -> None:
        super().__init__(serde=inner.serde)
        self.inner = inner

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self.inner.get_tuple(config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        for item in self.inner.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self.inner.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self.inner.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.inner.delete_thread(thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        self.inner.delete_for_runs(run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self.inner.copy_thread(source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        self.inner.prune(thread_ids, strategy=strategy)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        return self.inner.get_delta_channel_history(config=config, channels=channels)

    def get_next_version(self, current: str | None, channel: None) -> str:
        return self.inner.get_next_version(current, channel)


def _print(capsys: pytest.CaptureFixture[str], report: Any) -> None:
    counts = ", ".join(
        f"{name} {r.tests_passed}/{r.tests_passed + r.tests_failed}"
        for name, r in sorted(report.results.items())
    )
    total = sum(r.tests_passed for r in report.results.values())
    with capsys.disabled():
        print()
        report.print_report()
        print(f"  {report.checkpointer_name}: {total} conformance tests passed ({counts})")


def _assert_full(report: Any) -> None:
    results = report.results
    assert set(results) == {c.value for c in ALL_CAPABILITIES}
    failures = {name: r.failures for name, r in results.items() if r.passed is not True}
    assert not failures, failures
    assert sum(r.tests_passed for r in results.values()) >= 81


async def test_conformance_async_saver(
    redis_url: str,
    key_prefix: str,
    saver_kwargs: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    @checkpointer_test(name="AsyncRedisSaver")
    async def factory() -> AsyncIterator[AsyncRedisSaver]:
        async with AsyncRedisSaver.from_conn_string(
            redis_url, key_prefix=key_prefix, **saver_kwargs
        ) as saver:
            await saver.asetup()
            yield saver

    report = await validate(factory)
    _print(capsys, report)
    _assert_full(report)


async def test_conformance_sync_saver(
    redis_url: str,
    key_prefix: str,
    saver_kwargs: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    def open_saver() -> Iterator[RedisSaver]:
        with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix, **saver_kwargs) as saver:
            saver.setup()
            yield saver

    @checkpointer_test(name="RedisSaver (sync, via adapter)")
    async def factory() -> AsyncIterator[SyncAsAsync]:
        gen = open_saver()
        try:
            yield SyncAsAsync(next(gen))
        finally:
            gen.close()

    report = await validate(factory)
    _print(capsys, report)
    _assert_full(report)
