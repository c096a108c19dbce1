"""Short picks in inventory: missing units released and proposed to ops as discrepancies."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from services.inventory_service.application import Inventory
from services.inventory_service.bootstrap import service_events
from services.inventory_service.domain import (
    DiscrepancyClosedError,
    DiscrepancyNotFoundError,
    InsufficientStockError,
    Reservation,
    ReservationStatus,
    discrepancy_id_for,
    reservation_id_for,
)
from services.inventory_service.integration import CONSUMES
from shared import events as ev
from shared.events.base import now_utc
from tests import factories
from tests.kit import apply

EVENTS = service_events()


@pytest.fixture
def app() -> Inventory:
    """An Inventory with 10 TEE and 4 MUG at berlin, each in its bin."""
    inventory = Inventory()
    inventory.locations.register("berlin", "Berlin", "DE", 10)
    inventory.stocks.receive("berlin", "TEE", 10, bin_code="A-03-2")
    inventory.stocks.receive("berlin", "MUG", 4, bin_code="B-01-1")
    return inventory


def place(app: Inventory, *lines: tuple[str, int]) -> UUID:
    order = factories.order_placed(lines=factories.lines(dict(lines)))
    apply(app, CONSUMES, order)
    return order.order_id


def short_picked(
    order_id: UUID,
    *lines: tuple[str, int, int],
    shipment_id: UUID | None = None,
    bin_code: str | None = None,
) -> ev.ShortPicked:
    """A ShortPicked at berlin; lines are (sku, expected, picked)."""
    return ev.ShortPicked(
        shipment_id=shipment_id or uuid4(),
        order_id=order_id,
        location_id="berlin",
        pick_list_id=uuid4(),
        lines=[{"sku": s, "bin": bin_code, "expected": e, "picked": p} for s, e, p in lines],
        short_at=now_utc(),
    )


def shipped(order_id: UUID, shipment_id: UUID, *lines: tuple[str, int]) -> ev.Shipped:
    return factories.shipped(order_id, dict(lines), shipment_id=shipment_id, location_id="berlin")


def level(app: Inventory, sku: str) -> dict[str, int]:
    stock = app.stocks.get(sku)
    return {
        "on_hand": stock.on_hand("berlin"),
        "reserved": stock.reserved("berlin"),
        "missing": stock.missing("berlin"),
        "available": stock.available("berlin"),
    }


def position(app: Inventory) -> int:
    return app.recorder.max_notification_id() or 0


def published(app: Inventory, after: int) -> list[Any]:
    notifications = app.recorder.select_notifications(after + 1, 10_000)
    mapped = [EVENTS.to_integration(app.mapper.to_domain_event(n)) for n in notifications]
    return [e for e in mapped if e is not None]


def the_discrepancy(event: ev.ShortPicked, sku: str) -> UUID:
    return discrepancy_id_for(event.pick_list_id, event.shipment_id, sku)


def reservation(app: Inventory, order_id: UUID) -> Reservation:
    found = app.repository.get(reservation_id_for(order_id))
    assert isinstance(found, Reservation)
    return found


# -- the short pick ----------------------------------------------------------------------------


def test_a_short_pick_releases_only_the_short_units_and_proposes_one_discrepancy(
    app: Inventory,
) -> None:
    order_id = place(app, ("TEE", 3), ("MUG", 2))
    short = short_picked(order_id, ("TEE", 3, 1), ("MUG", 2, 2))
    before = position(app)
    apply(app, CONSUMES, short)

    # TEE: 2 of the 3 held units were not there; MUG was picked in full and is untouched.
    assert level(app, "TEE") == {"on_hand": 10, "reserved": 1, "missing": 2, "available": 7}
    assert level(app, "MUG") == {"on_hand": 4, "reserved": 2, "missing": 0, "available": 2}
    discrepancy = app.discrepancies.get(the_discrepancy(short, "TEE"))
    assert (discrepancy.status, discrepancy.quantity, discrepancy.bin) == ("proposed", 2, "A-03-2")
    assert (discrepancy.order_id, discrepancy.pick_list_id) == (order_id, short.pick_list_id)
    with pytest.raises(DiscrepancyNotFoundError):
        app.discrepancies.get(the_discrepancy(short, "MUG"))
    assert reservation(app, order_id).held == [
        {"sku": "TEE", "location_id": "berlin", "quantity": 1},
        {"sku": "MUG", "location_id": "berlin", "quantity": 2},
    ]
    (change,) = published(app, before)
    assert isinstance(change, ev.StockLevelChanged)
    assert (change.reason, change.reserved, change.available, change.bin) == (
        "short_pick",
        1,
        7,
        "A-03-2",
    )


def test_missing_units_are_not_promised_to_the_next_order(app: Inventory) -> None:
    first = place(app, ("TEE", 10))
    apply(app, CONSUMES, short_picked(first, ("TEE", 10, 6)))
    second = place(app, ("TEE", 1))
    assert reservation(app, second).status == ReservationStatus.BACKORDERED


def test_a_redelivered_short_pick_changes_nothing(app: Inventory) -> None:
    order_id = place(app, ("TEE", 3))
    short = short_picked(order_id, ("TEE", 3, 1))
    apply(app, CONSUMES, short)
    before = position(app)
    apply(app, CONSUMES, short)
    assert position(app) == before
    assert level(app, "TEE")["missing"] == 2


def test_the_bin_named_by_the_picker_is_the_bin_on_the_discrepancy(app: Inventory) -> None:
    order_id = place(app, ("TEE", 2))
    short = short_picked(order_id, ("TEE", 2, 0), bin_code="A-03-9")
    apply(app, CONSUMES, short)
    assert app.discrepancies.get(the_discrepancy(short, "TEE")).bin == "A-03-9"


def test_the_shipment_then_takes_only_what_was_picked_and_the_reservation_is_consumed(
    app: Inventory,
) -> None:
    shipment_id = uuid4()
    order_id = place(app, ("TEE", 3))
    apply(app, CONSUMES, short_picked(order_id, ("TEE", 3, 1), shipment_id=shipment_id))
    apply(app, CONSUMES, shipped(order_id, shipment_id, ("TEE", 1)))
    assert level(app, "TEE") == {"on_hand": 9, "reserved": 0, "missing": 2, "available": 7}
    assert reservation(app, order_id).status == ReservationStatus.CONSUMED


def test_a_short_pick_after_the_shipment_left_still_ends_the_hold(app: Inventory) -> None:
    shipment_id = uuid4()
    order_id = place(app, ("TEE", 3))
    apply(app, CONSUMES, shipped(order_id, shipment_id, ("TEE", 1)))
    assert reservation(app, order_id).status == ReservationStatus.PARTIALLY_CONSUMED
    apply(app, CONSUMES, short_picked(order_id, ("TEE", 3, 1), shipment_id=shipment_id))
    assert level(app, "TEE") == {"on_hand": 9, "reserved": 0, "missing": 2, "available": 7}
    assert reservation(app, order_id).status == ReservationStatus.CONSUMED


# -- ops resolve it ----------------------------------------------------------------------------


def test_confirming_takes_the_missing_units_off_on_hand_once(app: Inventory) -> None:
    order_id = place(app, ("TEE", 3))
    short = short_picked(order_id, ("TEE", 3, 1))
    apply(app, CONSUMES, short)
    discrepancy_id = the_discrepancy(short, "TEE")
    before = position(app)

    confirmed = app.discrepancies.confirm(discrepancy_id, "counted the bin: 8")
    assert (confirmed.status, confirmed.note) == ("confirmed", "counted the bin: 8")
    assert level(app, "TEE") == {"on_hand": 8, "reserved": 1, "missing": 0, "available": 7}
    after_first = position(app)
    assert app.discrepancies.confirm(discrepancy_id).status == "confirmed"
    assert position(app) == after_first
    assert level(app, "TEE")["on_hand"] == 8
    (change,) = published(app, before)
    assert (change.reason, change.on_hand, change.available) == ("adjustment", 8, 7)
    adjusted = [
        app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(before + 1, 10)
    ]
    assert [e.reason for e in adjusted if hasattr(e, "quantity_delta")] == ["short pick"]


def test_rejecting_changes_no_stock_and_the_found_units_can_be_promised_again(
    app: Inventory,
) -> None:
    order_id = place(app, ("TEE", 10))
    short = short_picked(order_id, ("TEE", 10, 6))
    apply(app, CONSUMES, short)
    waiting = place(app, ("TEE", 2))
    assert reservation(app, waiting).status == ReservationStatus.BACKORDERED

    rejected = app.discrepancies.reject(the_discrepancy(short, "TEE"), "found behind the shelf")
    assert rejected.status == "rejected"
    assert level(app, "TEE") == {"on_hand": 10, "reserved": 8, "missing": 0, "available": 2}
    assert (
        reservation(app, waiting).status == ReservationStatus.RESERVED
    )  # served first come, first served


def test_a_decision_cannot_be_turned_around(app: Inventory) -> None:
    order_id = place(app, ("TEE", 3))
    short = short_picked(order_id, ("TEE", 3, 1))
    apply(app, CONSUMES, short)
    discrepancy_id = the_discrepancy(short, "TEE")
    app.discrepancies.reject(discrepancy_id)
    before = position(app)
    with pytest.raises(DiscrepancyClosedError):
        app.discrepancies.confirm(discrepancy_id)
    assert app.discrepancies.reject(discrepancy_id).status == "rejected"
    assert position(app) == before
    assert level(app, "TEE")["on_hand"] == 10


def test_an_unknown_discrepancy_is_not_found(app: Inventory) -> None:
    with pytest.raises(DiscrepancyNotFoundError):
        app.discrepancies.confirm(uuid4())
    with pytest.raises(DiscrepancyNotFoundError):
        app.discrepancies.reject(uuid4())


def test_a_manual_count_cannot_take_on_hand_below_reserved_and_missing(app: Inventory) -> None:
    order_id = place(app, ("TEE", 3))
    apply(app, CONSUMES, short_picked(order_id, ("TEE", 3, 1)))  # reserved 1, missing 2
    with pytest.raises(InsufficientStockError):
        app.stocks.adjust("berlin", "TEE", -8, "count")
    app.stocks.adjust("berlin", "TEE", -7, "count")
    assert level(app, "TEE") == {"on_hand": 3, "reserved": 1, "missing": 2, "available": 0}
