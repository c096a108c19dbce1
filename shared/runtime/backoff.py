"""Retry with exponential backoff for transient failures (database or broker down)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
import structlog
from aiokafka.errors import KafkaError
from eventsourcing.persistence import InterfaceError, OperationalError

from shared.runtime.metrics import RETRIES

T = TypeVar("T")
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    KafkaError,
    ConnectionError,
    TimeoutError,
)
log = structlog.get_logger()


async def retry_transient(
    worker: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    max_delay: float = 10.0,
    errors: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
) -> T:
    """Await the attempt until it succeeds; `errors` are retried forever, never skipped."""
    delay = 0.1
    while True:
        try:
            return await attempt()
        except errors as error:
            RETRIES.labels(worker).inc()
            log.warning("transient failure, retrying", worker=worker, error=str(error), delay=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
