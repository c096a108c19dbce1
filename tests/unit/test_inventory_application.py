"""Inventory use cases and integration handlers on the in-memory event store."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from services.inventory_service import domain
from services.inventory_service.application import Inventory
from services.inventory_service.domain import (
    InsufficientStockError,
    LocationConflictError,
    LocationNotFoundError,
    Reservation,
    reservation_id_for,
)
from services.inventory_service.integration import HANDLERS, to_integration
from shared import events as ev
from shared.events.base import now_utc
from shared.runtime.application import UnitOfWork

# -- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def app() -> Inventory:
    """An Inventory on the in-memory store with two German locations and one Dutch one."""
    inventory = Inventory()
    inventory.register_location("berlin", "Berlin", "DE", 20)
    inventory.register_location("hamburg", "Hamburg", "DE", 10)
    inventory.register_location("venlo", "Venlo", "NL", 1)
    return inventory


def apply(app: Inventory, event: ev.IntegrationEvent) -> None:
    """Apply one integration event the way the consumer does: handler + unit of work."""
    uow = UnitOfWork(app)
    HANDLERS[type(event)](app, event, uow)
    uow.commit()


def placed(*lines: tuple[str, int], country: str = "DE") -> ev.OrderPlaced:
    return ev.OrderPlaced(
        order_id=uuid4(),
        channel="web",
        external_id=uuid4().hex,
        customer={"name": "Ada", "email": "ada@example.com"},
        shipping_address={
            "name": "Ada",
            "line1": "Main St 1",
            "city": "Town",
            "postal_code": "12345",
            "country": country,
        },
        lines=[{"sku": sku, "quantity": q, "unit_price": "9.90"} for sku, q in lines],
        currency="EUR",
        placed_at=now_utc(),
    )


def cancelled(order_id: UUID) -> ev.OrderCancelled:
    return ev.OrderCancelled(
        order_id=order_id,
        channel="web",
        external_id="x",
        reason="customer asked",
        cancelled_at=now_utc(),
    )


def shipped(order_id: UUID, location_id: str, *lines: tuple[str, int]) -> ev.Shipped:
    return ev.Shipped(
        shipment_id=uuid4(),
        order_id=order_id,
        location_id=location_id,
        carrier="DHL",
        tracking_number="T1",
        lines=[{"sku": sku, "quantity": q} for sku, q in lines],
        shipped_at=now_utc(),
    )


def returned(order_id: UUID, *lines: tuple[str, int, str, str]) -> ev.ReturnReceived:
    return ev.ReturnReceived(
        return_id=uuid4(),
        order_id=order_id,
        lines=[
            {"sku": sku, "quantity": q, "condition": condition, "location_id": loc}
            for sku, q, condition, loc in lines
        ],
        received_at=now_utc(),
    )


def published(app: Inventory, after: int = 0) -> list[ev.IntegrationEvent]:
    """The integration events the relay would publish for what was stored after a position."""
    notifications = app.recorder.select_notifications(after + 1, 10_000)
    mapped = [to_integration(app.mapper.to_domain_event(n)) for n in notifications]
    return [e for e in mapped if e is not None]


def position(app: Inventory) -> int:
    return app.recorder.max_notification_id() or 0


def status(app: Inventory, order_id: UUID) -> str:
    reservation = app.repository.get(reservation_id_for(order_id))
    assert isinstance(reservation, Reservation)
    return reservation.status


def levels(app: Inventory, sku: str, location_id: str) -> tuple[int, int]:
    stock = app.get_stock(sku)
    return stock.on_hand(location_id), stock.reserved(location_id)


def of_type(events: list[Any], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


# -- locations and movements -------------------------------------------------------------------


def test_registering_the_same_location_again_is_harmless_but_different_data_conflicts(
    app: Inventory,
) -> None:
    _, created = app.register_location("berlin", "Berlin", "DE", 20)
    assert not created
    with pytest.raises(LocationConflictError):
        app.register_location("berlin", "Berlin Mitte", "DE", 20)


def test_a_receipt_at_an_unknown_location_is_refused_and_records_nothing(app: Inventory) -> None:
    before = position(app)
    with pytest.raises(LocationNotFoundError):
        app.receive_stock("paris", "A", 5)
    assert position(app) == before


def test_a_retried_receipt_with_the_same_idempotency_key_is_recorded_once(app: Inventory) -> None:
    first, _ = app.receive_stock("berlin", "A", 5, "PO-1", idempotency_key="k1")
    again, _ = app.receive_stock("berlin", "A", 5, "PO-1", idempotency_key="k1")
    app.receive_stock("berlin", "A", 5, "PO-2")
    assert first == again
    assert levels(app, "A", "berlin") == (10, 0)


def test_a_receipt_publishes_the_new_stock_level(app: Inventory) -> None:
    before = position(app)
    app.receive_stock("berlin", "A", 5)
    (change,) = of_type(published(app, before), ev.StockLevelChanged)
    assert (change.sku, change.location_id, change.reason) == ("A", "berlin", "receipt")
    assert (change.on_hand, change.reserved, change.available) == (5, 0, 5)


def test_an_adjustment_below_reserved_is_refused_and_records_nothing(app: Inventory) -> None:
    app.receive_stock("berlin", "A", 3)
    apply(app, placed(("A", 2)))
    before = position(app)
    with pytest.raises(InsufficientStockError):
        app.adjust_stock("berlin", "A", -2, "count")
    assert position(app) == before
    assert levels(app, "A", "berlin") == (3, 2)


# -- reserving ---------------------------------------------------------------------------------


def test_an_order_is_reserved_at_the_preferred_location_of_its_country(app: Inventory) -> None:
    for loc in ("berlin", "hamburg", "venlo"):
        app.receive_stock(loc, "A", 5)
    order = placed(("A", 2))
    before = position(app)
    apply(app, order)
    (reserved,) = of_type(published(app, before), ev.StockReserved)
    assert reserved.order_id == order.order_id
    assert [a.model_dump() for a in reserved.allocations] == [
        {"sku": "A", "location_id": "hamburg", "quantity": 2}
    ]
    assert levels(app, "A", "hamburg") == (5, 2)


def test_a_deactivated_location_is_not_routed_to(app: Inventory) -> None:
    app.receive_stock("hamburg", "A", 5)
    app.receive_stock("berlin", "A", 5)
    app.set_location_active("hamburg", False)
    order = placed(("A", 1))
    apply(app, order)
    assert levels(app, "A", "hamburg") == (5, 0) and levels(app, "A", "berlin") == (5, 1)


def test_an_order_with_one_short_line_reserves_nothing(app: Inventory) -> None:
    app.receive_stock("berlin", "A", 5)
    app.receive_stock("berlin", "B", 1)
    order = placed(("A", 2), ("B", 3))
    before = position(app)
    apply(app, order)
    events = published(app, before)
    (failed,) = of_type(events, ev.StockReservationFailed)
    assert [s.model_dump() for s in failed.shortages] == [
        {"sku": "B", "requested": 3, "available": 1}
    ]
    assert of_type(events, ev.StockReserved) == [] and of_type(events, ev.StockLevelChanged) == []
    assert levels(app, "A", "berlin") == (5, 0)
    assert app.get_stock("B").queue == [str(order.order_id)]


def test_a_repeated_order_placed_changes_nothing(app: Inventory) -> None:
    app.receive_stock("berlin", "A", 5)
    order = placed(("A", 2))
    apply(app, order)
    before = position(app)
    apply(app, order)
    assert position(app) == before
    assert levels(app, "A", "berlin") == (5, 2)


def test_two_orders_racing_for_the_last_unit_cannot_both_get_it(app: Inventory) -> None:
    app.receive_stock("berlin", "A", 1)
    first, second = placed(("A", 1)), placed(("A", 1))
    uow_1, uow_2 = UnitOfWork(app), UnitOfWork(app)
    HANDLERS[ev.OrderPlaced](app, first, uow_1)
    HANDLERS[ev.OrderPlaced](app, second, uow_2)  # decided on the same state
    uow_1.commit()
    with pytest.raises(IntegrityError):
        uow_2.commit()
    apply(app, second)  # the retry decides again on fresh state
    assert (status(app, first.order_id), status(app, second.order_id)) == (
        domain.RESERVED,
        domain.BACKORDERED,
    )
    assert levels(app, "A", "berlin") == (1, 1)


# -- backorders --------------------------------------------------------------------------------


def test_stock_arriving_goes_to_waiting_orders_first_come_first_served(app: Inventory) -> None:
    first, second, third = placed(("A", 3)), placed(("A", 1)), placed(("A", 1))
    for order in (first, second, third):
        apply(app, order)
    before = position(app)
    app.receive_stock("berlin", "A", 4)
    reserved = of_type(published(app, before), ev.StockReserved)
    assert [r.order_id for r in reserved] == [first.order_id, second.order_id]
    assert status(app, third.order_id) == domain.BACKORDERED
    assert app.get_stock("A").queue == [str(third.order_id)]


def test_a_waiting_order_too_big_for_the_arrival_keeps_its_place(app: Inventory) -> None:
    big, small = placed(("A", 5)), placed(("A", 1))
    apply(app, big)
    apply(app, small)
    app.receive_stock("berlin", "A", 2)
    assert (status(app, big.order_id), status(app, small.order_id)) == (
        domain.BACKORDERED,
        domain.RESERVED,
    )
    app.adjust_stock("berlin", "A", 4, "found in cycle count")
    assert status(app, big.order_id) == domain.RESERVED


def test_a_waiting_order_is_reserved_only_when_every_line_can_be_filled(app: Inventory) -> None:
    order = placed(("A", 1), ("B", 1))
    apply(app, order)
    app.receive_stock("berlin", "A", 1)
    assert status(app, order.order_id) == domain.BACKORDERED
    assert levels(app, "A", "berlin") == (1, 0)
    app.receive_stock("venlo", "B", 1)
    assert status(app, order.order_id) == domain.RESERVED
    assert levels(app, "A", "berlin") == (1, 1) and levels(app, "B", "venlo") == (1, 1)


def test_an_order_that_becomes_short_on_another_sku_waits_for_that_sku_too(
    app: Inventory,
) -> None:
    app.receive_stock("berlin", "B", 1)
    waiting = placed(("A", 1), ("B", 1))
    apply(app, waiting)  # short on A only
    apply(app, placed(("B", 1)))  # takes the B it would have had
    app.receive_stock("berlin", "A", 1)
    assert status(app, waiting.order_id) == domain.BACKORDERED
    assert str(waiting.order_id) in app.get_stock("B").queue
    app.receive_stock("berlin", "B", 1)
    assert status(app, waiting.order_id) == domain.RESERVED


def test_concurrent_arrivals_of_both_missing_skus_do_not_strand_the_waiting_order(
    app: Inventory,
) -> None:
    order = placed(("A", 1), ("B", 1))
    apply(app, order)
    uow_a, uow_b = UnitOfWork(app), UnitOfWork(app)
    app.receive_stock("berlin", "A", 1, uow=uow_a)  # B still looks short here
    app.receive_stock("berlin", "B", 1, uow=uow_b)  # and A still looks short here
    uow_a.commit()
    with pytest.raises(IntegrityError):
        uow_b.commit()
    app.receive_stock("berlin", "B", 1)  # the retry sees A
    assert status(app, order.order_id) == domain.RESERVED


# -- cancel, ship, return ----------------------------------------------------------------------


def test_cancelling_releases_the_held_stock_and_serves_the_next_waiting_order(
    app: Inventory,
) -> None:
    app.receive_stock("berlin", "A", 2)
    holder, waiting = placed(("A", 2)), placed(("A", 1))
    apply(app, holder)
    apply(app, waiting)
    before = position(app)
    apply(app, cancelled(holder.order_id))
    events = published(app, before)
    (released,) = of_type(events, ev.StockReleased)
    assert released.order_id == holder.order_id and released.reason == "customer asked"
    assert [r.order_id for r in of_type(events, ev.StockReserved)] == [waiting.order_id]
    assert levels(app, "A", "berlin") == (2, 1)


def test_a_cancelled_backorder_leaves_the_queue(app: Inventory) -> None:
    order = placed(("A", 1))
    apply(app, order)
    apply(app, cancelled(order.order_id))
    app.receive_stock("berlin", "A", 1)
    assert status(app, order.order_id) == domain.CANCELLED
    assert levels(app, "A", "berlin") == (1, 0)
    assert app.get_stock("A").queue == []


def test_an_order_placed_after_its_cancellation_reserves_nothing(app: Inventory) -> None:
    app.receive_stock("berlin", "A", 1)
    order = placed(("A", 1))
    apply(app, cancelled(order.order_id))
    apply(app, order)
    assert status(app, order.order_id) == domain.CANCELLED
    assert levels(app, "A", "berlin") == (1, 0)


def test_shipping_takes_units_off_on_hand_and_reserved(app: Inventory) -> None:
    app.receive_stock("berlin", "A", 5)
    order = placed(("A", 2))
    apply(app, order)
    shipment = shipped(order.order_id, "berlin", ("A", 2))
    before = position(app)
    apply(app, shipment)
    apply(app, shipment)
    (change,) = of_type(published(app, before), ev.StockLevelChanged)
    assert (change.reason, change.on_hand, change.reserved, change.available) == (
        "shipped",
        3,
        0,
        3,
    )
    assert status(app, order.order_id) == domain.CONSUMED


def test_a_shipment_of_an_order_never_reserved_here_takes_its_units_off_on_hand_once(
    app: Inventory,
) -> None:
    app.receive_stock("berlin", "A", 5)
    order = placed(("A", 2))
    shipment = shipped(order.order_id, "berlin", ("A", 2))
    apply(app, shipment)
    apply(app, shipment)
    assert levels(app, "A", "berlin") == (3, 0)
    apply(app, order)  # arriving after its shipment: nothing left to reserve for
    assert levels(app, "A", "berlin") == (3, 0)


def test_sellable_returns_are_restocked_and_damaged_ones_are_not(app: Inventory) -> None:
    app.receive_stock("berlin", "A", 2)
    order = placed(("A", 2))
    apply(app, order)
    apply(app, shipped(order.order_id, "berlin", ("A", 2)))
    back = returned(order.order_id, ("A", 1, "sellable", "berlin"), ("A", 1, "damaged", "berlin"))
    apply(app, back)
    apply(app, back)
    assert levels(app, "A", "berlin") == (1, 0)


def test_a_restocked_return_serves_a_waiting_order(app: Inventory) -> None:
    app.receive_stock("berlin", "A", 1)
    first = placed(("A", 1))
    apply(app, first)
    apply(app, shipped(first.order_id, "berlin", ("A", 1)))
    waiting = placed(("A", 1))
    apply(app, waiting)
    apply(app, returned(first.order_id, ("A", 1, "sellable", "berlin")))
    assert status(app, waiting.order_id) == domain.RESERVED


def test_every_stored_event_maps_to_a_valid_public_event_or_to_none(app: Inventory) -> None:
    app.receive_stock("berlin", "A", 2)
    order = placed(("A", 1), ("B", 1))
    apply(app, order)
    app.receive_stock("berlin", "B", 1)
    apply(app, shipped(order.order_id, "berlin", ("A", 1), ("B", 1)))
    apply(app, cancelled(placed(("A", 1)).order_id))
    kinds = {type(e).__name__ for e in published(app)}
    assert kinds == {"StockLevelChanged", "StockReservationFailed", "StockReserved"}
