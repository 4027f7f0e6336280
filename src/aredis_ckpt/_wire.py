"""One packed command out, its reply in: the script runner's exchange on a kept connection.

Paired names like ``_compat``'s: ``scripts/unasync.py`` swaps ``AsyncWire`` for ``Wire``.

redis-py's ``send_packed_command`` / ``read_response`` do more per call than a script call on a
connection the runner holds needs: host strings, notification hooks, and with redis-py 8's
default ``socket_timeout`` a timer armed for the send (``asyncio.wait_for``) and another for
the read; together more than half of the instructions of an async script call (docs/hot-path.md,
cuts 2 and 3).  The short path writes the whole
command to the connection's own socket or stream and reads the reply with the connection's
own parser (``parser.read_response()``: RESP2 and RESP3, push messages handled by redis-py).
It is taken only for redis-py's own connection classes (plain, TLS, Unix socket, and
Sentinel-managed, whose "primary demoted" reply it turns into the same ``ConnectionError``);
a connection class that changes how commands are sent or replies are read, or a redis-py whose
connections lack the attributes used here, gets redis-py's own path.

What the short path keeps of redis-py's behaviour:

* A connection that is not connected is connected with ``connect()`` (TLS, AUTH, Sentinel's
  primary lookup, the client's retry policy for connecting).
* ``health_check_interval``: ``check_health()`` before the call, so a PING goes out at least
  that often (redis-py's own reads push the next check further away; the short path leaves
  that to the PINGs, so it checks at most once per interval even on a busy connection).
* ``socket_timeout``: a reply (or a send) that takes longer raises ``TimeoutError``.  The
  sync side has it from the socket itself, as a kernel timeout (``SO_RCVTIMEO`` /
  ``SO_SNDTIMEO``) on a blocking socket while the runner holds the connection, so no
  ``poll()`` runs before each send and each read (see ``Wire``); the async side keeps one
  watchdog timer per runner instead of a timer per read (see ``AsyncWire``).
* Any failure (error, timeout, cancellation) disconnects the connection, as redis-py does, so
  no reply is left for a later call to read; an error reply leaves it clean.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
import time
import weakref
from typing import Any

import hiredis
from redis import connection as _connection
from redis.asyncio import connection as _async_connection
from redis.asyncio.sentinel import SentinelManagedConnection as _AsyncSentinelConnection
from redis.exceptions import ConnectionError, ReadOnlyError, ResponseError, TimeoutError
from redis.sentinel import SentinelManagedConnection as _SentinelConnection

__all__ = [
    "AsyncWire",
    "Wire",
    "direct_path",
    "give_back",
    "kept_at_most",
    "pack_command",
    "reusable",
]


def kept_at_most(pool: Any, wanted: int) -> int:
    """How many of ``pool``'s connections a runner may keep between calls: ``wanted``, and
    always one fewer than the pool may open.  The client's own commands (a pipeline, a script
    load) take their connection from the same pool; with every connection it may open kept
    by the runner they would wait out the pool's timeout and fail."""
    limit = getattr(pool, "max_connections", None)
    if not isinstance(limit, int):
        return wanted
    return max(0, min(wanted, limit - 1))


def pack_command(conn: Any, args: tuple[Any, ...]) -> bytes:
    """The command in one buffer (hiredis packs it; redis-py's packer builds a list of chunks
    in Python and a join copies a 9 KB value once more).  Argument types hiredis does not take
    go through the connection's own packer, which packs them or raises redis-py's error."""
    try:
        return hiredis.pack_command(args)  # type: ignore[no-any-return]
    except TypeError:
        return b"".join(conn.pack_command(*args))


# The base class of redis-py's connection classes (plain, TLS, Unix socket): its way to send
# and read is what the short path replaces.
_AsyncConnection: Any = getattr(
    _async_connection, "AbstractConnection", _async_connection.Connection
)
_Connection: Any = getattr(_connection, "AbstractConnection", _connection.Connection)
_ABSENT = object()
# Per connection class: whether the short path may serve it (computed on first sight).
_DIRECT: dict[type, bool] = {}


