"""Async saver on a ``redis.asyncio.Redis`` client you own ("Use connection").

    REDIS_URL=redis://localhost:6379/0 python examples/async_client.py

The notebooks built ``RedisSaver(async_connection=conn)`` or ``AsyncRedisSaver(conn)``; here
the client is the first argument of ``AsyncRedisSaver`` (or ``redis_client=client``).  The
saver never closes a client it was given: closing it stays your job.
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
from redis.asyncio import Redis as AsyncRedis

from aredis_ckpt import AsyncRedisSaver


async def main() -> None:
    client = AsyncRedis.from_url(redis_url_from_env())
    try:
        async with AsyncRedisSaver(client) as checkpointer:
            await checkpointer.asetup()
            graph = build_agent(checkpointer)
            config = new_thread_config("async-client")
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
        if not await client.ping():
            raise RuntimeError("the client stopped working after the saver closed")
        print("client still usable after the saver closed: yes")
    finally:
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
