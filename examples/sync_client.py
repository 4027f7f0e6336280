"""Sync saver on a ``redis.Redis`` client you own (the notebooks' "With a connection").

    REDIS_URL=redis://localhost:6379/0 python examples/sync_client.py

The notebooks built ``RedisSaver(sync_connection=client)`` or ``RedisSaver(conn)``; here the
client is the first argument (or ``redis_client=client``, as ``langgraph-checkpoint-redis``
spells it).  The saver never closes a client it was given: closing it stays your job.
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
    client = redis.Redis.from_url(redis_url_from_env())
    try:
        with RedisSaver(redis_client=client) as checkpointer:
            checkpointer.setup()
            graph = build_agent(checkpointer)
            config = new_thread_config("sync-client")
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
        if not client.ping():
            raise RuntimeError("the client stopped working after the saver closed")
        print("client still usable after the saver closed: yes")
    finally:
        client.close()


if __name__ == "__main__":
    main()
