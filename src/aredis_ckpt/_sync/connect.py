# This file is generated from src/aredis_ckpt/_async/connect.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Redis clients from the constructor arguments the savers and the store share.

Written once; ``scripts/unasync.py`` generates the synchronous twin.  This is the client
construction of ``AsyncRedisSaver.__init__`` / ``_client_from_url`` as functions, so that every
class taking ``redis_url`` / ``redis_client`` / ``connection_pool`` builds its client the same
way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from aredis_ckpt._base import pick_connection_source
from aredis_ckpt._compat import (
    BlockingConnectionPool,
    ConnectionPool,
    Redis,
    RedisCluster,
    Sentinel,
    default_retry,
)
from aredis_ckpt._urls import parse_url

__all__ = ["client_from_url", "open_client"]


def open_client(
    redis_url: object,
    redis_client: object,
    connection_pool: object,
    *,
    connection_args: Mapping[str, Any] | None,
    max_connections: int,
    pool_timeout: float | None,
    cluster: bool,
    owned: list[Any],
    what: str,
) -> Redis | RedisCluster:
    """The client of one connection source; clients created here are appended to ``owned``
    (the caller closes them), a client or pool passed in is used as it is."""
    source = pick_connection_source(redis_url, redis_client, connection_pool)
    client: Redis | RedisCluster
    if isinstance(source, str):
        client = client_from_url(
            source, connection_args, max_connections, pool_timeout, cluster, owned, what
        )
    elif isinstance(source, ConnectionPool):
        client = Redis(connection_pool=source)
    elif isinstance(source, (Redis, RedisCluster)):
        client = source
    else:
        raise TypeError(
            f"expected a Redis URL, or a redis-py client or connection pool of the {what}'s "
            f"kind (asyncio or not), got {type(source).__module__}.{type(source).__name__}"
        )
    if client.get_encoder().decode_responses:
        raise ValueError(
            f"the Redis client decodes responses (decode_responses=True), but the {what} "
            "stores binary records: pass a client created with decode_responses=False"
        )
    return client


def client_from_url(
    url: str,
    connection_args: Mapping[str, Any] | None,
    max_connections: int,
    pool_timeout: float | None,
    cluster: bool,
    owned: list[Any],
    what: str,
) -> Redis | RedisCluster:
    """A client of ``url`` on a pool whose callers wait for a free connection.

    A dropped connection (idle timeout, restart, failover) must not surface as an error when a
    retry would do: every saver call is idempotent, and so are a store batch's writes (a batch
    repeated after a connection dropped mid-reply may read its own writes).  A "retry" entry
    in connection_args (None switches retries off) replaces this default.
    """
    args = dict(connection_args or {})
    if "retry" not in args:
        args = {**default_retry(), **args}
    if args.get("decode_responses"):
        raise ValueError(f"connection_args: decode_responses must be False for a {what}")
    sentinel_url = parse_url(url)
    client: Redis | RedisCluster
    if cluster:
        if sentinel_url is not None:
            raise ValueError("cluster=True takes a redis:// or rediss:// URL of any node")
        client = RedisCluster.from_url(url, **args)
    elif sentinel_url is None:
        pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=pool_timeout, **args
        )
        client = Redis.from_pool(pool)
    else:
        user, password = sentinel_url.username, sentinel_url.password
        # redis-py leaves the Sentinel constructor untyped
        sentinel: Any = cast(Any, Sentinel)(
            list(sentinel_url.hosts),
            sentinel_kwargs={"username": user, "password": password, "ssl": sentinel_url.ssl},
            **args,
        )
        owned.extend(sentinel.sentinels)
        client = sentinel.master_for(
            sentinel_url.service,
            redis_class=Redis,
            db=sentinel_url.db,
            ssl=sentinel_url.ssl,
            max_connections=max_connections,
            username=user,
            password=password,
        )
    owned.append(client)
    return client
