"""Base of every service's eventsourcing application: units of work with tracking."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager, suppress
from copy import deepcopy
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import Aggregate, TDomainEvent, TMutableOrImmutableAggregate
from eventsourcing.persistence import IntegrityError, ProcessRecorder, Recording, Tracking
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Identifier

from shared.runtime.tracing import current_trace, stamp

T = TypeVar("T")
P = ParamSpec("P")
A = TypeVar("A", bound=Aggregate)
App = TypeVar("App", bound="ServiceApplication")
Owner = TypeVar("Owner")
MAX_CONFLICT_RETRIES = 30
CONFLICT_PAUSE_BASE = 0.002  # seconds; doubles per attempt
CONFLICT_PAUSE_MAX = 0.2


class StaleReadError(IntegrityError):
    """An aggregate a unit decided on, read from the cache, was changed by another writer."""

    def __init__(self, behind: list[UUID]) -> None:
        super().__init__(f"{len(behind)} cached aggregates changed since read: {behind}")
        self.behind = behind


class UnitOfWork:
    """Aggregates changed together and saved in one transaction, with an optional tracking row.

    Aggregates come from the application's cache when it has them, without a query: one this
    unit changes is guarded by the version conflict on insert; one it only read is checked
    at commit (one query for all of them), so no decision rests on a copy that another
    instance or another command has since changed.
    """

    def __init__(self, app: ServiceApplication, tracking: Tracking | None = None) -> None:
        self.app = app
        self.tracking = tracking
        self._aggregates: dict[UUID, Aggregate] = {}
        self._touched: set[UUID] = set()  # since the last stamp: only these can have new events
        self._cached: set[UUID] = set()  # served from the cache: possibly behind the store

    def get(self, aggregate_id: UUID, kind: type[A]) -> A:
        """The aggregate, as changed so far in this unit; AggregateNotFoundError if unknown."""
        aggregate = self._aggregates.get(aggregate_id)
        if aggregate is None:
            aggregate, cached = self.app.repository.recall(aggregate_id)
            self._aggregates[aggregate_id] = aggregate
            if cached:
                self._cached.add(aggregate_id)
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

    def changed(self, kind: type[A]) -> list[A]:
        """The aggregates of this kind that have new events in this unit."""
        return [a for a in self._aggregates.values() if isinstance(a, kind) and a.pending_events]

    def stamp_pending(self) -> None:
        """Mark the not-yet-stamped pending events with the trace of the current work."""
        trace = current_trace()
        for aggregate_id in self._touched:
            pending = self._aggregates[aggregate_id].pending_events
            stamp([e for e in pending if not hasattr(e, "correlation_id")], trace)
        self._touched.clear()

    def commit(self, *, unless_unchanged: bool = False) -> bool:
        """Record all new events and the tracking row atomically; True if recorded.

        Only the aggregates this unit changed go back into the cache; raises StaleReadError
        (a conflict: the owner retries on fresh state) when one it only read changed meanwhile.
        With `unless_unchanged`, a unit that changed nothing records nothing (not even its
        tracking row: a consumer reads such messages past), its reads still checked.
        """
        self.app.before_commit(self)
        self.stamp_pending()
        changed = [a for a in self._aggregates.values() if a.pending_events]
        read = {i: a.version for i, a in self._aggregates.items() if not a.pending_events}
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(self.tracking)
        try:
            self._check_reads({i: v for i, v in read.items() if i in self._cached})
            if unless_unchanged and not changed:
                return False
            processing_event.collect_events(*changed)
            recordings = self.app._record(processing_event)
        except StaleReadError as stale:
            self.evict(stale.behind)
            raise
        except IntegrityError:
            self.evict()
            raise
        self.app._take_snapshots(processing_event)
        self.app._notify(recordings)
        return True

    def _check_reads(self, versions: dict[UUID, int]) -> None:
        """Raise StaleReadError if a cached aggregate this unit only read is behind the store.

        Why: the cache is not fast-forwarded, and nothing else would notice that a closed
        location, say, is still open in this instance's memory. Another writer can still
        commit between this check and the insert; that is the race of two concurrent
        commands, not a copy that stays stale.
        """
        if not versions:
            return
        stored = self.app.stored_versions(versions)
        behind = [i for i, version in versions.items() if stored.get(i) != version]
        if behind:
            raise StaleReadError(behind)

    @property
    def read_from_cache(self) -> list[UUID]:
        """The aggregates this unit got from the cache (another instance may have changed them
        since): a refusal decided on them is not final until decided again on fresh copies."""
        return sorted(self._cached)

    def evict(self, aggregate_ids: Iterable[UUID] | None = None) -> None:
        """Drop this unit's aggregates (or these) from the cache: another writer got there first."""
        cache = self.app.repository.cache
        if cache is not None:
            for aggregate_id in self._aggregates if aggregate_ids is None else aggregate_ids:
                with suppress(KeyError):
                    cache.get(aggregate_id, evict=True)


