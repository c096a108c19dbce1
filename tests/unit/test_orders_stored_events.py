"""The order service's event tables are complete, and events stored long ago still load."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from services.order_service.application import Orders
from services.order_service.bootstrap import service_events
from services.order_service.domain import Order, OrderStatus, order_id_for
from shared import events as ev
from shared.runtime.registry import event_classes
from tests import factories
from tests.factories_order_service import published, stored_events

OLD_MODULE = "services.order_service.domain"  # before the domain became a package


def stored_before_the_move(
    app: Orders, originator_id: UUID, version: int, name: str, state: dict[str, Any]
) -> StoredEvent:
    """An Order event as it was stored when Order lived in services/order_service/domain.py."""
    return StoredEvent(
        originator_id=originator_id,
        originator_version=version,
        topic=f"{OLD_MODULE}:Order.{name}",
        state=app.mapper.transcoder.encode({"timestamp": datetime.now(UTC), **state}),
    )


def test_the_order_services_event_tables_are_complete():
    events = service_events()
    events.check()
    assert set(events.publishes) == set(event_classes(Order))
    (projection,) = events.projections
    assert set(projection.handlers) == set(event_classes(Order))


def test_an_order_stored_under_the_old_module_topics_still_loads_and_publishes():
    app = Orders()
    order_id = order_id_for("web", "OLD-1")
    placed = {
        "originator_topic": f"{OLD_MODULE}:Order",
        "order_id": order_id,
        "channel": "web",
        "external_id": "OLD-1",
        "customer": factories.customer(),
        "shipping_address": factories.address(),
        "lines": factories.lines({"TEE": 2}),
        "currency": "EUR",
    }
    # A confirmation stored before it carried channel, external id and placing time.
    confirmed = {
        "allocations": factories.allocations({"TEE": 2}),
        "customer": factories.customer(),
        "shipping_address": factories.address(),
        "lines": factories.lines({"TEE": 2}),
    }
    app.recorder.insert_events(
        [
            stored_before_the_move(app, order_id, 1, "Placed", placed),
            stored_before_the_move(app, order_id, 2, "Confirmed", confirmed),
        ]
    )

    order = app.get_order(order_id)
    assert isinstance(order, Order)
    assert order.status == OrderStatus.CONFIRMED
    assert [type(e) for e in stored_events(app)] == [Order.Placed, Order.Confirmed]
    public_placed, public_confirmed = published(app)
    assert isinstance(public_placed, ev.OrderPlaced) and public_placed.external_id == "OLD-1"
    assert isinstance(public_confirmed, ev.OrderConfirmed)
    assert public_confirmed.channel is None and public_confirmed.placed_at is None

    app.cancel_order(order_id, "stored long ago, cancelled now")
    assert app.get_order(order_id).status == OrderStatus.CANCELLED
    new_topic = app.recorder.select_events(order_id)[-1].topic
    assert new_topic == "services.order_service.domain.order:Order.Cancelled"