def _eligible(conn: Any, base: Any, sentinel: Any, stream: str) -> bool:
    cls = type(conn)
    return (
        getattr(cls, "send_packed_command", None) is base.send_packed_command
        and getattr(cls, "read_response", None) in (base.read_response, sentinel.read_response)
        and hasattr(conn, stream)
        and hasattr(conn, "_parser")
        and hasattr(conn, "connect")
        and hasattr(conn, "check_health")
    )


def direct_path(conn: Any) -> bool:
    """Whether the short path serves ``conn`` (redis-py's own connection classes)."""
    cls = type(conn)
    known = _DIRECT.get(cls)
    if known is None:
        if isinstance(conn, _AsyncConnection):
            known = _eligible(conn, _AsyncConnection, _AsyncSentinelConnection, "_writer")
        else:
            known = _eligible(conn, _Connection, _SentinelConnection, "_sock")
        _DIRECT[cls] = known
    return known


def reusable(conn: Any) -> bool:
    """Whether a connection may be kept for the next call: not when redis-py marked it to be
    reconnected (redis-py 8's maintenance notifications; its pool disconnects it on release)."""
    should_reconnect = getattr(conn, "should_reconnect", None)
    return should_reconnect is None or not should_reconnect()


def _where(conn: Any) -> str:
    try:
        return str(conn._host_error())
    except Exception:  # an older or newer redis-py without it: the message only
        return repr(conn)


def _error_in(reply: Any, count: int | None) -> ResponseError | None:
    """A single command's error reply; of a batch's replies, a READONLY one if any (what
    ``_demoted`` looks for), else the first error reply."""
    if count is None:
        return reply if isinstance(reply, ResponseError) else None
    errors = [one for one in reply if isinstance(one, ResponseError)]
    for one in errors:
        if isinstance(one, ReadOnlyError):
            return one
    return errors[0] if errors else None


def _demoted(conn: Any, reply: Exception) -> bool:
    """A Sentinel-managed primary that answers READONLY was demoted: like redis-py, drop the
    connection so that reconnecting asks Sentinel for the new primary."""
    return (
        isinstance(reply, ReadOnlyError)
        and isinstance(conn, (_AsyncSentinelConnection, _SentinelConnection))
        and bool(getattr(conn.connection_pool, "is_master", False))
    )


