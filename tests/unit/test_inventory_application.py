"""Inventory use cases and integration handlers on the in-memory event store."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.persistence import IntegrityError, StoredEvent

from services.inventory_service.application import Inventory
from services.inventory_service.bootstrap import service_events
from services.inventory_service.domain import (
    InsufficientStockError,
    LocationConflictError,
    LocationNotFoundError,
    Reservation,
    ReservationStatus,
    Stock,
    reservation_id_for,
)
from services.inventory_service.integration import CONSUMES
from shared import events as ev
from shared.events.base import now_utc
from shared.runtime.application import UnitOfWork
from tests import factories
from tests.kit import apply

EVENTS = service_events()

# -- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def app() -> Inventory:
    """An Inventory on the in-memory store with two German locations and one Dutch one."""
    inventory = Inventory()
    inventory.locations.register("berlin", "Berlin", "DE", 20)
    inventory.locations.register("hamburg", "Hamburg", "DE", 10)
    inventory.locations.register("venlo", "Venlo", "NL", 1)
    return inventory


def placed(*lines: tuple[str, int], country: str = "DE") -> ev.OrderPlaced:
    """An order for (sku, quantity) lines, shipping to `country`."""
    return factories.order_placed(
        lines=factories.lines(dict(lines)), shipping_address=factories.address(country=country)
    )


def cancelled(order_id: UUID) -> ev.OrderCancelled:
    return factories.order_cancelled(order_id, reason="customer asked")


def shipped(order_id: UUID, location_id: str, *lines: tuple[str, int]) -> ev.Shipped:
    return factories.shipped(order_id, dict(lines), location_id=location_id)


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
    mapped = [EVENTS.to_integration(app.mapper.to_domain_event(n)) for n in notifications]
    return [e for e in mapped if e is not None]


def position(app: Inventory) -> int:
    return app.recorder.max_notification_id() or 0


def status(app: Inventory, order_id: UUID) -> str:
    reservation = app.repository.get(reservation_id_for(order_id))
    assert isinstance(reservation, Reservation)
    return reservation.status


def levels(app: Inventory, sku: str, location_id: str) -> tuple[int, int]:
    stock = app.stocks.get(sku)
    return stock.on_hand(location_id), stock.reserved(location_id)


def of_type(events: list[Any], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


# -- locations and movements -------------------------------------------------------------------


def test_registering_the_same_location_again_is_harmless_but_different_data_conflicts(
    app: Inventory,
) -> None:
    _, created = app.locations.register("berlin", "Berlin", "DE", 20)
    assert not created
    with pytest.raises(LocationConflictError):
        app.locations.register("berlin", "Berlin Mitte", "DE", 20)


def test_a_receipt_at_an_unknown_location_is_refused_and_records_nothing(app: Inventory) -> None:
    before = position(app)
    with pytest.raises(LocationNotFoundError):
        app.stocks.receive("paris", "A", 5)
    assert position(app) == before


def test_a_retried_receipt_with_the_same_idempotency_key_is_recorded_once(app: Inventory) -> None:
    first, _ = app.stocks.receive("berlin", "A", 5, "PO-1", idempotency_key="k1")
    again, _ = app.stocks.receive("berlin", "A", 5, "PO-1", idempotency_key="k1")
    app.stocks.receive("berlin", "A", 5, "PO-2")
    assert first == again
    assert levels(app, "A", "berlin") == (10, 0)


def test_a_receipt_publishes_the_new_stock_level(app: Inventory) -> None:
    before = position(app)
    app.stocks.receive("berlin", "A", 5)
    (change,) = of_type(published(app, before), ev.StockLevelChanged)
    assert (change.sku, change.location_id, change.reason) == ("A", "berlin", "receipt")
    assert (change.on_hand, change.reserved, change.available) == (5, 0, 5)


def test_an_adjustment_below_reserved_is_refused_and_records_nothing(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 3)
    apply(app, CONSUMES, placed(("A", 2)))
    before = position(app)
    with pytest.raises(InsufficientStockError):
        app.stocks.adjust("berlin", "A", -2, "count")
    assert position(app) == before
    assert levels(app, "A", "berlin") == (3, 2)


# -- reserving ---------------------------------------------------------------------------------


def test_an_order_is_reserved_at_the_preferred_location_of_its_country(app: Inventory) -> None:
    for loc in ("berlin", "hamburg", "venlo"):
        app.stocks.receive(loc, "A", 5)
    order = placed(("A", 2))
    before = position(app)
    apply(app, CONSUMES, order)
    (reserved,) = of_type(published(app, before), ev.StockReserved)
    assert reserved.order_id == order.order_id
    assert [a.model_dump() for a in reserved.allocations] == [
        {"sku": "A", "location_id": "hamburg", "quantity": 2}
    ]
    assert levels(app, "A", "hamburg") == (5, 2)


def test_a_deactivated_location_is_not_routed_to(app: Inventory) -> None:
    app.stocks.receive("hamburg", "A", 5)
    app.stocks.receive("berlin", "A", 5)
    app.locations.set_active("hamburg", False)
    order = placed(("A", 1))
    apply(app, CONSUMES, order)
    assert levels(app, "A", "hamburg") == (5, 0) and levels(app, "A", "berlin") == (5, 1)


def test_an_order_with_one_short_line_reserves_nothing(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 5)
    app.stocks.receive("berlin", "B", 1)
    order = placed(("A", 2), ("B", 3))
    before = position(app)
    apply(app, CONSUMES, order)
    events = published(app, before)
    (failed,) = of_type(events, ev.StockReservationFailed)
    assert [s.model_dump() for s in failed.shortages] == [
        {"sku": "B", "requested": 3, "available": 1}
    ]
    assert of_type(events, ev.StockReserved) == [] and of_type(events, ev.StockLevelChanged) == []
    assert levels(app, "A", "berlin") == (5, 0)
    assert app.stocks.get("B").queue == [str(order.order_id)]


def test_a_repeated_order_placed_changes_nothing(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 5)
    order = placed(("A", 2))
    apply(app, CONSUMES, order)
    before = position(app)
    apply(app, CONSUMES, order)
    assert position(app) == before
    assert levels(app, "A", "berlin") == (5, 2)


def test_two_orders_racing_for_the_last_unit_cannot_both_get_it(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 1)
    first, second = placed(("A", 1)), placed(("A", 1))
    uow_1, uow_2 = UnitOfWork(app), UnitOfWork(app)
    CONSUMES[ev.OrderPlaced](app, first, uow_1)
    CONSUMES[ev.OrderPlaced](app, second, uow_2)  # decided on the same state
    uow_1.commit()
    with pytest.raises(IntegrityError):
        uow_2.commit()
    apply(app, CONSUMES, second)  # the retry decides again on fresh state
    assert (status(app, first.order_id), status(app, second.order_id)) == (
        ReservationStatus.RESERVED,
        ReservationStatus.BACKORDERED,
    )
    assert levels(app, "A", "berlin") == (1, 1)


# -- backorders --------------------------------------------------------------------------------


def test_stock_arriving_goes_to_waiting_orders_first_come_first_served(app: Inventory) -> None:
    first, second, third = placed(("A", 3)), placed(("A", 1)), placed(("A", 1))
    for order in (first, second, third):
        apply(app, CONSUMES, order)
    before = position(app)
    app.stocks.receive("berlin", "A", 4)
    reserved = of_type(published(app, before), ev.StockReserved)
    assert [r.order_id for r in reserved] == [first.order_id, second.order_id]
    assert status(app, third.order_id) == ReservationStatus.BACKORDERED
    assert app.stocks.get("A").queue == [str(third.order_id)]


def test_a_waiting_order_too_big_for_the_arrival_keeps_its_place(app: Inventory) -> None:
    big, small = placed(("A", 5)), placed(("A", 1))
    apply(app, CONSUMES, big)
    apply(app, CONSUMES, small)
    app.stocks.receive("berlin", "A", 2)
    assert (status(app, big.order_id), status(app, small.order_id)) == (
        ReservationStatus.BACKORDERED,
        ReservationStatus.RESERVED,
    )
    app.stocks.adjust("berlin", "A", 4, "found in cycle count")
    assert status(app, big.order_id) == ReservationStatus.RESERVED


def test_a_waiting_order_is_reserved_only_when_every_line_can_be_filled(app: Inventory) -> None:
    order = placed(("A", 1), ("B", 1))
    apply(app, CONSUMES, order)
    app.stocks.receive("berlin", "A", 1)
    assert status(app, order.order_id) == ReservationStatus.BACKORDERED
    assert levels(app, "A", "berlin") == (1, 0)
    app.stocks.receive("venlo", "B", 1)
    assert status(app, order.order_id) == ReservationStatus.RESERVED
    assert levels(app, "A", "berlin") == (1, 1) and levels(app, "B", "venlo") == (1, 1)


def test_an_order_that_becomes_short_on_another_sku_waits_for_that_sku_too(
    app: Inventory,
) -> None:
    app.stocks.receive("berlin", "B", 1)
    waiting = placed(("A", 1), ("B", 1))
    apply(app, CONSUMES, waiting)  # short on A only
    apply(app, CONSUMES, placed(("B", 1)))  # takes the B it would have had
    app.stocks.receive("berlin", "A", 1)
    assert status(app, waiting.order_id) == ReservationStatus.BACKORDERED
    assert str(waiting.order_id) in app.stocks.get("B").queue
    app.stocks.receive("berlin", "B", 1)
    assert status(app, waiting.order_id) == ReservationStatus.RESERVED


def test_concurrent_arrivals_of_both_missing_skus_do_not_strand_the_waiting_order(
    app: Inventory,
) -> None:
    order = placed(("A", 1), ("B", 1))
    apply(app, CONSUMES, order)
    uow_a, uow_b = UnitOfWork(app), UnitOfWork(app)
    app.stocks.receive("berlin", "A", 1, uow=uow_a)  # B still looks short here
    app.stocks.receive("berlin", "B", 1, uow=uow_b)  # and A still looks short here
    uow_a.commit()
    with pytest.raises(IntegrityError):
        uow_b.commit()
    app.stocks.receive("berlin", "B", 1)  # the retry sees A
    assert status(app, order.order_id) == ReservationStatus.RESERVED


# -- cancel, ship, return ----------------------------------------------------------------------


def test_cancelling_releases_the_held_stock_and_serves_the_next_waiting_order(
    app: Inventory,
) -> None:
    app.stocks.receive("berlin", "A", 2)
    holder, waiting = placed(("A", 2)), placed(("A", 1))
    apply(app, CONSUMES, holder)
    apply(app, CONSUMES, waiting)
    before = position(app)
    apply(app, CONSUMES, cancelled(holder.order_id))
    events = published(app, before)
    (released,) = of_type(events, ev.StockReleased)
    assert released.order_id == holder.order_id and released.reason == "customer asked"
    assert [r.order_id for r in of_type(events, ev.StockReserved)] == [waiting.order_id]
    assert levels(app, "A", "berlin") == (2, 1)


def test_a_cancelled_backorder_leaves_the_queue(app: Inventory) -> None:
    order = placed(("A", 1))
    apply(app, CONSUMES, order)
    apply(app, CONSUMES, cancelled(order.order_id))
    app.stocks.receive("berlin", "A", 1)
    assert status(app, order.order_id) == ReservationStatus.CANCELLED
    assert levels(app, "A", "berlin") == (1, 0)
    assert app.stocks.get("A").queue == []


def test_an_order_placed_after_its_cancellation_reserves_nothing(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 1)
    order = placed(("A", 1))
    apply(app, CONSUMES, cancelled(order.order_id))
    apply(app, CONSUMES, order)
    assert status(app, order.order_id) == ReservationStatus.CANCELLED
    assert levels(app, "A", "berlin") == (1, 0)


def test_shipping_takes_units_off_on_hand_and_reserved(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 5)
    order = placed(("A", 2))
    apply(app, CONSUMES, order)
    shipment = shipped(order.order_id, "berlin", ("A", 2))
    before = position(app)
    apply(app, CONSUMES, shipment)
    apply(app, CONSUMES, shipment)
    (change,) = of_type(published(app, before), ev.StockLevelChanged)
    assert (change.reason, change.on_hand, change.reserved, change.available) == (
        "shipped",
        3,
        0,
        3,
    )
    assert status(app, order.order_id) == ReservationStatus.CONSUMED


def test_a_shipment_of_an_order_never_reserved_here_takes_its_units_off_on_hand_once(
    app: Inventory,
) -> None:
    app.stocks.receive("berlin", "A", 5)
    order = placed(("A", 2))
    shipment = shipped(order.order_id, "berlin", ("A", 2))
    apply(app, CONSUMES, shipment)
    apply(app, CONSUMES, shipment)
    assert levels(app, "A", "berlin") == (3, 0)
    apply(app, CONSUMES, order)  # arriving after its shipment: nothing left to reserve for
    assert levels(app, "A", "berlin") == (3, 0)


def test_sellable_returns_are_restocked_and_damaged_ones_are_not(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 2)
    order = placed(("A", 2))
    apply(app, CONSUMES, order)
    apply(app, CONSUMES, shipped(order.order_id, "berlin", ("A", 2)))
    back = returned(order.order_id, ("A", 1, "sellable", "berlin"), ("A", 1, "damaged", "berlin"))
    apply(app, CONSUMES, back)
    apply(app, CONSUMES, back)
    assert levels(app, "A", "berlin") == (1, 0)


def test_a_restocked_return_serves_a_waiting_order(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 1)
    first = placed(("A", 1))
    apply(app, CONSUMES, first)
    apply(app, CONSUMES, shipped(first.order_id, "berlin", ("A", 1)))
    waiting = placed(("A", 1))
    apply(app, CONSUMES, waiting)
    apply(app, CONSUMES, returned(first.order_id, ("A", 1, "sellable", "berlin")))
    assert status(app, waiting.order_id) == ReservationStatus.RESERVED


def test_every_stored_event_maps_to_a_valid_public_event_or_to_none(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 2)
    order = placed(("A", 1), ("B", 1))
    apply(app, CONSUMES, order)
    app.stocks.receive("berlin", "B", 1)
    apply(app, CONSUMES, shipped(order.order_id, "berlin", ("A", 1), ("B", 1)))
    apply(app, CONSUMES, cancelled(placed(("A", 1)).order_id))
    kinds = {type(e).__name__ for e in published(app)}
    assert kinds == {
        "ChannelAvailabilityChanged",
        "StockLevelChanged",
        "StockReservationFailed",
        "StockReserved",
    }


# -- the event tables and stored events --------------------------------------------------------


def test_every_stored_event_class_has_a_publishing_decision_and_a_view_handler() -> None:
    EVENTS.check()  # raises RegistryError naming each gap


def test_a_level_event_stored_before_short_picks_and_bins_still_loads_and_maps(
    app: Inventory,
) -> None:
    app.stocks.receive("berlin", "A", 5)
    # The receipt is followed by what channels may now sell (Stock.ChannelsTold).
    created, received = app.recorder.select_notifications(position(app) - 2, 2)
    assert received.topic == "services.inventory_service.domain.stock:Stock.Received"
    transcoder = app.mapper.transcoder
    state = transcoder.decode(received.state)
    del state["missing"], state["bin"]  # as stored before short picks and bins
    old = StoredEvent(
        originator_id=received.originator_id,
        originator_version=received.originator_version,
        topic=received.topic,
        state=transcoder.encode(state),
    )

    event = app.mapper.to_domain_event(old)
    stock = project_aggregate(None, [app.mapper.to_domain_event(created), event])

    assert isinstance(event, Stock.Received) and (event.missing, event.bin) == (0, None)
    assert isinstance(stock, Stock)
    assert (stock.on_hand("berlin"), stock.missing("berlin"), stock.bin_at("berlin")) == (
        5,
        0,
        None,
    )
    change = EVENTS.to_integration(event)
    assert isinstance(change, ev.StockLevelChanged)
    assert (change.reason, change.on_hand, change.bin) == ("receipt", 5, None)
