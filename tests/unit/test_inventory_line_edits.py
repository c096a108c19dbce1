"""An order's lines edited before picking: inventory gives back what it held and reserves anew."""

from __future__ import annotations

from uuid import UUID

import pytest

from services.inventory_service.application import Inventory
from services.inventory_service.domain import ReservationStatus
from services.inventory_service.integration import CONSUMES
from shared import events as ev
from shared.events.base import now_utc
from tests import factories
from tests.kit import apply
from tests.unit.test_inventory_application import (
    levels,
    of_type,
    placed,
    position,
    published,
    status,
)


@pytest.fixture
def app() -> Inventory:
    """An Inventory on the in-memory store with one location in Berlin."""
    inventory = Inventory()
    inventory.locations.register("berlin", "Berlin", "DE", 10)
    return inventory


def edited(order_id: UUID, revision: int, *lines: tuple[str, int]) -> ev.OrderLinesChanged:
    """The order's lines after its `revision`th edit."""
    return ev.OrderLinesChanged(
        order_id=order_id,
        channel="web",
        external_id="1001",
        revision=revision,
        lines=factories.lines(dict(lines)),
        currency="EUR",
        reason="customer asked",
        changed_at=now_utc(),
    )


def test_cancelled_units_go_back_and_the_new_lines_are_reserved_for_that_revision(
    app: Inventory,
) -> None:
    app.stocks.receive("berlin", "A", 5)
    app.stocks.receive("berlin", "B", 5)
    order = placed(("A", 3), ("B", 1))
    apply(app, CONSUMES, order)
    assert levels(app, "A", "berlin") == (5, 3)
    before = position(app)

    apply(app, CONSUMES, edited(order.order_id, 1, ("A", 1), ("B", 1)))

    assert levels(app, "A", "berlin") == (5, 1)
    assert levels(app, "B", "berlin") == (5, 1)
    events = published(app, before)
    (released,) = of_type(events, ev.StockReleased)
    assert released.reason == "order lines edited"
    (reserved,) = of_type(events, ev.StockReserved)
    assert reserved.revision == 1
    assert {(a.sku, a.quantity) for a in reserved.allocations} == {("A", 1), ("B", 1)}
    assert status(app, order.order_id) == ReservationStatus.RESERVED


def test_an_added_line_without_stock_backorders_the_whole_order_and_frees_the_rest(
    app: Inventory,
) -> None:
    app.stocks.receive("berlin", "A", 2)
    order = placed(("A", 2))
    apply(app, CONSUMES, order)
    before = position(app)

    apply(app, CONSUMES, edited(order.order_id, 1, ("A", 2), ("NEW", 1)))

    (failed,) = of_type(published(app, before), ev.StockReservationFailed)
    assert failed.revision == 1
    assert [s.sku for s in failed.shortages] == ["NEW"]
    assert levels(app, "A", "berlin") == (2, 0)  # all or nothing: nothing held while it waits
    assert status(app, order.order_id) == ReservationStatus.BACKORDERED

    app.stocks.receive("berlin", "NEW", 1)
    reserved = of_type(published(app, before), ev.StockReserved)
    assert [(r.order_id, r.revision) for r in reserved] == [(order.order_id, 1)]


def test_the_same_edit_twice_or_an_older_one_changes_nothing(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 5)
    order = placed(("A", 3))
    apply(app, CONSUMES, order)
    apply(app, CONSUMES, edited(order.order_id, 2, ("A", 2)))
    before = position(app)

    apply(app, CONSUMES, edited(order.order_id, 2, ("A", 2)))
    apply(app, CONSUMES, edited(order.order_id, 1, ("A", 1)))

    assert position(app) == before
    assert levels(app, "A", "berlin") == (5, 2)


def test_an_edit_after_a_shipment_left_changes_no_stock(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 5)
    order = placed(("A", 2))
    apply(app, CONSUMES, order)
    apply(app, CONSUMES, factories.shipped(order.order_id, {"A": 1}, location_id="berlin"))
    before = position(app)

    apply(app, CONSUMES, edited(order.order_id, 1, ("A", 1)))

    assert position(app) == before
    assert levels(app, "A", "berlin") == (4, 1)