class ServiceRepository(Repository[UUID]):
    """A repository whose cache only ever moves forward, and whose plain reads are fresh.

    The cache is never fast-forwarded in place (that would need a query per read on the
    consumer's hot path). Instead: a cached aggregate is never mutated (every read gets a
    copy), an entry is only replaced by a newer version, units of work check what they only
    read at commit (see UnitOfWork), and `get` (queries) brings its copy up to date.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._remember_lock = threading.Lock()

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: ProjectorFunction[
            TMutableOrImmutableAggregate, TDomainEvent
        ] = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> TMutableOrImmutableAggregate:
        """The aggregate as stored now (a cached copy costs one query for what is newer)."""
        if version is not None or self.cache is None:
            return super().get(aggregate_id, version=version, projector_func=projector_func)
        aggregate, cached = self.recall(aggregate_id, projector_func)
        if cached:
            newer = list(self.event_store.get(aggregate_id, gt=aggregate.version))
            if newer:
                fresh = projector_func(aggregate, cast("Iterable[TDomainEvent]", newer))
                if fresh is None:
                    raise AggregateNotFoundError(aggregate_id)
                aggregate = fresh
                self.remember(deepcopy(fresh))
        return aggregate

    def recall(
        self,
        aggregate_id: UUID,
        projector_func: ProjectorFunction[
            TMutableOrImmutableAggregate, TDomainEvent
        ] = project_aggregate,
    ) -> tuple[TMutableOrImmutableAggregate, bool]:
        """A private copy of the aggregate and whether it came from the cache (then it may be
        behind what other writers stored); AggregateNotFoundError if it was never stored."""
        if self.cache is not None:
            try:
                cached = cast("TMutableOrImmutableAggregate", self.cache.get(aggregate_id))
                return deepcopy(cached), True
            except KeyError:
                pass
        aggregate = self._reconstruct_aggregate(aggregate_id, None, projector_func)
        if self.cache is None:
            return aggregate, False
        self.remember(aggregate)
        return deepcopy(aggregate), False

    def remember(self, aggregate: Any) -> None:
        """Cache this version unless a newer one is cached already: the cache never goes back."""
        if self.cache is None:
            return
        with self._remember_lock:
            try:
                current = self.cache.get(aggregate.id)
            except KeyError:
                current = None
            if current is None or current.version < aggregate.version:
                self.cache.put(aggregate.id, aggregate)


class ServiceApplication(Application[UUID]):
    """An application whose recorder also stores consumer tracking rows."""

    repository: ServiceRepository

    def construct_recorder(self) -> ProcessRecorder:
        """A process recorder, so events and tracking commit in one transaction."""
        return self.factory.process_recorder()

    def construct_repository(self) -> ServiceRepository:
        """The repository with a forward-only cache (ServiceRepository), sized by the env."""
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return ServiceRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=False,  # ServiceRepository fast-forwards copies, never the cache
        )

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Record the events; the aggregates that recorded them go into the cache if newer."""
        recordings = self.events.put(
            processing_event.events,
            tracking=processing_event.tracking,
            **processing_event.saved_kwargs,
        )
        written = {event.originator_id for event in processing_event.events}
        for aggregate_id, aggregate in processing_event.aggregates.items():
            if aggregate_id in written:
                self.repository.remember(aggregate)
        return recordings

    def stored_versions(self, aggregate_ids: Collection[UUID]) -> dict[UUID, int]:
        """The stored version of each of these aggregates, in one query on PostgreSQL."""
        recorder = self.recorder
        if not isinstance(recorder, PostgresAggregateRecorder):
            found = {i: recorder.select_events(i, desc=True, limit=1) for i in aggregate_ids}
            return {i: events[0].originator_version for i, events in found.items() if events}
        query = SQL(
            "SELECT originator_id, max(originator_version) AS version FROM {}.{}"
            " WHERE originator_id = ANY(%s) GROUP BY originator_id"
        ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        # One statement on an autocommit connection: one round trip, no BEGIN/ROLLBACK.
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, (list(aggregate_ids),), prepare=True)
            return {row["originator_id"]: row["version"] for row in curs.fetchall()}

    def before_commit(self, work: UnitOfWork) -> None:
        """A last word on a unit's changes before they are recorded (nothing by default)."""

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
