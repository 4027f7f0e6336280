"""Async saver on a ``redis.asyncio.ConnectionPool`` you own ("With a connection pool").

    REDIS_URL=redis://localhost:6379/0 python examples/async_connection_pool.py

The notebook built ``RedisSaver(async_connection=pool)``; here the async saver is its own
class, ``AsyncRedisSaver``, and the pool is its first argument (``redis_client=pool`` and
``connection_pool=pool`` work too).  The saver never closes a pool it was given.
"""

from __future__ import annotations

import asyncio

from _common import (
    build_agent,
    final_answer,
    new_thread_config,
    print_checkpoint,
    print_history,
    print_tuple,
    redis_url_from_env,
)
from redis.asyncio import ConnectionPool as AsyncConnectionPool
from redis.asyncio import Redis as AsyncRedis

from aredis_ckpt import AsyncRedisSaver


async def main() -> None:
    pool = AsyncConnectionPool.from_url(redis_url_from_env())
    try:
        async with AsyncRedisSaver(pool) as checkpointer:
            await checkpointer.asetup()
            graph = build_agent(checkpointer)
            config = new_thread_config("async-pool")
            print(f"thread_id: {config['configurable']['thread_id']}")
            res = await graph.ainvoke(
                {"messages": [("human", "what's the weather in nyc")]}, config
            )
            print(f"answer: {final_answer(res)}")

            latest_checkpoint = await checkpointer.aget(config)
            latest_checkpoint_tuple = await checkpointer.aget_tuple(config)
            checkpoint_tuples = [c async for c in checkpointer.alist(config)]
            print_checkpoint(latest_checkpoint)
            print_tuple(latest_checkpoint_tuple)
            print_history(checkpoint_tuples)
        # Leaving the saver's context closed only what the saver created: nothing here.
        probe = AsyncRedis(connection_pool=pool)
        try:
            if not await probe.ping():
                raise RuntimeError("the pool stopped working after the saver closed")
        finally:
            await probe.aclose()  # a client on a pool it did not create leaves the pool open
        print("pool still usable after the saver closed: yes")
    finally:
        await pool.aclose()


if __name__ == "__main__":
    asyncio.run(main())
