"""Correlation and causation ids, carried from a request or message to the events it causes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import structlog


@dataclass(frozen=True)
class Trace:
    """Which request or message caused the work now being done."""

    correlation_id: str | None = None
    causation_id: str | None = None


_NO_TRACE = Trace()
_current: ContextVar[Trace] = ContextVar("oms_trace", default=_NO_TRACE)


def current_trace() -> Trace:
    """The trace of the work in progress."""
    return _current.get()


@contextmanager
def traced(correlation_id: str | None, causation_id: str | None = None) -> Iterator[Trace]:
    """Run a block under a trace; logs inside it carry the correlation id."""
    trace = Trace(correlation_id, causation_id)
    token = _current.set(trace)
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
        try:
            yield trace
        finally:
            _current.reset(token)


def stamp(events: Sequence[object], trace: Trace) -> None:
    """Attach the trace to domain events before they are stored.

    eventsourcing stores an event's __dict__ and restores it without calling __init__, so
    the ids ride along in the event store and the relay can put them on the CloudEvent
    without the domain model knowing about them.
    """
    for event in events:
        object.__setattr__(event, "correlation_id", trace.correlation_id)
        object.__setattr__(event, "causation_id", trace.causation_id)
