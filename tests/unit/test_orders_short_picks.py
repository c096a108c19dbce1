"""Short picks and packages on the Order (in-memory store): partial fulfillment never sticks."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from services.order_service import domain
from services.order_service.application import Orders
from services.order_service.domain import order_id_for
from services.order_service.integration import HANDLERS, to_integration
from shared import events as ev
from shared.runtime.application import UnitOfWork

ADDRESS = {
    "name": "Ann",
    "line1": "Main St 1",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
LINES = [
    {"sku": "TEE", "quantity": 3, "unit_price": "24.90"},
    {"sku": "MUG", "quantity": 1, "unit_price": "14.50"},
]


def confirmed_order(app: Orders) -> UUID:
    external_id = uuid4().hex
    order_id = order_id_for("web", external_id)
    app.place_order(
        order_id, "web", external_id, {"name": "Ann", "email": "a@b.de"}, ADDRESS, LINES, "EUR"
    )
    app.confirm_order(order_id, [{"sku": "TEE", "location_id": "WH", "quantity": 3}])
    return order_id


def apply(app: Orders, event: ev.IntegrationEvent) -> None:
    """Apply one integration event the way the consumer does: handler + unit of work."""
    uow = UnitOfWork(app)
    HANDLERS[type(event)](app, event, uow)
    uow.commit()


def short_picked(
    order_id: UUID,
    shipment_id: UUID,
    *lines: tuple[str, int, int],
    pick_list_id: UUID | None = None,
) -> ev.ShortPicked:
    """Lines are (sku, expected, picked)."""
    return ev.ShortPicked(
        shipment_id=shipment_id,
        order_id=order_id,
        location_id="WH",
        pick_list_id=pick_list_id or uuid4(),
        lines=[{"sku": s, "bin": "A-03-2", "expected": e, "picked": p} for s, e, p in lines],
        short_at=ev.now_utc(),
    )


def shipped(order_id: UUID, shipment_id: UUID, *lines: tuple[str, int], **extra: Any) -> ev.Shipped:
    return ev.Shipped(
        shipment_id=shipment_id,
        order_id=order_id,
        location_id="WH",
        carrier="DHL",
        tracking_number="JD1",
        lines=[{"sku": sku, "quantity": q} for sku, q in lines],
        shipped_at=ev.now_utc(),
        **extra,
    )


def position(app: Orders) -> int:
    return app.recorder.max_notification_id() or 0


def order_shipped(app: Orders) -> list[ev.OrderShipped]:
    stored = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 100)]
    public = [to_integration(e) for e in stored]
    return [p for p in public if isinstance(p, ev.OrderShipped)]


def test_an_order_with_a_short_pick_becomes_shipped_with_the_short_units_shown() -> None:
    app = Orders()
    order_id, shipment_id = confirmed_order(app), uuid4()
    apply(app, short_picked(order_id, shipment_id, ("TEE", 3, 2), ("MUG", 1, 1)))
    order = app.get_order(order_id)
    assert order.status == domain.CONFIRMED  # nothing has left yet
    assert order.short == {"TEE": 1}

    apply(app, shipped(order_id, shipment_id, ("TEE", 2), ("MUG", 1)))
    order = app.get_order(order_id)
    assert order.status == domain.SHIPPED
    assert order.short == {"TEE": 1}


def test_order_shipped_lists_only_what_left_so_only_that_can_be_returned() -> None:
    app = Orders()
    order_id, shipment_id = confirmed_order(app), uuid4()
    apply(app, short_picked(order_id, shipment_id, ("TEE", 3, 1)))
    apply(app, shipped(order_id, shipment_id, ("TEE", 1), ("MUG", 1)))
    (public,) = order_shipped(app)
    assert [(line.sku, line.quantity, str(line.unit_price)) for line in public.lines] == [
        ("TEE", 1, "24.90"),
        ("MUG", 1, "14.50"),
    ]


def test_the_short_pick_may_arrive_after_the_shipment_and_still_completes_the_order() -> None:
    app = Orders()
    order_id, shipment_id = confirmed_order(app), uuid4()
    apply(app, shipped(order_id, shipment_id, ("TEE", 2), ("MUG", 1)))
    assert app.get_order(order_id).status == domain.PARTIALLY_SHIPPED
    apply(app, short_picked(order_id, shipment_id, ("TEE", 3, 2)))
    assert app.get_order(order_id).status == domain.SHIPPED
    assert len(order_shipped(app)) == 1


def test_a_redelivered_short_pick_or_shipment_changes_nothing() -> None:
    app = Orders()
    order_id, shipment_id, pick_list_id = confirmed_order(app), uuid4(), uuid4()
    short = short_picked(order_id, shipment_id, ("TEE", 3, 2), pick_list_id=pick_list_id)
    apply(app, short)
    apply(app, shipped(order_id, shipment_id, ("TEE", 2), ("MUG", 1)))
    before = position(app)
    apply(app, short)
    apply(app, shipped(order_id, shipment_id, ("TEE", 2), ("MUG", 1)))
    assert position(app) == before
    assert app.get_order(order_id).short == {"TEE": 1}
    assert len(order_shipped(app)) == 1


def test_a_pick_without_a_missing_unit_records_nothing() -> None:
    app = Orders()
    order_id = confirmed_order(app)
    before = position(app)
    apply(app, short_picked(order_id, uuid4(), ("TEE", 3, 3)))
    assert position(app) == before


def test_short_units_of_two_pick_lists_add_up() -> None:
    app = Orders()
    order_id = confirmed_order(app)
    apply(app, short_picked(order_id, uuid4(), ("TEE", 2, 1)))
    apply(app, short_picked(order_id, uuid4(), ("TEE", 1, 0)))
    assert app.get_order(order_id).short == {"TEE": 2}


def test_an_order_nothing_could_be_picked_for_stays_open_for_ops_to_cancel() -> None:
    app = Orders()
    order_id = confirmed_order(app)
    apply(app, short_picked(order_id, uuid4(), ("TEE", 3, 0), ("MUG", 1, 0)))
    order = app.get_order(order_id)
    assert order.status == domain.CONFIRMED and order.short == {"TEE": 3, "MUG": 1}
    assert order_shipped(app) == []
    assert app.cancel_order(order_id, "nothing to ship").status == domain.CANCELLED


def test_the_packages_tracking_numbers_are_kept_on_the_orders_shipment() -> None:
    app = Orders()
    order_id, shipment_id = confirmed_order(app), uuid4()
    packages = [
        {"package_id": uuid4(), "sscc": "003456789012345675", "tracking_number": "PK1"},
        {"package_id": uuid4(), "sscc": "003456789012345682", "tracking_number": "PK2"},
    ]
    apply(
        app,
        shipped(
            order_id, shipment_id, ("TEE", 3), ("MUG", 1), service="express", packages=packages
        ),
    )
    (shipment,) = app.get_order(order_id).shipments
    assert shipment["service"] == "express"
    assert [p["tracking_number"] for p in shipment["packages"]] == ["PK1", "PK2"]
    (public,) = order_shipped(app)  # the contract's ShipmentRef carries no packages
    assert public.shipments[0].tracking_number == "JD1"


def test_a_shipment_without_packages_is_recorded_as_before() -> None:
    app = Orders()
    order_id, shipment_id = confirmed_order(app), uuid4()
    apply(app, shipped(order_id, shipment_id, ("TEE", 3), ("MUG", 1)))
    (shipment,) = app.get_order(order_id).shipments
    assert "packages" not in shipment and "service" not in shipment


def test_a_late_shipment_after_the_order_shipped_keeps_it_shipped() -> None:
    app = Orders()
    order_id = confirmed_order(app)
    apply(app, short_picked(order_id, uuid4(), ("TEE", 3, 2)))
    apply(app, shipped(order_id, uuid4(), ("TEE", 2), ("MUG", 1)))
    apply(app, shipped(order_id, uuid4(), ("TEE", 1)))  # the missing unit turned up after all
    assert app.get_order(order_id).status == domain.SHIPPED
    assert len(order_shipped(app)) == 1
