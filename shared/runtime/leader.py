"""Work that runs in one instance at a time: held by an advisory lock, fenced by a term."""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import psycopg
import structlog
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import tuple_row

from shared.runtime.aio import sleep_or_stop
from shared.runtime.metrics import LEADER, LEADERSHIP_LOST, WORK_RESTARTS

Work = Callable[[asyncio.Event], Awaitable[Any]]
log = structlog.get_logger()

HEALTHY_AFTER = 60.0  # seconds a restarted work must run before its restart delay starts over

_CREATE_TERMS = """
CREATE TABLE IF NOT EXISTS leader_terms (
    name text PRIMARY KEY,
    term bigint NOT NULL
)"""
# Taking the row lock waits for the commits of the previous leader that already passed the
# fence (they hold the row FOR SHARE), so the new term starts after the last of them.
_NEXT_TERM = """
INSERT INTO leader_terms VALUES (%s, 1)
ON CONFLICT (name) DO UPDATE SET term = leader_terms.term + 1
RETURNING term"""
_HOLDS_LOCK = """
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND ((classid::bigint << 32) | objid::bigint) = %s AND objsubid = 1
)"""
# FOR SHARE holds off the next leader's term until this transaction ends; the timeout ends a
# transaction whose client vanished, so it cannot hold that off for hours.
_FENCE = """
SELECT term, set_config('idle_in_transaction_session_timeout', %s, true)
FROM leader_terms WHERE name = %s FOR SHARE"""


class LeadershipLost(Exception):
    """This instance no longer holds the lock: what it was about to commit must not be."""


def lock_key(name: str) -> int:
    """A stable 32-bit advisory lock key for a name."""
    return zlib.crc32(name.encode())


