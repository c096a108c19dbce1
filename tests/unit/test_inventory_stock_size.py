"""A hot SKU's Stock stays small: what each order holds lives on the order's Reservation."""

from __future__ import annotations

import pickle
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.inventory_service.application import Inventory
from services.inventory_service.domain import Stock
from services.inventory_service.integration import CONSUMES
from shared import events as ev
from shared.events.base import now_utc
from tests import factories
from tests.kit import apply


@pytest.fixture
def app() -> Inventory:
    """An Inventory as in production: aggregates cached, every read deep-copies them."""
    inventory = Inventory(
        env={"AGGREGATE_CACHE_MAXSIZE": "100", "AGGREGATE_CACHE_FASTFORWARD": "n"}
    )
    inventory.locations.register("berlin", "Berlin", "DE", 10)
    return inventory


def entries(state: Any) -> int:
    """Dict keys and list items in a state, all the way down."""
    if isinstance(state, dict):
        return len(state) + sum(entries(value) for value in state.values())
    if isinstance(state, (list, tuple, set)):
        return len(state) + sum(entries(item) for item in state)
    return 0


def size(stock: Stock) -> tuple[int, int]:
    """(entries in the Stock's state, its pickled bytes)."""
    return entries(vars(stock)), len(pickle.dumps(stock))


def reserve(app: Inventory, orders: int) -> list[UUID]:
    order_ids = [uuid4() for _ in range(orders)]
    for order_id in order_ids:
        app.reservations.reserve(order_id, [{"sku": "HOT", "quantity": 1}], "DE")
    return order_ids


def test_a_hot_skus_stock_stays_the_same_size_however_many_orders_hold_it(
    app: Inventory,
) -> None:
    app.stocks.receive("berlin", "HOT", 2_000)
    reserve(app, 100)
    entries_100, bytes_100 = size(app.stocks.get("HOT"))
    reserve(app, 1_900)
    stock = app.stocks.get("HOT")
    assert (stock.reserved("berlin"), stock.available("berlin")) == (2_000, 0)
    entries_2000, bytes_2000 = size(stock)
    assert entries_2000 == entries_100
    assert bytes_2000 <= bytes_100 + 16  # bigger numbers pickle a few bytes longer, no more


def test_shipping_returning_cancelling_and_short_picking_orders_does_not_grow_it_either(
    app: Inventory,
) -> None:
    app.stocks.receive("berlin", "HOT", 1_000)
    sizes, short_picked = [], 0
    for orders in (30, 300):
        for number, order_id in enumerate(reserve(app, orders)):
            for event in _what_happens_next(number, order_id):
                apply(app, CONSUMES, event)
                apply(app, CONSUMES, event)  # redelivered: changes nothing
        short_picked += orders // 3
        stock = app.stocks.get("HOT")
        assert (stock.on_hand("berlin"), stock.reserved("berlin")) == (1_000, 0)
        assert stock.missing("berlin") == short_picked  # each short pick counted once
        sizes.append(size(stock))
    (entries_30, bytes_30), (entries_330, bytes_330) = sizes
    assert entries_330 == entries_30
    assert bytes_330 <= bytes_30 + 16


def _what_happens_next(number: int, order_id: UUID) -> list[ev.IntegrationEvent]:
    """In turn: shipped and returned; cancelled; short-picked (nothing left to ship)."""
    shipment_id = uuid4()
    if number % 3 == 0:
        line = {"sku": "HOT", "quantity": 1, "location_id": "berlin", "condition": "sellable"}
        back = ev.ReturnReceived(
            return_id=uuid4(), order_id=order_id, lines=[line], received_at=now_utc()
        )
        return [_shipped(order_id, shipment_id), back]
    if number % 3 == 1:
        return [factories.order_cancelled(order_id, reason="customer asked")]
    short = ev.ShortPicked(
        shipment_id=shipment_id,
        order_id=order_id,
        location_id="berlin",
        pick_list_id=uuid4(),
        lines=[{"sku": "HOT", "bin": None, "expected": 1, "picked": 0}],
        short_at=now_utc(),
    )
    return [short]


def _shipped(order_id: UUID, shipment_id: UUID) -> ev.Shipped:
    return factories.shipped(order_id, {"HOT": 1}, shipment_id=shipment_id, location_id="berlin")
