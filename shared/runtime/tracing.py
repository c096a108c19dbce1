"""Correlation and causation ids, carried from a request or message to the events it causes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

import structlog


@dataclass(frozen=True)
class Trace:
    """Which request or message caused the work now being done."""

    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None  # who asked: a user or machine client, carried from event to event


_NO_TRACE = Trace()
_current: ContextVar[Trace] = ContextVar("oms_trace", default=_NO_TRACE)


def current_trace() -> Trace:
    """The trace of the work in progress."""
    return _current.get()


@contextmanager
def traced(
    correlation_id: str | None, causation_id: str | None = None, actor: str | None = None
) -> Iterator[Trace]:
    """Run a block under a trace; logs inside it carry the correlation id (and the actor)."""
    trace = Trace(correlation_id, causation_id, actor)
    token = _current.set(trace)
    names = {"correlation_id": correlation_id} | ({"actor": actor} if actor else {})
    with structlog.contextvars.bound_contextvars(**names):
        try:
            yield trace
        finally:
            _current.reset(token)


def act_as(actor: str) -> None:
    """Name the caller of the request in progress: the events it causes record them."""
    _current.set(replace(_current.get(), actor=actor))
    structlog.contextvars.bind_contextvars(actor=actor)


def stamp(events: Sequence[object], trace: Trace) -> None:
    """Attach the trace to domain events before they are stored.

    eventsourcing stores an event's __dict__ and restores it without calling __init__, so
    the ids ride along in the event store and the relay can put them on the CloudEvent
    without the domain model knowing about them.
    """
    for event in events:
        object.__setattr__(event, "correlation_id", trace.correlation_id)
        object.__setattr__(event, "causation_id", trace.causation_id)
        if trace.actor is not None:  # absent, not None: events stored before stay as they were
            object.__setattr__(event, "actor", trace.actor)
