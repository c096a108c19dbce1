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
# SQLSTATEs of failures that pass: a lost or refused connection (class 08), a server shutting
# down or starting (57P01-03), a primary demoted to a read-only standby by a failover (25006),
# a serialization failure or deadlock (40001, 40P01), too many connections (53300).
TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "25006", "40001", "40P01", "53300"})
log = structlog.get_logger()


def is_transient(error: BaseException) -> bool:
    """Whether an error, or one it explicitly wraps, is a failure that passes (retry it).

    eventsourcing re-raises psycopg's errors as its own (a read-only transaction after a
    failover arrives as its InternalError), so the chain of causes is read, not only the type.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TRANSIENT_ERRORS):
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate.startswith("08") or sqlstate in TRANSIENT_SQLSTATES
        ):
            return True
        current = current.__cause__
    return False


async def retry_transient(
    worker: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    max_delay: float = 10.0,
    errors: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
) -> T:
    """Await the attempt until it succeeds; `errors` and transient failures (`is_transient`)
    are retried forever, never skipped."""
    delay = 0.1
    while True:
        try:
            return await attempt()
        except Exception as error:
            if not (isinstance(error, errors) or is_transient(error)):
                raise
            RETRIES.labels(worker).inc()
            log.warning("transient failure, retrying", worker=worker, error=str(error), delay=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
