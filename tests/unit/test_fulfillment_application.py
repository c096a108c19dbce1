"""Fulfillment use cases and event handlers on the in-memory event store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from services.fulfillment_service import integration
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.domain import (
    CANCELLED,
    OPEN,
    SHIPPED,
    ShipmentNotFoundError,
    shipment_id_for,
)
from shared import events as ev
from shared.events import now_utc
from shared.runtime.application import UnitOfWork

CUSTOMER = {"name": "Ada Lovelace", "email": "ada@example.com"}
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}
TWO_LOCATIONS = [
    {"sku": "SKU-1", "location_id": "WH-1", "quantity": 2},
    {"sku": "SKU-2", "location_id": "WH-2", "quantity": 1},
    {"sku": "SKU-3", "location_id": "WH-1", "quantity": 4},
]


@pytest.fixture
def app() -> Iterator[Shipments]:
    """The application on the in-memory store."""
    application = Shipments()
    yield application
    application.close()


def confirmed(order_id: uuid.UUID, allocations: list[dict] = TWO_LOCATIONS) -> ev.OrderConfirmed:
    """An OrderConfirmed as the order service publishes it."""
    skus = {a["sku"] for a in allocations}
    return ev.OrderConfirmed(
        order_id=order_id,
        customer=CUSTOMER,
        shipping_address=ADDRESS,
        lines=[{"sku": s, "quantity": 1, "unit_price": "9.90"} for s in sorted(skus)],
        allocations=allocations,
        confirmed_at=now_utc(),
    )


def cancelled(
    order_id: uuid.UUID, reason: str = "customer changed their mind"
) -> ev.OrderCancelled:
    """An OrderCancelled as the order service publishes it."""
    return ev.OrderCancelled(
        order_id=order_id, channel="web", external_id="W-1", reason=reason, cancelled_at=now_utc()
    )


def handle(app: Shipments, event: ev.IntegrationEvent) -> None:
    """Apply one inbound event the way the consumer does: its handler in a committed unit."""
    uow = UnitOfWork(app)
    integration.HANDLERS[type(event)](app, event, uow)
    uow.commit()


def published(app: Shipments, after: int = 0) -> list[ev.IntegrationEvent]:
    """The integration events the relay would publish for everything stored after a position."""
    notifications = app.recorder.select_notifications(after + 1, 10_000)
    mapped = (integration.to_integration(app.mapper.to_domain_event(n)) for n in notifications)
    return [e for e in mapped if e is not None]


def last_position(app: Shipments) -> int:
    """The id of the last stored event."""
    return app.recorder.max_notification_id() or 0


def test_a_confirmed_order_gets_one_shipment_per_allocated_location(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))

    created = published(app)
    assert all(isinstance(e, ev.ShipmentCreated) for e in created)
    by_location = {e.location_id: e for e in created}
    assert set(by_location) == {"WH-1", "WH-2"}
    wh1 = by_location["WH-1"]
    assert wh1.shipment_id == shipment_id_for(order_id, "WH-1")
    assert wh1.order_id == order_id
    assert [(line.sku, line.quantity) for line in wh1.lines] == [("SKU-1", 2), ("SKU-3", 4)]
    assert wh1.ship_to.model_dump(exclude_none=True) == ADDRESS
    shipment = app.get_shipment(wh1.shipment_id)
    assert (shipment.status, shipment.customer_name) == (OPEN, "Ada Lovelace")


def test_a_redelivered_confirmation_creates_nothing_new(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    position = last_position(app)

    handle(app, confirmed(order_id))
    handle(app, confirmed(order_id, [{"sku": "SKU-9", "location_id": "WH-9", "quantity": 1}]))

    assert last_position(app) == position


def test_cancelling_an_order_cancels_only_its_unshipped_shipments(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    app.ship(shipment_id_for(order_id, "WH-1"), "UPS", "1Z999")
    position = last_position(app)

    handle(app, cancelled(order_id, "fraud review failed"))

    events = published(app, position)
    assert [type(e) for e in events] == [ev.ShipmentCancelled]
    assert (events[0].shipment_id, events[0].reason) == (
        shipment_id_for(order_id, "WH-2"),
        "fraud review failed",
    )
    assert app.get_shipment(shipment_id_for(order_id, "WH-1")).status == SHIPPED
    assert app.get_shipment(shipment_id_for(order_id, "WH-2")).status == CANCELLED


def test_a_redelivered_cancellation_records_nothing(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    handle(app, cancelled(order_id))
    position = last_position(app)

    handle(app, cancelled(order_id))

    assert last_position(app) == position


def test_a_confirmation_after_the_cancellation_creates_no_shipment(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, cancelled(order_id))
    handle(app, confirmed(order_id))

    assert published(app) == []
    index = app.get_order_shipments(order_id)
    assert index is not None and index.cancelled and index.shipment_ids == []
    with pytest.raises(ShipmentNotFoundError):
        app.get_shipment(shipment_id_for(order_id, "WH-1"))


def test_shipping_publishes_shipped_with_lines_location_and_tracking(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    shipment_id = shipment_id_for(order_id, "WH-2")
    position = last_position(app)

    shipment = app.ship(shipment_id, "DHL", "JD0001")

    [shipped] = published(app, position)
    assert isinstance(shipped, ev.Shipped)
    assert (shipped.shipment_id, shipped.order_id, shipped.location_id) == (
        shipment_id,
        order_id,
        "WH-2",
    )
    assert (shipped.carrier, shipped.tracking_number) == ("DHL", "JD0001")
    assert [(line.sku, line.quantity) for line in shipped.lines] == [("SKU-2", 1)]
    assert shipped.shipped_at == shipment.shipped_at


def test_shipping_an_unknown_shipment_is_refused(app: Shipments) -> None:
    with pytest.raises(ShipmentNotFoundError):
        app.ship(uuid.uuid4(), "UPS", "1Z999")


def test_an_order_index_id_is_not_a_shipment(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    index = app.get_order_shipments(order_id)
    assert index is not None
    position = last_position(app)

    with pytest.raises(ShipmentNotFoundError):
        app.ship(index.id, "UPS", "1Z999")
    assert last_position(app) == position


def test_the_order_index_is_not_published(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    handle(app, cancelled(order_id))

    stored = app.recorder.select_notifications(1, 100)
    assert len(stored) > len(published(app))  # the index's own events stay inside
    assert {type(e) for e in published(app)} == {ev.ShipmentCreated, ev.ShipmentCancelled}
