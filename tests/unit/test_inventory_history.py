"""A SKU's stock at a time and its movements, read from the Stock's event log (in memory)."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.inventory_service.application import Inventory
from services.inventory_service.application.history import MOVEMENT_REASONS
from services.inventory_service.domain import (
    InsufficientStockError,
    Line,
    OverReceiptError,
    QuarantineError,
    Reservation,
    StockNotFoundError,
    SupplyConflictError,
    reservation_id_for,
    stock_id_for,
)
from services.inventory_service.integration import CONSUMES
from services.inventory_service.schemas import stock_public
from tests import factories
from tests.kit import apply

LOCATIONS = ("berlin", "hamburg")


def new_app() -> Inventory:
    """An Inventory on the in-memory store with two German locations."""
    app = Inventory()
    for priority, location in enumerate(LOCATIONS):
        app.locations.register(location, location.title(), "DE", priority)
    return app


def place(app: Inventory, quantity: int) -> UUID:
    """An order for `quantity` of A: reserved where there is stock, or backordered."""
    order = factories.order_placed(lines=factories.lines({"A": quantity}))
    apply(app, CONSUMES, order)
    return order.order_id


def ship(app: Inventory, order_id: UUID) -> None:
    """Whatever the order holds of A leaves from where it is held."""
    reservation = app.repository.get(reservation_id_for(order_id))
    assert isinstance(reservation, Reservation)
    for location, quantity in reservation.held_of("A").items():
        apply(app, CONSUMES, factories.shipped(order_id, {"A": quantity}, location_id=location))


def stored(app: Inventory) -> list[Aggregate.Event]:
    return [cast(Aggregate.Event, e) for e in app.repository.event_store.get(stock_id_for("A"))]


def level_events(app: Inventory) -> list[Any]:
    return [e for e in stored(app) if type(e) in MOVEMENT_REASONS]


def replayed(events: list[Any]) -> dict[str, tuple[int, int, int]]:
    """Levels per location after the given level events, each carrying the level after it."""
    levels: dict[str, tuple[int, int, int]] = {}
    for e in events:
        levels[e.location_id] = (e.on_hand, e.reserved, e.missing)
    return levels


def in_transit(events: list[Any]) -> dict[str, int]:
    """Units in transit to each location after the given level events (transfers carry it)."""
    units = dict.fromkeys(LOCATIONS, 0)
    for e in events:
        if hasattr(e, "in_transit"):
            destination = getattr(e, "to_location", e.location_id)
            units[destination] = e.in_transit
    return units


def levels_of(app: Inventory, at: Any) -> dict[str, tuple[int, int, int]]:
    stock = app.history.stock_at("A", at)
    return {loc: (lv["on_hand"], lv["reserved"], lv["missing"]) for loc, lv in stock.levels.items()}


def test_stock_at_a_time_is_the_stock_after_the_events_up_to_then() -> None:
    app = new_app()
    app.stocks.receive("berlin", "A", 5)
    after_receipt = level_events(app)[-1].timestamp
    order_id = place(app, 2)
    ship(app, order_id)
    app.stocks.adjust("berlin", "A", -1, "damaged")

    then = stock_public(app.history.stock_at("A", after_receipt))
    assert then.total.model_dump() == {"on_hand": 5, "reserved": 0, "available": 5}
    reserved_at = level_events(app)[1].timestamp
    assert stock_public(app.history.stock_at("A", reserved_at)).total.model_dump() == {
        "on_hand": 5,
        "reserved": 2,
        "available": 3,
    }
    now = stock_public(app.stocks.get("A"))
    assert now.total.model_dump() == {"on_hand": 2, "reserved": 0, "available": 2}


def test_a_sku_before_its_first_event_or_never_stocked_is_not_found() -> None:
    app = new_app()
    app.stocks.receive("berlin", "A", 5)
    first = stored(app)[0].timestamp
    with pytest.raises(StockNotFoundError):
        app.history.stock_at("A", first - timedelta(microseconds=1))
    with pytest.raises(StockNotFoundError):
        app.history.stock_at("B", first)
    with pytest.raises(StockNotFoundError):
        app.history.movements("B")


def test_movements_carry_their_cause_and_level_after_newest_first() -> None:
    app = new_app()
    receipt_id, _ = app.stocks.receive("berlin", "A", 5, reference="PO-7")
    order_id = place(app, 2)
    ship(app, order_id)
    app.stocks.receive("hamburg", "A", 1)

    moved = app.history.movements("A")
    assert [(m.kind, m.location_id, m.quantity, m.on_hand, m.reserved) for m in moved] == [
        ("receipt", "hamburg", 1, 1, 0),
        ("shipped", "berlin", 2, 3, 0),
        ("reserved", "berlin", 2, 5, 2),
        ("receipt", "berlin", 5, 5, 0),
    ]
    assert moved[-1].cause == {"receipt_id": receipt_id, "reference": "PO-7"}
    assert moved[2].cause == {"order_id": str(order_id)}
    assert moved[1].cause["order_id"] == str(order_id)
    assert "shipment_id" in moved[1].cause
    assert [m.kind for m in app.history.movements("A", location_id="hamburg")] == ["receipt"]
    since = moved[1].at
    assert [m.kind for m in app.history.movements("A", since=since)] == ["receipt", "shipped"]
    assert [m.kind for m in app.history.movements("A", until=moved[2].at)] == [
        "reserved",
        "receipt",
    ]


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), st.sampled_from(LOCATIONS), st.integers(1, 5)),
        st.tuples(st.just("reserve"), st.just(""), st.integers(1, 6)),
        st.tuples(st.just("release"), st.just(""), st.integers(0, 20)),
        st.tuples(st.just("ship"), st.just(""), st.integers(0, 20)),
        st.tuples(st.just("adjust"), st.sampled_from(LOCATIONS), st.integers(-4, 4)),
        st.tuples(st.just("quarantine"), st.sampled_from(LOCATIONS), st.integers(1, 4)),
        st.tuples(st.just("unquarantine"), st.sampled_from(LOCATIONS), st.integers(1, 4)),
        st.tuples(st.just("transfer"), st.sampled_from(LOCATIONS), st.integers(1, 4)),
        st.tuples(st.just("transfer_receive"), st.just(""), st.integers(0, 20)),
        st.tuples(st.just("transfer_cancel"), st.just(""), st.integers(0, 20)),
        st.tuples(st.just("purchase"), st.sampled_from(LOCATIONS), st.integers(1, 4)),
        st.tuples(st.just("purchase_receive"), st.just(""), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=25,
)


def run(app: Inventory, operations: list[tuple[str, str, int]]) -> None:
    """Receipts, reservations, releases, shipments, adjustments, quarantine, transfers and
    purchase orders of A, as they come (an odd release scraps, an even one makes sellable; a
    transfer goes to the other location, a receipt of one takes a unit of it)."""
    orders: list[UUID] = []
    supplies: list[str] = []
    for kind, location, number in operations:
        if kind.startswith(("transfer", "purchase")):
            run_supply(app, supplies, kind, location, number)
        elif kind == "receive":
            app.stocks.receive(location, "A", number)
        elif kind == "reserve":
            orders.append(place(app, number))
        elif kind == "release" and orders:
            apply(app, CONSUMES, factories.order_cancelled(orders.pop(number % len(orders))))
        elif kind == "ship" and orders:
            ship(app, orders.pop(number % len(orders)))
        elif kind == "adjust" and number:
            with suppress(InsufficientStockError):  # refused: recorded nothing
                app.stocks.adjust(location, "A", number, "count")
        elif kind == "quarantine":
            with suppress(QuarantineError):  # refused: recorded nothing
                app.stocks.quarantine(location, "A", number, "dented")
        elif kind == "unquarantine":
            with suppress(QuarantineError):
                to = "scrap" if number % 2 else "sellable"
                app.stocks.release_quarantine(location, "A", number, to, "inspected")


def run_supply(app: Inventory, supplies: list[str], kind: str, location: str, number: int) -> None:
    """A transfer or purchase order of A, or a receipt (one unit) or cancel of one on the way."""
    if kind == "transfer":
        other = LOCATIONS[1 - LOCATIONS.index(location)]
        with suppress(InsufficientStockError):  # refused: recorded nothing
            app.transfers.ship(
                f"T-{len(supplies)}", location, other, [{"sku": "A", "quantity": number}]
            )
            supplies.append(f"T-{len(supplies)}")
    elif kind == "purchase":
        po_id = f"PO-{len(supplies)}"
        app.purchase_orders.place(
            po_id, location, "Acme", [{"sku": "A", "quantity": number}], _SOON
        )
        supplies.append(po_id)
    elif supplies:
        supply = supplies[number % len(supplies)]
        one: list[Line] = [{"sku": "A", "quantity": 1}]
        with suppress(OverReceiptError, SupplyConflictError):  # refused: recorded nothing
            if kind == "transfer_cancel" and supply.startswith("T-"):
                app.transfers.cancel(supply, "called off")
            elif kind == "transfer_receive" and supply.startswith("T-"):
                app.transfers.receive(supply, one, f"r-{number}")
            elif kind == "purchase_receive" and supply.startswith("PO-"):
                app.purchase_orders.receive(supply, f"r-{number}", one)


_SOON = datetime(2030, 1, 1, tzinfo=UTC)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPERATIONS)
def test_stock_at_each_events_time_is_the_replay_of_the_log_up_to_it(
    operations: list[tuple[str, str, int]],
) -> None:
    app = new_app()
    run(app, [("receive", "berlin", 1), *operations])
    events = level_events(app)
    for e in events:
        upto = [f for f in events if f.timestamp <= e.timestamp]
        assert levels_of(app, e.timestamp) == replayed(upto)
        then = app.history.stock_at("A", e.timestamp)
        assert {loc: then.in_transit(loc) for loc in LOCATIONS} == in_transit(upto)
    assert levels_of(app, events[-1].timestamp) == {
        loc: (lv["on_hand"], lv["reserved"], lv["missing"])
        for loc, lv in app.stocks.get("A").levels.items()
    }
    moved = app.history.movements("A")
    assert [(m.at, m.kind, m.location_id, m.on_hand, m.reserved) for m in reversed(moved)] == [
        (e.timestamp, MOVEMENT_REASONS[type(e)], e.location_id, e.on_hand, e.reserved)
        for e in events
    ]