class AsyncWire:
    """The exchange on redis-py asyncio connections; one per script runner (the sync twin is
    ``Wire``).

    The socket timeout is kept by one watchdog: each exchange records its deadline (a dict
    entry), and a single timer, armed for the earliest deadline, aborts the transport of an
    exchange that outlived it.  The read then fails, and the exchange raises
    ``TimeoutError`` as redis-py would.  The caller's task is never cancelled, so
    cancellation, ``asyncio.timeout`` and task groups around the call see nothing of it.
    Arming and cancelling a timer for every exchange costs about 30,000 instructions per call
    (about 3 us in a hot loop); the watchdog costs a dict entry.  A runner's exchanges run on
    one event loop at a time (redis.asyncio's connections belong to the loop that opened them).
    """

    __slots__ = ("_deadlines", "_expired", "_loop", "_timer", "_timer_at")

    def __init__(self) -> None:
        self._deadlines: dict[Any, float] = {}  # stream writer -> monotonic deadline
        self._expired: set[Any] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def reset(self) -> None:
        """Forget every exchange in flight (a forked child has none of its parent's)."""
        self._deadlines.clear()
        self._expired.clear()
        self._loop = self._timer = None

    async def exchange(self, conn: Any, packed: bytes, count: int | None = None) -> Any:
        """Send ``packed`` on ``conn`` and return the reply (an error reply is raised); with a
        ``count``, ``packed`` holds that many commands and their replies come back as a list
        (an error reply as its exception, in its place)."""
        if not direct_path(conn):
            return await self._through_redis_py(conn, packed, count)
        if conn.health_check_interval:
            await conn.check_health()
        writer = conn._writer
        if writer is None or writer.transport.is_closing():
            # Not connected, or the server closed it while it was kept.  On Python 3.12+
            # writing to a closed transport fails with AttributeError or TypeError, not the
            # OSError a retry policy handles (CPython gh-136234): reconnect first.
            await conn.disconnect(nowait=True)
            await conn.connect()
            writer = conn._writer
        timeout = conn.socket_timeout
        if timeout:
            self._watch(writer, timeout)
        try:
            writer.write(packed)
            if writer.transport.get_write_buffer_size():
                # the socket took only part of it: wait for the rest (a large command), then
                # give the reply the whole timeout again, as redis-py times send and read apart
                await writer.drain()
                if timeout:
                    self._watch(writer, timeout)
            read = conn._parser.read_response
            if count is None:
                reply = await read()
            else:
                reply = [await read() for _ in range(count)]
        except BaseException as exc:
            timed_out = writer in self._expired
            writer.transport.abort()
            await conn.disconnect(nowait=True)
            if timed_out:
                raise TimeoutError(f"Timeout reading from {_where(conn)}") from None
            if isinstance(exc, OSError):
                raise ConnectionError(f"Error while talking to {_where(conn)}: {exc}") from exc
            raise
        finally:
            if timeout:
                del self._deadlines[writer]
                self._expired.discard(writer)
        error = _error_in(reply, count)
        if error is not None:
            if _demoted(conn, error):
                await conn.disconnect()
                raise ConnectionError("The previous master is now a slave") from error
            if count is None:
                raise error
        return reply

    @staticmethod
    async def _through_redis_py(conn: Any, packed: bytes, count: int | None) -> Any:
        writer: Any = getattr(conn, "_writer", _ABSENT)
        if writer is not None and writer is not _ABSENT and writer.transport.is_closing():
            await conn.disconnect(nowait=True)  # gh-136234, as above
            writer = None
        if writer is None:
            # connect() is what asks Sentinel for the primary: send_packed_command's own
            # reconnect goes back to the address the connection had
            await conn.connect()
        await conn.send_packed_command([packed])
        if count is None:
            return await conn.read_response()
        replies: list[Any] = []
        for _ in range(count):
            try:
                replies.append(await conn.read_response())
            except ResponseError as exc:
                replies.append(exc)
        return replies

    def _watch(self, writer: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self._deadlines[writer] = deadline
        loop = asyncio.get_running_loop()
        if self._timer is None or loop is not self._loop or deadline < self._timer_at:
            self._arm(loop, deadline)

    def _arm(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._loop = loop
        self._timer_at = deadline
        self._timer = loop.call_later(max(deadline - time.monotonic(), 0.0), self._tick)

    def _tick(self) -> None:
        self._timer = None
        now = time.monotonic()
        soonest: float | None = None
        for writer, deadline in self._deadlines.items():
            if deadline <= now:
                if writer not in self._expired:
                    self._expired.add(writer)
                    writer.transport.abort()  # the pending read or drain fails at once
            elif soonest is None or deadline < soonest:
                soonest = deadline
        if soonest is not None and self._loop is not None:
            self._arm(self._loop, soonest)


# Linux: a socket timeout the kernel keeps (SO_RCVTIMEO / SO_SNDTIMEO take a struct timeval,
# two C longs).  Elsewhere sockets keep Python's own timeout.
_KERNEL_TIMEOUTS = sys.platform == "linux"
_NO_TIMEOUT = struct.pack("ll", 0, 0)


def _timeval(seconds: float) -> bytes:
    whole = int(seconds)
    # at least 1 us: a zero timeval means "no timeout" to the kernel
    return struct.pack("ll", whole, max(int((seconds - whole) * 1e6), 0 if whole else 1))


# The sockets whose timeouts the runner moved to the kernel (give_back undoes only those).
_SWITCHED: weakref.WeakSet[socket.socket] = weakref.WeakSet()


def _to_kernel_timeout(sock: socket.socket, seconds: float) -> None:
    """Blocking mode, the timeout kept by the kernel: no ``poll()`` before each call."""
    tv = _timeval(seconds)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
    sock.settimeout(None)
    _SWITCHED.add(sock)


def give_back(conn: Any) -> None:
    """Before a connection goes back to its pool: its socket as redis-py left it (Python's
    own timeout, no kernel timeout), so code that shares the pool sees redis-py's behaviour
    (a timeout raising ``TimeoutError``, a blocking read waiting as long as redis-py says)."""
    sock = getattr(conn, "_sock", None)
    if type(sock) is not socket.socket or sock not in _SWITCHED:
        return  # never switched (a socket of the caller's own settings stays as it is)
    _SWITCHED.discard(sock)
    timeout = getattr(conn, "socket_timeout", None)
    try:
        # also when redis-py set its own timeout again meanwhile (a read with a timeout of
        # its own does): a kernel timeout left behind would cut a read redis-py lets block
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _NO_TIMEOUT)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _NO_TIMEOUT)
        if sock.gettimeout() is None and timeout:
            sock.settimeout(timeout)
    except OSError:  # a socket the peer reset meanwhile: redis-py reconnects it
        conn.disconnect()


