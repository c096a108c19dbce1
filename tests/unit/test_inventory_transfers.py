"""Transfers and purchase orders on the in-memory event store: units in transit and on order,
receipts in parts, over-receipts, cancels, and the backorders they serve."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from services.inventory_service.application import Inventory
from services.inventory_service.domain import (
    IdempotencyKeyReusedError,
    InsufficientStockError,
    LocationNotFoundError,
    OverReceiptError,
    PurchaseOrder,
    Reservation,
    ReservationStatus,
    SupplyConflictError,
    SupplyNotFoundError,
    Transfer,
    TransferStatus,
    reservation_id_for,
)
from services.inventory_service.integration import CONSUMES
from services.inventory_service.schemas import stock_public
from tests import factories
from tests.kit import apply

MONDAY = datetime(2026, 12, 14, 9, tzinfo=UTC)


@pytest.fixture
def app() -> Inventory:
    """An Inventory on the in-memory store with two locations, 5 of A and 2 of B in Berlin."""
    inventory = Inventory()
    inventory.locations.register("berlin", "Berlin", "DE", 10)
    inventory.locations.register("hamburg", "Hamburg", "DE", 20)
    inventory.stocks.receive("berlin", "A", 5)
    inventory.stocks.receive("berlin", "B", 2)
    return inventory


def levels(app: Inventory, sku: str, location: str) -> tuple[int, int, int, int]:
    """(on hand, available, in transit to, on order for) of a SKU at a location."""
    stock = app.stocks.get(sku)
    return (
        stock.on_hand(location),
        stock.available(location),
        stock.in_transit(location),
        stock.on_order(location),
    )


def status_of(app: Inventory, order_id: UUID) -> str:
    reservation = app.repository.get(reservation_id_for(order_id))
    assert isinstance(reservation, Reservation)
    return str(reservation.status)


def lines(**units: int) -> list[Any]:
    return [{"sku": sku, "quantity": quantity} for sku, quantity in units.items()]


def test_a_transfer_takes_units_off_the_source_and_they_are_in_transit_to_the_destination(
    app: Inventory,
) -> None:
    transfer, created = app.transfers.ship("T-1", "berlin", "hamburg", lines(A=3, B=2), MONDAY)

    assert created and transfer.status == TransferStatus.IN_TRANSIT
    assert levels(app, "A", "berlin") == (2, 2, 0, 0)
    assert levels(app, "A", "hamburg") == (0, 0, 3, 0)
    assert levels(app, "B", "hamburg") == (0, 0, 2, 0)
    shown = stock_public(app.stocks.get("A"))
    hamburg = next(level for level in shown.locations if level.location_id == "hamburg")
    assert (hamburg.on_hand, hamburg.in_transit) == (0, 3)
    assert (shown.total.on_hand, shown.in_transit) == (2, 3)


def test_a_transfer_received_in_parts_lands_on_hand_at_the_destination_and_repeats_count_once(
    app: Inventory,
) -> None:
    app.transfers.ship("T-1", "berlin", "hamburg", lines(A=3), None)

    app.transfers.receive("T-1", lines(A=1), "r-1")
    app.transfers.receive("T-1", lines(A=1), "r-1")  # the same receipt again
    assert levels(app, "A", "hamburg") == (1, 1, 2, 0)
    assert app.transfers.get("T-1").status == TransferStatus.PARTIALLY_RECEIVED

    transfer = app.transfers.receive("T-1", lines(A=2), "r-2")
    assert transfer.status == TransferStatus.RECEIVED and transfer.outstanding == {}
    assert levels(app, "A", "hamburg") == (3, 3, 0, 0)
    assert levels(app, "A", "berlin") == (2, 2, 0, 0)


def test_an_over_receipt_or_a_sku_never_sent_is_refused_and_records_nothing(
    app: Inventory,
) -> None:
    app.transfers.ship("T-1", "berlin", "hamburg", lines(A=3), None)
    before = app.recorder.max_notification_id()
    with pytest.raises(OverReceiptError):
        app.transfers.receive("T-1", lines(A=4), "r-1")
    with pytest.raises(OverReceiptError):
        app.transfers.receive("T-1", lines(B=1), "r-2")
    assert app.recorder.max_notification_id() == before
    app.transfers.receive("T-1", lines(A=2), "r-3")
    before = app.recorder.max_notification_id()
    with pytest.raises(IdempotencyKeyReusedError):
        app.transfers.receive("T-1", lines(A=1), "r-3")  # the receipt's id with other units
    with pytest.raises(OverReceiptError):
        app.transfers.receive("T-1", lines(A=2), "r-4")  # one is left in transit
    assert app.recorder.max_notification_id() == before
    assert levels(app, "A", "hamburg") == (2, 2, 1, 0)


def test_units_not_available_at_the_source_cannot_leave_and_nothing_is_recorded(
    app: Inventory,
) -> None:
    order = factories.order_placed(lines=factories.lines({"A": 4}))
    apply(app, CONSUMES, order)  # 4 of Berlin's 5 reserved
    before = app.recorder.max_notification_id()

    with pytest.raises(InsufficientStockError):
        app.transfers.ship("T-1", "berlin", "hamburg", lines(B=1, A=2), None)
    with pytest.raises(LocationNotFoundError):
        app.transfers.ship("T-2", "berlin", "paris", lines(A=1), None)

    assert app.recorder.max_notification_id() == before
    with pytest.raises(SupplyNotFoundError):
        app.transfers.get("T-1")
    app.transfers.ship("T-1", "berlin", "hamburg", lines(A=1), None)  # the one that is free
    assert levels(app, "A", "berlin") == (4, 0, 0, 0)


def test_the_same_transfer_again_changes_nothing_and_another_under_its_id_is_a_conflict(
    app: Inventory,
) -> None:
    app.transfers.ship("T-1", "berlin", "hamburg", lines(A=2), MONDAY)
    _, created = app.transfers.ship("T-1", "berlin", "hamburg", lines(A=2), MONDAY)
    assert not created
    with pytest.raises(SupplyConflictError):
        app.transfers.ship("T-1", "berlin", "hamburg", lines(A=3), MONDAY)
    assert levels(app, "A", "berlin") == (3, 3, 0, 0)


def test_a_cancelled_transfer_puts_its_units_back_at_the_source_before_any_receipt(
    app: Inventory,
) -> None:
    app.transfers.ship("T-1", "berlin", "hamburg", lines(A=3), None)
    transfer = app.transfers.cancel("T-1", "truck broke down")
    assert transfer.status == TransferStatus.CANCELLED
    app.transfers.cancel("T-1", "truck broke down")  # again: nothing
    assert levels(app, "A", "berlin") == (5, 5, 0, 0)
    assert levels(app, "A", "hamburg") == (0, 0, 0, 0)
    with pytest.raises(SupplyConflictError):
        app.transfers.receive("T-1", lines(A=1), "r-1")

    app.transfers.ship("T-2", "berlin", "hamburg", lines(A=3), None)
    app.transfers.receive("T-2", lines(A=1), "r-1")
    with pytest.raises(SupplyConflictError):
        app.transfers.cancel("T-2", "too late")


def test_a_transfer_receipt_and_a_cancel_fill_waiting_backorders_like_a_receipt(
    app: Inventory,
) -> None:
    app.transfers.ship("T-1", "berlin", "hamburg", lines(A=5), None)
    app.transfers.ship("T-2", "berlin", "hamburg", lines(B=2), None)
    first = factories.order_placed(lines=factories.lines({"A": 2}))
    second = factories.order_placed(lines=factories.lines({"B": 2}))
    apply(app, CONSUMES, first, second)
    assert status_of(app, first.order_id) == status_of(app, second.order_id) == "backordered"

    app.transfers.receive("T-1", lines(A=2), "r-1")
    app.transfers.cancel("T-2", "not needed")

    assert status_of(app, first.order_id) == status_of(app, second.order_id) == "reserved"
    assert app.stocks.get("A").reserved("hamburg") == 2
    assert app.stocks.get("B").reserved("berlin") == 2


def test_a_purchase_order_is_on_order_until_its_receipts_put_it_on_hand(app: Inventory) -> None:
    order, created = app.purchase_orders.place("PO-1", "hamburg", "Acme", lines(A=10), MONDAY)
    assert created and order.status == "open"
    assert levels(app, "A", "hamburg") == (0, 0, 0, 10)
    assert stock_public(app.stocks.get("A")).on_order == 10

    app.purchase_orders.receive("PO-1", "GRN-1", lines(A=4))
    app.purchase_orders.receive("PO-1", "GRN-1", lines(A=4))  # the same receipt again
    assert levels(app, "A", "hamburg") == (4, 4, 0, 6)
    with pytest.raises(OverReceiptError):
        app.purchase_orders.receive("PO-1", "GRN-2", lines(A=7))
    with pytest.raises(IdempotencyKeyReusedError):
        app.purchase_orders.receive("PO-1", "GRN-1", lines(A=5))
    done = app.purchase_orders.receive("PO-1", "GRN-2", lines(A=6))
    assert done.status == "received"
    assert levels(app, "A", "hamburg") == (10, 10, 0, 0)


def test_a_purchase_order_posted_again_only_moves_its_date_and_other_lines_conflict(
    app: Inventory,
) -> None:
    app.purchase_orders.place("PO-1", "hamburg", "Acme", lines(A=10), MONDAY)
    later = MONDAY.replace(day=21)
    order, created = app.purchase_orders.place("PO-1", "hamburg", "Acme", lines(A=10), later)
    assert not created and order.expected_at == later
    assert app.stocks.get("A").supplies() == [(later, 10)]
    with pytest.raises(SupplyConflictError):
        app.purchase_orders.place("PO-1", "hamburg", "Acme", lines(A=11), later)
    with pytest.raises(SupplyNotFoundError):
        app.purchase_orders.reschedule("PO-2", later)
    with pytest.raises(LocationNotFoundError):
        app.purchase_orders.place("PO-3", "paris", "Acme", lines(A=1), later)


def test_a_purchase_order_receipt_serves_the_waiting_order(app: Inventory) -> None:
    order = factories.order_placed(lines=factories.lines({"A": 8}))
    apply(app, CONSUMES, order)
    app.purchase_orders.place("PO-1", "hamburg", "Acme", lines(A=10), MONDAY)
    assert status_of(app, order.order_id) == ReservationStatus.BACKORDERED

    app.purchase_orders.receive("PO-1", "GRN-1", lines(A=3))

    assert status_of(app, order.order_id) == ReservationStatus.RESERVED
    stock = app.stocks.get("A")
    assert (stock.reserved("berlin"), stock.reserved("hamburg")) == (5, 3)


def test_movements_show_transfers_and_purchase_receipts_with_their_cause(app: Inventory) -> None:
    app.transfers.ship("T-1", "berlin", "hamburg", lines(A=3), None)
    app.transfers.receive("T-1", lines(A=1), "r-1")
    app.transfers.ship("T-2", "berlin", "hamburg", lines(A=1), None)
    app.transfers.cancel("T-2", "wrong SKU")
    app.purchase_orders.place("PO-1", "hamburg", "Acme", lines(A=2), MONDAY)
    app.purchase_orders.receive("PO-1", "GRN-1", lines(A=2))

    moved = app.history.movements("A")
    assert [(m.kind, m.location_id, m.quantity, m.on_hand) for m in moved[:5]] == [
        ("purchase_received", "hamburg", 2, 3),
        ("transfer_cancelled", "berlin", 1, 2),
        ("transfer_shipped", "berlin", 1, 1),
        ("transfer_received", "hamburg", 1, 1),
        ("transfer_shipped", "berlin", 3, 2),
    ]
    assert moved[0].cause == {"receipt_id": "GRN-1", "po_id": "PO-1"}
    assert moved[1].cause == {"reason": "wrong SKU", "transfer_id": "T-2", "to_location": "hamburg"}
    assert moved[3].cause == {"receipt_id": "r-1", "transfer_id": "T-1", "from_location": "berlin"}
    assert moved[4].cause == {"transfer_id": "T-1", "to_location": "hamburg"}


def test_the_transfer_aggregate_counts_what_arrived_and_what_is_still_on_its_way() -> None:
    transfer = Transfer(
        transfer_id="T-9",
        from_location="berlin",
        to_location="hamburg",
        lines=lines(A=2, B=1) + lines(A=1),
        expected_at=MONDAY,
    )
    assert transfer.shipped == {"A": 3, "B": 1}
    assert transfer.receive("r-1", lines(A=3)) == {"A": 3}
    assert transfer.receive("r-1", lines(A=3)) == {}  # seen: nothing more
    assert (transfer.status, transfer.outstanding) == ("partially_received", {"B": 1})
    with pytest.raises(SupplyConflictError):
        transfer.cancel("too late")
    transfer.receive("r-2", lines(B=1))
    assert (transfer.status, transfer.outstanding) == ("received", {})
    assert transfer.same_as("berlin", "hamburg", lines(B=1, A=3), MONDAY)


def test_the_purchase_order_aggregate_moves_its_date_once_and_refuses_over_receipts() -> None:
    order = PurchaseOrder(
        po_id="PO-9", location_id="berlin", supplier="Acme", lines=lines(A=5), expected_at=MONDAY
    )
    assert not order.reschedule(MONDAY)
    assert order.reschedule(MONDAY.replace(day=21))
    with pytest.raises(OverReceiptError):
        order.receive("GRN-1", lines(A=6))
    assert order.receive("GRN-1", lines(A=5)) == {"A": 5}
    assert (order.status, order.outstanding) == ("received", {})
    assert [type(e).__name__ for e in order.collect_events()] == [
        "Placed",
        "Rescheduled",
        "Received",
    ]
