"""Work that runs in one instance at a time, held by a PostgreSQL advisory lock."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable, Coroutine
from typing import Any

import psycopg
import structlog

from shared.runtime.aio import sleep_or_stop

Work = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
log = structlog.get_logger()


def lock_key(name: str) -> int:
    """A stable 32-bit advisory lock key for a name."""
    return zlib.crc32(name.encode())


async def run_as_leader(
    database_url: str, name: str, works: list[Work], stop: asyncio.Event, poll: float = 1.0
) -> None:
    """Run the works while this instance holds the lock; another instance takes over if it dies."""
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
                row = await (
                    await conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(name),))
                ).fetchone()
                if row and row[0]:
                    log.info("leading", work=name)
                    await _lead(conn, works, stop, poll)
        except psycopg.OperationalError as error:
            log.warning("leader connection lost", work=name, error=str(error))
        await sleep_or_stop(stop, poll)


async def _lead(
    conn: psycopg.AsyncConnection, works: list[Work], stop: asyncio.Event, poll: float
) -> None:
    """Run the works until stop, or until the lock's connection dies (then another leads)."""
    tasks = [asyncio.create_task(work(stop)) for work in works]
    try:
        while not stop.is_set():
            for task in tasks:
                error = task.exception() if task.done() else None
                if error is not None:
                    raise error
            await conn.execute("SELECT 1")  # raises when the lock's connection is gone
            await sleep_or_stop(stop, poll)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
