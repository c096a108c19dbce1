"""A service's event tables are checked when it starts: gaps stop it, naming what is missing."""

from __future__ import annotations

from typing import ClassVar

import pytest
from eventsourcing.domain import Aggregate, event

from shared import events as ev
from shared.events import topics
from shared.runtime.registry import (
    INTERNAL,
    Projection,
    RegistryError,
    ServiceEvents,
    UnmappedEventError,
    event_classes,
)


class Parcel(Aggregate):
    """A tiny aggregate with explicit event classes."""

    class Registered(Aggregate.Created):
        label: str

    class Weighed(Aggregate.Event):
        grams: int

    @event(Registered)
    def __init__(self, label: str) -> None:
        self.label = label
        self.grams = 0

    @event(Weighed)
    def weigh(self, grams: int) -> None:
        self.grams = grams


class Counter(Aggregate):
    """An aggregate created by the library's own Created event."""

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose


class Unregistered(ev.IntegrationEvent):
    """An integration event missing from EVENT_CLASSES."""

    topic: ClassVar[str] = topics.ORDERS
    key_field: ClassVar[str] = "order_id"
    order_id: str


def _ignore(*_: object) -> None:
    return None


def _parcel_events(**overrides: object) -> ServiceEvents:
    fields: dict[str, object] = {
        "service": "parcels",
        "aggregates": [Parcel],
        "consumes": {ev.OrderPlaced: _ignore},
        "publishes": {Parcel.Registered: INTERNAL, Parcel.Weighed: INTERNAL},
        "projections": [
            Projection(
                name="parcels",
                aggregates=[Parcel],
                handlers={Parcel.Registered: _ignore},
                ignores=frozenset({Parcel.Weighed}),
            )
        ],
    }
    return ServiceEvents(**(fields | overrides))  # type: ignore[arg-type]


def test_complete_tables_pass_the_check():
    _parcel_events().check()


def test_the_event_classes_of_an_aggregate_are_its_own_and_the_generated_created_only_if_used():
    assert set(event_classes(Parcel)) == {Parcel.Registered, Parcel.Weighed}
    assert event_classes(Counter) == [Counter.Created]


def test_a_consumed_event_unknown_to_the_codec_stops_the_service():
    tables = _parcel_events(consumes={Unregistered: _ignore})
    with pytest.raises(RegistryError, match="consumes Unregistered, which the codec does not know"):
        tables.check()


def test_a_recorded_domain_event_without_a_publishing_decision_stops_the_service():
    tables = _parcel_events(publishes={Parcel.Registered: INTERNAL})
    with pytest.raises(RegistryError, match=r"records Parcel\.Weighed with no publishing decision"):
        tables.check()


def test_a_projection_that_leaves_an_event_unhandled_stops_the_service():
    projection = Projection(name="parcels", aggregates=[Parcel], handlers={})
    with pytest.raises(RegistryError, match=r"parcels has no handler for Parcel\.Weighed"):
        _parcel_events(projections=[projection]).check()


def test_a_projection_naming_an_event_of_another_aggregate_stops_the_service():
    projection = Projection(
        name="parcels",
        aggregates=[Parcel],
        handlers={Parcel.Registered: _ignore, Parcel.Weighed: _ignore, Counter.Created: _ignore},
    )
    with pytest.raises(RegistryError, match=r"names Counter\.Created, which none of its"):
        _parcel_events(projections=[projection]).check()


def test_the_relay_refuses_a_stored_event_without_a_decision_instead_of_skipping_it():
    tables = _parcel_events(publishes={})
    parcel = Parcel(label="box")
    with pytest.raises(UnmappedEventError, match=r"Parcel\.Registered"):
        tables.to_integration(parcel.collect_events()[0])


def test_an_internal_event_publishes_nothing_and_a_mapped_one_its_integration_event():
    parcel = Parcel(label="box")
    parcel.weigh(grams=500)
    registered, weighed = parcel.collect_events()
    mapped = ev.StockLevelChanged(
        sku="BOX",
        location_id="WH-1",
        on_hand=1,
        reserved=0,
        available=1,
        reason="receipt",
        changed_at=ev.now_utc(),
    )
    tables = _parcel_events(
        topic=topics.INVENTORY,
        publishes={Parcel.Registered: INTERNAL, Parcel.Weighed: lambda e: mapped},
    )
    assert tables.to_integration(registered) is None
    assert tables.to_integration(weighed) is mapped


def test_a_projection_applies_its_handler_then_every_and_leaves_other_aggregates_alone():
    seen: list[str] = []
    projection = Projection(
        name="parcels",
        aggregates=[Parcel],
        handlers={Parcel.Registered: lambda curs, e: seen.append(f"registered {e.label}")},
        ignores=frozenset({Parcel.Weighed}),
        every=lambda curs, e: seen.append(type(e).__name__),
    )
    parcel = Parcel(label="box")
    parcel.weigh(grams=500)
    for stored in [*parcel.collect_events(), *Counter(purpose="x").collect_events()]:
        projection(None, stored)  # type: ignore[arg-type]
    assert seen == ["registered box", "Registered", "Weighed"]
