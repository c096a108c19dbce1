"""One table per direction: the events a service consumes, publishes and projects.

Each service declares its tables once (in `integration` and `projections`) and bootstrap hands
them to `ServiceEvents`, which checks them at start-up: a consumed event the codec does not
know, a stored domain event without a publishing decision, or a projection that names events
it has no handler for stops the service with a message saying which, instead of being skipped
silently at run time. See docs/architecture.md, "Events in and out".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from eventsourcing.domain import Aggregate
from psycopg import Cursor

from shared.events.base import IntegrationEvent
from shared.events.models import EVENTS_BY_TYPE
from shared.runtime.application import UnitOfWork

DomainEvent = type[Aggregate.Event]
Handler = Callable[[Any, Any, UnitOfWork], None]
"""An inbound use case: (application, integration event, unit of work) -> None."""
Mapper = Callable[[Any], IntegrationEvent | None]
"""An outbound mapping: stored domain event -> its public integration event, or None when this
occurrence stays inside (a complete pick publishes nothing, a short one ShortPicked)."""
ProjectFn = Callable[[Cursor[Any], Any], None]
"""A view update: (cursor of the view's transaction, stored domain event) -> None."""


class Internal:
    """The decision that a domain event stays inside its service (published as nothing)."""

    def __repr__(self) -> str:
        return "INTERNAL"


INTERNAL = Internal()


class RegistryError(RuntimeError):
    """A service's event tables are incomplete or name what does not exist."""


class UnmappedEventError(RuntimeError):
    """A stored domain event reached the relay without a publishing decision."""


def event_classes(aggregate: type[Aggregate]) -> list[DomainEvent]:
    """The event classes an aggregate records (its nested Aggregate.Event subclasses)."""
    found = []
    for name, value in vars(aggregate).items():
        if not (isinstance(value, type) and issubclass(value, Aggregate.Event)):
            continue
        if name in ("Event", "Created") and not _recorded(aggregate, value):
            continue  # the library's generated bases, unless the aggregate records them
        found.append(value)
    return found


def _recorded(aggregate: type[Aggregate], event_class: type) -> bool:
    """True for a generated `Created` that the aggregate really records (no own creation event)."""
    return event_class.__name__ == "Created" and not any(
        issubclass(other, Aggregate.Created) and other is not event_class
        for other in vars(aggregate).values()
        if isinstance(other, type)
    )


@dataclass(frozen=True)
class Projection:
    """A read model's handlers: every event of `aggregates` is handled or listed as ignored.

    `every` runs after the specific handler for each covered event (e.g. a timeline row).
    Events of other aggregates in the same store are not this projection's business.
    """

    name: str
    aggregates: Sequence[type[Aggregate]]
    handlers: Mapping[DomainEvent, ProjectFn]
    ignores: frozenset[DomainEvent] = frozenset()
    every: ProjectFn | None = None

    def __call__(self, curs: Cursor[Any], event: Any) -> None:
        """Apply one stored event to the view (a no-op for events of other aggregates)."""
        kind = type(event)
        if kind not in self.covered:
            return
        handler = self.handlers.get(kind)
        if handler is not None:
            handler(curs, event)
        elif kind not in self.ignores:
            raise UnmappedEventError(f"projection {self.name} has no handler for {_name(event)}")
        if self.every is not None:
            self.every(curs, event)

    @cached_property
    def covered(self) -> frozenset[DomainEvent]:
        """Every event class this projection covers."""
        return frozenset(_all_events(self.aggregates))

    def problems(self) -> list[str]:
        """What is wrong with this projection's table (empty when it is complete)."""
        covered = set(self.covered)
        named = set(self.handlers) | set(self.ignores)
        found = [
            f"projection {self.name} has no handler for {_qualname(e)} "
            "(handle it or list it in `ignores`)"
            for e in sorted(covered - named, key=_qualname)
        ]
        found += [
            f"projection {self.name} names {_qualname(e)}, which none of its aggregates records"
            for e in sorted(named - covered, key=_qualname)
        ]
        return found


@dataclass(frozen=True)
class ServiceEvents:
    """What one service consumes (-> use case), publishes (domain -> integration) and projects."""

    service: str
    aggregates: Sequence[type[Aggregate]]
    consumes: Mapping[type[IntegrationEvent], Handler] = field(default_factory=dict)
    publishes: Mapping[DomainEvent, Mapper | Internal] = field(default_factory=dict)
    topic: str | None = None
    projections: Sequence[Projection] = ()

    def check(self) -> None:
        """Raise RegistryError listing every gap; called once when the service starts."""
        problems = self._consumed_problems() + self._published_problems()
        for projection in self.projections:
            problems += projection.problems()
        if problems:
            raise RegistryError(
                f"{self.service} cannot start, its event tables are incomplete:\n- "
                + "\n- ".join(problems)
            )

    def to_integration(self, domain_event: Any) -> IntegrationEvent | None:
        """The public event for a stored domain event, or None when it stays internal."""
        mapper = self.publishes.get(type(domain_event))
        if mapper is None:
            raise UnmappedEventError(
                f"{self.service} stored {_name(domain_event)} but has no publishing decision for it"
            )
        return None if isinstance(mapper, Internal) else mapper(domain_event)

    @property
    def consumed_topics(self) -> list[str]:
        """The topics carrying the events this service handles."""
        return sorted({event.topic for event in self.consumes})

    def _consumed_problems(self) -> list[str]:
        problems = []
        for event_class in self.consumes:
            if EVENTS_BY_TYPE.get(event_class.event_type()) is not event_class:
                problems.append(
                    f"consumes {event_class.__name__}, which the codec does not know "
                    "(add it to EVENT_CLASSES in shared/events/models.py)"
                )
            elif not event_class.topic:
                problems.append(f"consumes {event_class.__name__}, which names no topic")
        return problems

    def _published_problems(self) -> list[str]:
        recorded = set(_all_events(self.aggregates))
        problems = [
            f"records {_qualname(e)} with no publishing decision "
            "(map it to an integration event or mark it INTERNAL)"
            for e in sorted(recorded - set(self.publishes), key=_qualname)
        ]
        problems += [
            f"publishes {_qualname(e)}, which none of its aggregates records"
            for e in sorted(set(self.publishes) - recorded, key=_qualname)
        ]
        if self.topic is None and any(not isinstance(m, Internal) for m in self.publishes.values()):
            problems.append("maps domain events to integration events but names no topic")
        return problems


def _all_events(aggregates: Iterable[type[Aggregate]]) -> list[DomainEvent]:
    return [e for aggregate in aggregates for e in event_classes(aggregate)]


def _qualname(event_class: type) -> str:
    return event_class.__qualname__


def _name(event: Any) -> str:
    return _qualname(type(event))
