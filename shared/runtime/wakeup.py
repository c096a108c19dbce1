"""Wakes the relay and projections when their application stores new events (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
import structlog
from psycopg import sql

log = structlog.get_logger()


class NewEventsSignal:
    """Sets every subscriber's event when PostgreSQL notifies the application's channel.

    eventsourcing sends NOTIFY on its channel with every insert, from any instance, so idle
    workers can sleep instead of polling the database every few milliseconds.
    """

    def __init__(self, database_url: str, channel: str) -> None:
        self.database_url = database_url
        self.channel = channel
        self._subscribers: list[asyncio.Event] = []

    def subscribe(self) -> asyncio.Event:
        """An event set on every notification (starts set, so the first look is immediate)."""
        event = asyncio.Event()
        event.set()
        self._subscribers.append(event)
        return event

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until stopped; reconnects after a lost connection."""
        while not stop.is_set():
            try:
                await self._listen(stop)
            except psycopg.OperationalError as error:
                log.warning("listen connection lost", channel=self.channel, error=str(error))
                self._wake_all()  # a notification may have been missed: look once
                await asyncio.sleep(1.0)

    async def _listen(self, stop: asyncio.Event) -> None:
        async with await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True
        ) as conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            while not stop.is_set():
                async for _ in conn.notifies(timeout=1.0, stop_after=1):
                    self._wake_all()

    def _wake_all(self) -> None:
        for event in self._subscribers:
            event.set()


async def wait_for_work(wakeup: asyncio.Event | None, stop: asyncio.Event, idle: float) -> None:
    """Sleep until woken, stopped, or `idle` seconds passed (the fallback poll)."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if wakeup is not None:
        waiters.append(asyncio.ensure_future(wakeup.wait()))
    _, pending = await asyncio.wait(waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
