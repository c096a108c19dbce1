"""Promise dates of backordered orders: the supply on the way that covers them, first come first
served, kept up to date as supply, queues and dates change (in memory)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from services.inventory_service.application import Inventory
from services.inventory_service.bootstrap import service_events
from services.inventory_service.domain import (
    NOW,
    Reservation,
    Stock,
    covers,
    promise_date,
    reservation_id_for,
)
from services.inventory_service.integration import CONSUMES
from shared import events as ev
from tests import factories
from tests.kit import apply

D1 = datetime(2026, 12, 14, 9, tzinfo=UTC)
D2 = datetime(2026, 12, 21, 9, tzinfo=UTC)
D3 = datetime(2026, 12, 28, 9, tzinfo=UTC)


# -- the rule, pure ------------------------------------------------------------------------------


def test_two_backorders_competing_for_one_purchase_order_first_come_first_served() -> None:
    assert covers([("first", 2), ("second", 2)], 0, [(D1, 3)]) == {"first": D1, "second": None}
    assert covers([("first", 2), ("second", 2)], 0, [(D2, 5), (D1, 3)]) == {
        "first": D1,
        "second": D2,
    }


def test_units_available_now_go_first_and_an_order_they_fill_needs_no_supply() -> None:
    assert covers([("a", 1), ("b", 3), ("c", 1)], 2, [(D1, 2), (D2, 1)]) == {
        "a": NOW,
        "b": D1,
        "c": D2,
    }
    assert covers([("a", 4)], 0, []) == {"a": None}


def test_an_order_is_promised_the_latest_date_of_its_skus_or_nothing_if_one_is_uncovered() -> None:
    assert promise_date([D1, D2, NOW]) == D2
    assert promise_date([D1, None]) is None
    assert promise_date([NOW]) is None
    assert promise_date([]) is None


# -- kept up to date by the use cases ------------------------------------------------------------


@pytest.fixture
def app() -> Inventory:
    inventory = Inventory()
    inventory.locations.register("berlin", "Berlin", "DE", 10)
    inventory.locations.register("hamburg", "Hamburg", "DE", 20)
    return inventory


def lines(**units: int) -> list[Any]:
    return [{"sku": sku, "quantity": quantity} for sku, quantity in units.items()]


def backorder(app: Inventory, **units: int) -> UUID:
    order = factories.order_placed(lines=factories.lines(units))
    apply(app, CONSUMES, order)
    return order.order_id


def promised(app: Inventory, order_id: UUID) -> datetime | None:
    reservation = app.repository.get(reservation_id_for(order_id))
    assert isinstance(reservation, Reservation)
    return reservation.promised


def published(app: Inventory) -> list[ev.BackorderPromised]:
    """The BackorderPromised events the relay would publish, oldest first."""
    events = service_events()
    found = []
    for notification in app.recorder.select_notifications(1, 1000):
        mapped = events.to_integration(app.mapper.to_domain_event(notification))
        if isinstance(mapped, ev.BackorderPromised):
            found.append(mapped)
    return found


def test_purchase_orders_promise_waiting_orders_in_turn_and_follow_their_dates(
    app: Inventory,
) -> None:
    first = backorder(app, C=2)
    second = backorder(app, C=2)
    assert promised(app, first) is None

    app.purchase_orders.place("PO-1", "berlin", "Acme", lines(C=3), D1)
    assert (promised(app, first), promised(app, second)) == (D1, None)

    app.purchase_orders.place("PO-2", "hamburg", "Acme", lines(C=5), D2)
    assert (promised(app, first), promised(app, second)) == (D1, D2)

    app.purchase_orders.reschedule("PO-1", D3)  # PO-2 now comes first
    assert (promised(app, first), promised(app, second)) == (D2, D2)

    app.purchase_orders.receive("PO-1", "GRN-1", lines(C=2))  # fills the first
    assert promised(app, second) == D2
    reservation = app.repository.get(reservation_id_for(first))
    assert isinstance(reservation, Reservation) and reservation.status == "reserved"

    events = published(app)
    assert [(e.order_id, e.promise_date) for e in events] == [
        (first, D1),
        (second, D2),
        (first, D2),
    ]
    assert all(e.partition_key == str(e.order_id) for e in events)


def test_units_in_transit_with_an_expected_time_are_promised_too(app: Inventory) -> None:
    app.stocks.receive("berlin", "C", 4)
    waiting = backorder(app, C=6)
    app.transfers.ship("T-1", "berlin", "hamburg", lines(C=4), D1)  # moves what is there
    assert promised(app, waiting) is None  # 4 on the way of the 6 it needs
    app.purchase_orders.place("PO-1", "berlin", "Acme", lines(C=2), D2)
    assert promised(app, waiting) == D2
    app.transfers.cancel("T-1", "not needed")  # 4 back now, 2 on order
    assert promised(app, waiting) == D2
    app.purchase_orders.reschedule("PO-1", D1)
    assert promised(app, waiting) == D1


def test_an_order_waiting_for_two_skus_is_promised_when_both_are_there(app: Inventory) -> None:
    waiting = backorder(app, C=1, D=1)
    app.purchase_orders.place("PO-1", "berlin", "Acme", lines(C=1), D1)
    assert promised(app, waiting) is None  # nothing brings D
    app.purchase_orders.place("PO-2", "berlin", "Acme", lines(D=1), D2)
    assert promised(app, waiting) == D2


def test_an_order_leaving_the_queue_moves_the_ones_behind_it_up(app: Inventory) -> None:
    app.purchase_orders.place("PO-1", "berlin", "Acme", lines(C=2), D1)
    first = backorder(app, C=2)
    second = backorder(app, C=2)
    assert (promised(app, first), promised(app, second)) == (D1, None)

    apply(app, CONSUMES, factories.order_cancelled(first, reason="customer asked"))

    assert promised(app, second) == D1


def test_a_transfer_without_an_expected_time_promises_nothing(app: Inventory) -> None:
    app.stocks.receive("berlin", "C", 2)
    waiting = backorder(app, C=3)
    app.transfers.ship("T-1", "berlin", "hamburg", lines(C=2), None)
    app.purchase_orders.place("PO-1", "hamburg", "Acme", lines(C=1), D1)
    assert promised(app, waiting) is None  # 1 of the 3 has a date
    app.transfers.receive("T-1", lines(C=2), "r-1")
    assert promised(app, waiting) == D1  # 2 there now, 1 on order


def test_a_queue_keeps_what_each_order_asked_for_and_its_place() -> None:
    stock = Stock(sku="C")
    stock.wait(["o1"], {"o1": 2})
    stock.wait(["o2"])  # as queued before the queue kept units
    stock.wait(["o1"], {"o1": 3})  # asked again (an attempt found it short): same place
    assert list(stock.waiting.items()) == [("o1", 3), ("o2", None)]
    stock.leave_queue("o1")
    assert stock.queue == ["o2"]


def test_a_cancel_re_dates_only_the_orders_it_moved(app: Inventory) -> None:
    app.purchase_orders.place("PO-1", "berlin", "Acme", lines(C=2), D1)
    app.purchase_orders.place("PO-2", "berlin", "Acme", lines(C=2), D2)
    first, second, third = backorder(app, C=2), backorder(app, C=2), backorder(app, C=1)
    assert [promised(app, o) for o in (first, second, third)] == [D1, D2, None]
    before = len(published(app))

    apply(app, CONSUMES, factories.order_cancelled(first, reason="customer asked"))

    assert [promised(app, o) for o in (second, third)] == [D1, D2]
    assert len(published(app)) == before + 2
