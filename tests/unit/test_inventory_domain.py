"""Inventory domain: routing, stock invariants and the reservation lifecycle (no I/O)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.inventory_service.domain import (
    IdempotencyKeyReusedError,
    InsufficientStockError,
    Reservation,
    ReservationStatus,
    Stock,
)

# -- stock -------------------------------------------------------------------------------------


def test_every_level_event_carries_the_resulting_levels_of_its_location() -> None:
    stock = Stock(sku="A")
    stock.receive("r1", "de-berlin", 5, None)
    stock.reserve("order-1", "de-berlin", 2)
    last = stock.pending_events[-1]
    assert (last.sku, last.location_id) == ("A", "de-berlin")
    assert (last.on_hand, last.reserved, last.available) == (5, 2, 3)


def test_stock_cannot_be_reserved_beyond_what_is_available() -> None:
    stock = Stock(sku="A")
    stock.receive("r1", "de-berlin", 1, None)
    stock.reserve("order-1", "de-berlin", 1)
    with pytest.raises(InsufficientStockError):
        stock.reserve("order-2", "de-berlin", 1)


def test_an_adjustment_cannot_take_on_hand_below_reserved_or_below_zero() -> None:
    stock = Stock(sku="A")
    stock.receive("r1", "de-berlin", 3, None)
    stock.reserve("order-1", "de-berlin", 2)
    with pytest.raises(InsufficientStockError):
        stock.adjust("a1", "de-berlin", -2, "count")
    with pytest.raises(InsufficientStockError):
        stock.adjust("a2", "nl-venlo", -1, "count")
    assert stock.adjust("a3", "de-berlin", -1, "damaged in storage")
    assert (stock.on_hand("de-berlin"), stock.reserved("de-berlin")) == (2, 2)


def test_a_movement_id_seen_before_changes_nothing_but_reuse_for_other_data_is_refused() -> None:
    stock = Stock(sku="A")
    assert stock.receive("r1", "de-berlin", 5, "PO-1")
    assert not stock.receive("r1", "de-berlin", 5, "PO-1")
    assert stock.on_hand("de-berlin") == 5
    with pytest.raises(IdempotencyKeyReusedError):
        stock.receive("r1", "de-berlin", 6, "PO-1")


def _held(*allocations: tuple[str, int]) -> tuple[str, Reservation]:
    """A new order (its key) and its reservation of SKU A, holding units at these locations."""
    quantity = sum(q for _, q in allocations)
    order_id = uuid4()
    reservation = Reservation(
        order_id=order_id, lines=[{"sku": "A", "quantity": quantity}], country="DE"
    )
    reservation.reserve([{"sku": "A", "location_id": loc, "quantity": q} for loc, q in allocations])
    return str(order_id), reservation


def test_shipping_takes_units_from_on_hand_and_from_the_orders_hold() -> None:
    stock, (order, reservation) = Stock(sku="A"), _held(("de-berlin", 3))
    stock.receive("r1", "de-berlin", 5, None)
    stock.reserve(order, "de-berlin", 3)
    stock.ship("s1", order, "de-berlin", 2, held=reservation.held_at("A", "de-berlin"))
    reservation.consume("s1", "de-berlin", {"A": 2})
    assert reservation.has_shipped("s1")  # the use case counts shipment s1 once
    assert (stock.on_hand("de-berlin"), stock.reserved("de-berlin")) == (3, 1)
    assert reservation.held_of("A") == {"de-berlin": 1}


def test_releasing_gives_back_everything_an_order_holds_at_every_location() -> None:
    stock, (order, reservation) = Stock(sku="A"), _held(("de-berlin", 2), ("nl-venlo", 1))
    stock.receive("r1", "de-berlin", 2, None)
    stock.receive("r2", "nl-venlo", 2, None)
    stock.reserve(order, "de-berlin", 2)
    stock.reserve(order, "nl-venlo", 1)
    released = stock.release(order, reservation.held_of("A"))
    reservation.cancel("customer asked")
    assert released == [
        {"sku": "A", "location_id": "de-berlin", "quantity": 2},
        {"sku": "A", "location_id": "nl-venlo", "quantity": 1},
    ]
    assert stock.available_anywhere() == 4
    assert stock.release(order, reservation.held_of("A")) == []


def test_stock_refuses_to_give_back_more_units_than_it_has_reserved() -> None:
    stock = Stock(sku="A")
    stock.receive("r1", "de-berlin", 5, None)
    stock.reserve("order-1", "de-berlin", 1)
    with pytest.raises(InsufficientStockError):
        stock.release("order-1", {"de-berlin": 2})
    with pytest.raises(InsufficientStockError):
        stock.ship("s1", "order-1", "de-berlin", 2, held=2)
    assert (stock.on_hand("de-berlin"), stock.reserved("de-berlin")) == (5, 1)


def test_a_reserved_order_leaves_the_backorder_queue() -> None:
    stock = Stock(sku="A")
    stock.wait(["order-1", "order-2"])
    stock.wait(["order-1"])
    assert stock.queue == ["order-1", "order-2"]
    stock.receive("r1", "de-berlin", 1, None)
    stock.reserve("order-2", "de-berlin", 1)
    assert stock.queue == ["order-1"]


# -- reservations ------------------------------------------------------------------------------


def _reservation() -> Reservation:
    lines = [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 1}]
    return Reservation(order_id=uuid4(), lines=lines, country="DE")


def test_duplicate_lines_of_a_sku_are_requested_together() -> None:
    assert _reservation().requested == {"A": 3, "B": 1}


def test_cancelling_a_reserved_order_releases_what_it_holds_once() -> None:
    reservation = _reservation()
    allocations = [{"sku": "A", "location_id": "x", "quantity": 3}]
    reservation.reserve(allocations)
    reservation.cancel("customer changed their mind")
    reservation.cancel("again")
    released = [e for e in reservation.pending_events if isinstance(e, Reservation.Released)]
    assert len(released) == 1 and released[0].allocations == allocations
    assert reservation.status == ReservationStatus.RELEASED and reservation.held == []


def test_cancelling_a_backordered_order_releases_nothing() -> None:
    reservation = _reservation()
    reservation.backorder([{"sku": "A", "requested": 3, "available": 0}])
    reservation.cancel("out of stock too long")
    assert reservation.status == ReservationStatus.CANCELLED
    assert not [e for e in reservation.pending_events if isinstance(e, Reservation.Released)]


def test_shipments_consume_the_reservation_part_by_part() -> None:
    reservation = _reservation()
    reservation.reserve(
        [
            {"sku": "A", "location_id": "x", "quantity": 3},
            {"sku": "B", "location_id": "y", "quantity": 1},
        ]
    )
    reservation.consume("s1", "x", {"A": 3})
    assert reservation.status == ReservationStatus.PARTIALLY_CONSUMED
    assert reservation.held == [{"sku": "B", "location_id": "y", "quantity": 1}]
    reservation.consume("s1", "x", {"A": 3})
    reservation.consume("s2", "y", {"B": 1})
    assert reservation.status == ReservationStatus.CONSUMED and reservation.held == []
