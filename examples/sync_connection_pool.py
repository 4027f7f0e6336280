"""Sync saver on a ``redis.ConnectionPool`` you own (the notebooks' "With a connection pool").

    REDIS_URL=redis://localhost:6379/0 python examples/sync_connection_pool.py

The notebook built ``RedisSaver(sync_connection=pool)``; here the pool is the first argument
(``RedisSaver(redis_client=pool)`` and ``RedisSaver(connection_pool=pool)`` work too).  The
saver never closes a pool it was given: closing it stays your job.
"""

from __future__ import annotations

import redis
from _common import (
    build_agent,
    final_answer,
    new_thread_config,
    print_checkpoint,
    print_history,
    print_tuple,
    redis_url_from_env,
)

from aredis_ckpt import RedisSaver


def main() -> None:
    pool = redis.ConnectionPool.from_url(redis_url_from_env())
    try:
        with RedisSaver(pool) as checkpointer:
            checkpointer.setup()
            graph = build_agent(checkpointer)
            config = new_thread_config("sync-pool")
            print(f"thread_id: {config['configurable']['thread_id']}")
            res = graph.invoke({"messages": [("human", "what's the weather in sf")]}, config)
            print(f"answer: {final_answer(res)}")

            latest_checkpoint = checkpointer.get(config)
            latest_checkpoint_tuple = checkpointer.get_tuple(config)
            checkpoint_tuples = list(checkpointer.list(config))
            print_checkpoint(latest_checkpoint)
            print_tuple(latest_checkpoint_tuple)
            print_history(checkpoint_tuples)
        # Leaving the saver's context closed only what the saver created: nothing here.
        probe = redis.Redis(connection_pool=pool)
        try:
            if not probe.ping():
                raise RuntimeError("the pool stopped working after the saver closed")
        finally:
            probe.close()  # a client on a pool it did not create leaves the pool open
        print("pool still usable after the saver closed: yes")
    finally:
        pool.disconnect()


if __name__ == "__main__":
    main()
