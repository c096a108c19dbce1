"""Damaged and quarantined stock: damaged returns land in quarantine, ops release or scrap."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from services.inventory_service.application import Inventory
from services.inventory_service.domain import (
    LocationNotFoundError,
    QuarantineError,
    Reservation,
    ReservationStatus,
    Stock,
)
from services.inventory_service.integration import CONSUMES
from shared import events as ev
from tests.kit import apply
from tests.unit.test_inventory_application import (
    app,
    levels,
    of_type,
    placed,
    position,
    published,
    returned,
    shipped,
    status,
)

__all__ = ["app"]  # the fixture, imported to be used here


def _shipped_and_returned(app: Inventory, *conditions: str) -> None:
    """Two units of A received and shipped from Berlin, then one back per condition."""
    app.stocks.receive("berlin", "A", 2)
    order = placed(("A", 2))
    apply(app, CONSUMES, order)
    apply(app, CONSUMES, shipped(order.order_id, "berlin", ("A", 2)))
    back = returned(order.order_id, *[("A", 1, condition, "berlin") for condition in conditions])
    apply(app, CONSUMES, back)
    apply(app, CONSUMES, back)  # redelivered: counted once


# -- domain --------------------------------------------------------------------------------------


def test_quarantined_units_are_neither_on_hand_nor_available() -> None:
    stock = Stock(sku="A")
    stock.receive("r1", "berlin", 5, None)
    stock.quarantine("q1", "berlin", 2, "water damage")
    assert (stock.on_hand("berlin"), stock.available("berlin")) == (3, 3)
    assert stock.quarantined("berlin") == 2


def test_quarantine_by_hand_never_takes_reserved_units() -> None:
    stock = Stock(sku="A")
    stock.receive("r1", "berlin", 3, None)
    stock.reserve("order-1", "berlin", 2)
    with pytest.raises(QuarantineError):
        stock.quarantine("q1", "berlin", 2, "dented")
    assert stock.quarantined("berlin") == 0


def test_releasing_more_than_is_quarantined_is_refused() -> None:
    stock = Stock(sku="A")
    stock.quarantine_return("ret-1", "berlin", 1)
    with pytest.raises(QuarantineError):
        stock.release_quarantine("rel-1", "berlin", 2, "sellable", "inspected")
    assert (stock.on_hand("berlin"), stock.quarantined("berlin")) == (0, 1)


def test_released_units_go_on_hand_and_scrapped_ones_leave_the_books() -> None:
    stock = Stock(sku="A")
    stock.quarantine_return("ret-1", "berlin", 3)
    stock.release_quarantine("rel-1", "berlin", 2, "sellable", "inspected, fine")
    stock.release_quarantine("rel-2", "berlin", 1, "scrap", "broken zip")
    stock.release_quarantine("rel-2", "berlin", 1, "scrap", "broken zip")  # a retry: once
    assert (stock.on_hand("berlin"), stock.available("berlin")) == (2, 2)
    assert stock.quarantined("berlin") == 0


# -- application ---------------------------------------------------------------------------------


def test_a_damaged_return_lands_in_quarantine_once(app: Inventory) -> None:
    _shipped_and_returned(app, "sellable", "damaged")
    stock = app.stocks.get("A")
    assert levels(app, "A", "berlin") == (1, 0)
    assert stock.quarantined("berlin") == 1
    assert stock.available("berlin") == 1


def test_each_receipt_of_a_return_quarantines_its_damaged_units(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 3)
    order = placed(("A", 3))
    apply(app, CONSUMES, order)
    apply(app, CONSUMES, shipped(order.order_id, "berlin", ("A", 3)))
    first = returned(order.order_id, ("A", 1, "damaged", "berlin"))
    later = first.received_at + timedelta(hours=1)
    line = {**first.lines[0].model_dump(), "quantity": 2}
    second = ev.ReturnReceived.model_validate(
        {**first.model_dump(), "received_at": later, "lines": [line]}
    )
    for receipt in (first, second, first, second):  # each redelivered: counted once
        apply(app, CONSUMES, receipt)
    assert app.stocks.get("A").quarantined("berlin") == 3


def test_a_damaged_return_is_published_with_the_quarantined_count(app: Inventory) -> None:
    before = position(app)
    _shipped_and_returned(app, "damaged")
    changes = of_type(published(app, before), ev.StockLevelChanged)
    quarantined = [c for c in changes if c.reason == "quarantined"]
    assert [(c.sku, c.on_hand, c.available, c.quarantined) for c in quarantined] == [("A", 0, 0, 1)]
    assert all(c.quarantined is None for c in changes if c.reason != "quarantined")


def test_released_units_serve_a_waiting_order(app: Inventory) -> None:
    _shipped_and_returned(app, "damaged")
    waiting = placed(("A", 1))
    apply(app, CONSUMES, waiting)
    assert status(app, waiting.order_id) == ReservationStatus.BACKORDERED
    app.stocks.release_quarantine("berlin", "A", 1, "sellable", "inspected, fine")
    assert status(app, waiting.order_id) == ReservationStatus.RESERVED
    assert app.stocks.get("A").quarantined("berlin") == 0


def test_a_retried_release_with_the_same_idempotency_key_is_recorded_once(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 4)
    app.stocks.quarantine("berlin", "A", 3, "dented boxes", idempotency_key="q-1")
    app.stocks.quarantine("berlin", "A", 3, "dented boxes", idempotency_key="q-1")
    app.stocks.release_quarantine("berlin", "A", 2, "scrap", "crushed", idempotency_key="s-1")
    app.stocks.release_quarantine("berlin", "A", 2, "scrap", "crushed", idempotency_key="s-1")
    stock = app.stocks.get("A")
    assert (stock.on_hand("berlin"), stock.quarantined("berlin")) == (1, 1)


def test_releasing_at_an_unknown_location_is_refused(app: Inventory) -> None:
    with pytest.raises(LocationNotFoundError):
        app.stocks.release_quarantine("nowhere", "A", 1, "scrap", "broken")


def test_each_receipt_of_a_return_restocks_its_sellable_units(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 3)
    order = placed(("A", 3))
    apply(app, CONSUMES, order)
    apply(app, CONSUMES, shipped(order.order_id, "berlin", ("A", 3)))
    first = returned(order.order_id, ("A", 1, "sellable", "berlin"))
    later = first.received_at + timedelta(hours=1)
    line = {**first.lines[0].model_dump(), "quantity": 2}
    second = ev.ReturnReceived.model_validate(
        {**first.model_dump(), "received_at": later, "lines": [line]}
    )
    for receipt in (first, second, first, second):  # each redelivered: counted once
        apply(app, CONSUMES, receipt)
    assert app.stocks.get("A").on_hand("berlin") == 3


def test_a_restock_recorded_before_receipts_were_told_apart_is_not_counted_again() -> None:
    reservation = Reservation(order_id=uuid4(), lines=[{"sku": "A", "quantity": 2}], country=None)
    assert reservation.take_back("r1", {("A", "berlin"): 1}) != []
    assert (
        reservation.take_back("r1", {("A", "berlin"): 1}, receipt="2026-12-07T10:00:00+00:00") == []
    )