class Leadership:
    """Runs works while this instance holds the lock of `name`, and fences their commits.

    The lock lives on its own connection, with TCP keepalives and timeouts on both ends, and is
    checked every `poll` seconds: a check that fails, finds the lock gone or gets no answer
    within `timeout` cancels the works at once. The server ends the lock's session when it is
    left idle for twice `timeout` (a leader cut off by the network), so another instance can
    take over. Each leader gets a new term in `leader_terms`; `verify` inside a commit's
    transaction refuses it unless the term is still ours. A work that ends on its own is
    restarted with a growing delay and counted; `works_up` is False while one is down.
    """

    def __init__(
        self,
        database_url: str,
        name: str,
        *,
        timeout: float = 5.0,
        poll: float = 1.0,
        restart_delay: float = 0.5,
        max_restart_delay: float = 30.0,
    ) -> None:
        if poll >= timeout:
            raise ValueError("the lock must be checked more often than its timeout")
        self.database_url = database_url
        self.name = name
        self.key = lock_key(name)
        self.timeout = timeout
        self.poll = poll
        self.restart_delay = restart_delay
        self.max_restart_delay = max_restart_delay
        self.term: int | None = None  # set while leading
        self.down: set[str] = set()  # works waiting to be restarted

    @property
    def works_up(self) -> bool:
        """False while one of the works this instance leads is down."""
        return not self.down

    def verify(self, conn: psycopg.Connection[Any]) -> None:
        """Raise LeadershipLost unless we still lead; call it inside the transaction to commit."""
        term = self.term
        if term is None:
            raise LeadershipLost(f"{self.name}: not leading")
        idle_limit = f"{math.ceil(self.timeout * 1000)}ms"
        with conn.cursor(row_factory=tuple_row) as cursor:
            row = cursor.execute(_FENCE, (idle_limit, self.name)).fetchone()
        if row is None or row[0] != term:
            raise LeadershipLost(f"{self.name}: term {term} is over")

    async def run(self, works: Mapping[str, Work], stop: asyncio.Event) -> None:
        """Lead whenever the lock is free, until stopped; another instance takes over if we die."""
        while not stop.is_set():
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.database_url, **_lock_connection(self.database_url, self.timeout)
                )
            except psycopg.Error as error:
                log.warning("leader connection failed", work=self.name, error=str(error))
                await sleep_or_stop(stop, self.poll)
                continue
            try:
                if await self._acquire(conn):
                    await self._lead(conn, works, stop)
            except LeadershipLost as lost:
                LEADERSHIP_LOST.inc()
                log.error("leadership lost, works stopped", work=self.name, reason=str(lost))
            except psycopg.Error as error:
                log.warning("leader connection failed", work=self.name, error=str(error))
            finally:
                await conn.close()
            await sleep_or_stop(stop, self.poll)

    async def _acquire(self, conn: psycopg.AsyncConnection[Any]) -> bool:
        """Take the lock if free, then start a new term (after the last leader's commits)."""
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
        row = await cursor.fetchone()
        if not (row and row[0]):
            return False
        await conn.execute(_CREATE_TERMS)
        cursor = await conn.execute(_NEXT_TERM, (self.name,))
        row = await cursor.fetchone()
        assert row is not None
        self.term = int(row[0])
        log.info("leading", work=self.name, term=self.term, pid=conn.info.backend_pid)
        return True

    async def _lead(
        self, conn: psycopg.AsyncConnection[Any], works: Mapping[str, Work], stop: asyncio.Event
    ) -> None:
        """Run the works until stop, or until the lock is lost (then stop them at once)."""
        LEADER.set(1)
        term_over = asyncio.Event()
        tasks = [
            asyncio.create_task(self._keep_running(name, work, term_over), name=name)
            for name, work in works.items()
        ]
        stopping = asyncio.ensure_future(stop.wait())
        check: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                check = asyncio.create_task(self._holds_lock(conn))
                # A work whose commit was refused stops the others at once, even mid-check.
                await asyncio.wait(
                    [check, stopping, *tasks], timeout=self.timeout, return_when="FIRST_COMPLETED"
                )
                _raise_if_ended(tasks)
                if stop.is_set():
                    break
                if not check.done():
                    raise LeadershipLost(f"the lock's connection gave no answer in {self.timeout}s")
                check.result()
                await asyncio.wait(
                    [stopping, *tasks], timeout=self.poll, return_when="FIRST_COMPLETED"
                )
                _raise_if_ended(tasks)
        finally:
            self.term = None  # no commit passes the fence from now on
            LEADER.set(0)
            term_over.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.down.clear()
            stopping.cancel()
            if check is not None and not check.done():
                _sever(conn)  # the hung check fails now (cancelling it could wait 10 s more)
                await asyncio.gather(check, return_exceptions=True)

    async def _holds_lock(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Raise LeadershipLost unless the lock's session is alive and still holds the lock."""
        try:
            cursor = await conn.execute(_HOLDS_LOCK, (self.key,))
            row = await cursor.fetchone()
        except psycopg.Error as error:
            raise LeadershipLost(f"the lock's connection failed: {error}") from error
        if not (row and row[0]):
            raise LeadershipLost("the lock's session no longer holds it")

    async def _keep_running(self, name: str, work: Work, term_over: asyncio.Event) -> None:
        """Run one work for the term; restart it (with a growing delay) whenever it ends."""
        delay = self.restart_delay
        while True:
            started = time.monotonic()
            ended: BaseException | None = None
            try:
                await work(term_over)
            except LeadershipLost:
                raise
            except asyncio.CancelledError as cancelled:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # the term is over
                ended = cancelled
            except Exception as crash:
                ended = crash
            if term_over.is_set():
                return
            if time.monotonic() - started >= HEALTHY_AFTER:
                delay = self.restart_delay
            self.down.add(name)
            log.error(
                "leader work ended, restarting it",
                work=name,
                outcome=_outcome(ended),
                delay=delay,
                exc_info=ended,
            )
            await sleep_or_stop(term_over, delay)
            self.down.discard(name)
            if term_over.is_set():
                return
            WORK_RESTARTS.labels(name).inc()
            delay = min(delay * 2, self.max_restart_delay)


def _sever(conn: psycopg.AsyncConnection[Any]) -> None:
    """Shut the connection's socket down, so whatever waits on it fails at once."""
    with (
        contextlib.suppress(OSError),
        socket.fromfd(conn.pgconn.socket, socket.AF_INET, socket.SOCK_STREAM) as sock,
    ):
        sock.shutdown(socket.SHUT_RDWR)  # on a duplicate of the fd: psycopg still owns it


def _raise_if_ended(tasks: list[asyncio.Task[None]]) -> None:
    """Raise what ended a work's keeper (LeadershipLost when its commit was refused)."""
    for task in tasks:
        if task.done():
            task.result()
            raise RuntimeError(f"leader work {task.get_name()} stopped being restarted")


def _outcome(ended: BaseException | None) -> str:
    if ended is None:
        return "returned"
    return "was cancelled" if isinstance(ended, asyncio.CancelledError) else "raised"


def _lock_connection(url: str, timeout: float) -> dict[str, Any]:
    """Connection parameters that let neither end wait long for the other.

    Client side (libpq): keepalives and a TCP user timeout notice a dead peer or path.
    Server side: the same for the session, a statement timeout, and an idle session timeout
    that ends the session (and frees the lock) of a leader that stopped checking its lock.
    """
    seconds = max(2, math.ceil(timeout))  # libpq's smallest connect timeout is 2 s
    millis = math.ceil(timeout * 1000)
    server = {
        "idle_session_timeout": 2 * millis,
        "statement_timeout": millis,
        "tcp_keepalives_idle": seconds,
        "tcp_keepalives_interval": 1,
        "tcp_keepalives_count": 3,
        "tcp_user_timeout": millis,
    }
    options = " ".join(f"-c {name}={value}" for name, value in server.items())
    given = conninfo_to_dict(url).get("options")
    return {
        "autocommit": True,
        "connect_timeout": seconds,
        "keepalives": 1,
        "keepalives_idle": seconds,
        "keepalives_interval": 1,
        "keepalives_count": 3,
        "tcp_user_timeout": millis,
        "options": f"{given} {options}" if given else options,
    }
