"""Base of every service's eventsourcing application: units of work with tracking."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, ProcessRecorder, Tracking

from shared.runtime.tracing import current_trace, stamp

T = TypeVar("T")
P = ParamSpec("P")
A = TypeVar("A", bound=Aggregate)
App = TypeVar("App", bound="ServiceApplication")
Owner = TypeVar("Owner")
MAX_CONFLICT_RETRIES = 30
CONFLICT_PAUSE_BASE = 0.002  # seconds; doubles per attempt
CONFLICT_PAUSE_MAX = 0.2


class UnitOfWork:
    """Aggregates changed together and saved in one transaction, with an optional tracking row."""

    def __init__(self, app: ServiceApplication, tracking: Tracking | None = None) -> None:
        self.app = app
        self.tracking = tracking
        self._aggregates: dict[UUID, Aggregate] = {}
        self._touched: set[UUID] = set()  # since the last stamp: only these can have new events

    def get(self, aggregate_id: UUID, kind: type[A]) -> A:
        """The aggregate, as changed so far in this unit; AggregateNotFoundError if unknown."""
        aggregate = self._aggregates.get(aggregate_id)
        if aggregate is None:
            aggregate = self.app.repository.get(aggregate_id)
            self._aggregates[aggregate_id] = aggregate
        self._touched.add(aggregate_id)
        if not isinstance(aggregate, kind):
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    def find(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The aggregate, or None when it does not exist yet."""
        try:
            return self.get(aggregate_id, kind)
        except AggregateNotFoundError:
            return None

    def add(self, aggregate: Aggregate) -> None:
        """Take a new aggregate into this unit."""
        self._aggregates[aggregate.id] = aggregate
        self._touched.add(aggregate.id)

    def stamp_pending(self) -> None:
        """Mark the not-yet-stamped pending events with the trace of the current work."""
        trace = current_trace()
        for aggregate_id in self._touched:
            pending = self._aggregates[aggregate_id].pending_events
            stamp([e for e in pending if not hasattr(e, "correlation_id")], trace)
        self._touched.clear()

    def commit(self) -> None:
        """Record all new events and the tracking row atomically."""
        self.stamp_pending()
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(self.tracking)
        processing_event.collect_events(*self._aggregates.values())
        try:
            recordings = self.app._record(processing_event)
        except IntegrityError:
            self.evict()
            raise
        self.app._take_snapshots(processing_event)
        self.app._notify(recordings)

    def evict(self) -> None:
        """Drop this unit's aggregates from the cache: another writer got there first."""
        cache = self.app.repository.cache
        if cache is not None:
            for aggregate_id in self._aggregates:
                with suppress(KeyError):
                    cache.get(aggregate_id, evict=True)


class ServiceApplication(Application[UUID]):
    """An application whose recorder also stores consumer tracking rows."""

    def construct_recorder(self) -> ProcessRecorder:
        """A process recorder, so events and tracking commit in one transaction."""
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        """The recorder, typed as a process recorder."""
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    @contextmanager
    def unit_of_work(self, uow: UnitOfWork | None = None) -> Iterator[UnitOfWork]:
        """Join the caller's unit of work, or open one and commit it at the end."""
        if uow is not None:
            yield uow
            return
        own = UnitOfWork(self)
        try:
            yield own
        except BaseException:
            own.evict()  # a failed command leaves nothing behind in the cache
            raise
        own.commit()


def conflict_pause(attempt: int) -> float:
    """How long to wait before retry `attempt` (0-based) after losing a write conflict.

    Random and growing: writers that collided on a hot aggregate (a counter, a busy SKU)
    spread out instead of colliding again in lockstep.
    """
    return random.uniform(0, min(CONFLICT_PAUSE_MAX, CONFLICT_PAUSE_BASE * 2**attempt))


def retry_on_conflict(command: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a command again, after a conflict pause, when a concurrent writer got there first."""
    for attempt in range(MAX_CONFLICT_RETRIES - 1):
        try:
            return command(*args, **kwargs)
        except IntegrityError:
            time.sleep(conflict_pause(attempt))
    return command(*args, **kwargs)


def use_case(method: Callable[Concatenate[Owner, P], T]) -> Callable[Concatenate[Owner, P], T]:
    """Mark an application method as a use case: retried on conflict when it owns its unit.

    A call that joins the caller's UnitOfWork (a consumer's batch, an intake group commit) is
    run once: the owner of that unit decides what a conflict means. A call of its own (an HTTP
    command) is retried whole, re-reading its aggregates, so routers never handle conflicts.
    A joined unit is passed as the method's last argument, named `uow`.
    """

    @functools.wraps(method)
    def run(owner: Owner, *args: P.args, **kwargs: P.kwargs) -> T:
        if _joins_a_unit(args, kwargs):
            return method(owner, *args, **kwargs)
        return retry_on_conflict(method, owner, *args, **kwargs)

    return cast("Callable[Concatenate[Owner, P], T]", run)


def _joins_a_unit(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    if isinstance(kwargs.get("uow"), UnitOfWork):
        return True
    return bool(args) and isinstance(args[-1], UnitOfWork)


class UseCases(Generic[App]):
    """A group of use cases of one application (one module of a grown `application/` room).

    The Application composes its groups as attributes (`self.picking = Picking(self)`), so use
    cases are grouped by module without mixins or inheritance chains.
    """

    def __init__(self, app: App) -> None:
        self.app = app