def _timed_out(exc: BaseException) -> bool:
    """A send or read that the kernel's timeout ended (EAGAIN on a blocking socket; redis-py's
    parser reports it as a ``ConnectionError`` raised from the ``BlockingIOError``)."""
    if isinstance(exc, BlockingIOError):
        return True
    return isinstance(exc, ConnectionError) and isinstance(exc.__context__, BlockingIOError)


class Wire:
    """The exchange on redis-py connections (the async twin is ``AsyncWire``).

    The socket carries the connection's timeout itself.  redis-py gives a socket Python's
    timeout, which makes every ``send`` and ``recv`` a ``poll()`` first: two system calls
    more per exchange, each releasing the GIL (in LangGraph's background thread, a hand-off
    to the graph's thread and back; about 9 us of CPU per call inside a sync agent, see
    docs/hot-path.md).  On Linux a kept plain or Unix socket is switched once to blocking
    mode with the same timeout kept by the kernel (``SO_RCVTIMEO`` / ``SO_SNDTIMEO``, per
    send and per read as redis-py's own reads), and ``give_back`` switches it back before the
    connection returns to its pool.  TLS sockets keep Python's timeout.
    """

    __slots__ = ()

    def reset(self) -> None:
        """Nothing to forget: the sync side keeps no state between exchanges."""

    def exchange(self, conn: Any, packed: bytes, count: int | None = None) -> Any:
        """Send ``packed`` on ``conn`` and return the reply (an error reply is raised); with
        ``count``, the replies of that many commands as a list (see ``AsyncWire``)."""
        if not direct_path(conn):
            return self._through_redis_py(conn, packed, count)
        if conn.health_check_interval:
            conn.check_health()
        sock = conn._sock
        if sock is None:
            conn.connect()
            sock = conn._sock
        try:
            if _KERNEL_TIMEOUTS and type(sock) is socket.socket:
                timeout = sock.gettimeout()
                if timeout:  # redis-py's mode (set again by its own reads, or a reconnect)
                    _to_kernel_timeout(sock, timeout)
            sock.sendall(packed)
            read = conn._parser.read_response
            reply = read() if count is None else [read() for _ in range(count)]
        except BaseException as exc:
            conn.disconnect()
            if isinstance(exc, socket.timeout) or _timed_out(exc):
                raise TimeoutError(f"Timeout talking to {_where(conn)}") from None
            if isinstance(exc, OSError):
                raise ConnectionError(f"Error while talking to {_where(conn)}: {exc}") from exc
            raise
        error = _error_in(reply, count)
        if error is not None:
            if _demoted(conn, error):
                conn.disconnect()
                raise ConnectionError("The previous master is now a slave") from error
            if count is None:
                raise error
        return reply

    @staticmethod
    def _through_redis_py(conn: Any, packed: bytes, count: int | None) -> Any:
        if getattr(conn, "_sock", _ABSENT) is None:
            conn.connect()  # asks Sentinel for the primary (see AsyncWire)
        conn.send_packed_command([packed])
        if count is None:
            return conn.read_response()
        replies: list[Any] = []
        for _ in range(count):
            try:
                replies.append(conn.read_response())
            except ResponseError as exc:
                replies.append(exc)
        return replies
