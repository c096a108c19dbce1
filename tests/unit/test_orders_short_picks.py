"""Short picks and packages on the Order (in-memory store): partial fulfillment never sticks."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from services.order_service.application import Orders
from services.order_service.domain import OrderStatus, order_id_for
from services.order_service.integration import CONSUMES
from shared import events as ev
from shared.money import minor_units
from tests import factories
from tests.factories_order_service import place_order, published, tee_and_mug
from tests.kit import apply


def confirmed_order(app: Orders) -> UUID:
    order_id = place_order(app, lines=tee_and_mug(tees=3))
    app.confirm_order(order_id, factories.allocations({"TEE": 3}, "WH"))
    return order_id


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


def shipped(
    order_id: UUID, shipment_id: UUID, quantities: dict[str, int], **extra: Any
) -> ev.Shipped:
    """A shipment from WH, tracked as JD1."""
    return factories.shipped(
        order_id,
        quantities,
        shipment_id=shipment_id,
        location_id="WH",
        tracking_number="JD1",
        **extra,
    )


def position(app: Orders) -> int:
    return app.recorder.max_notification_id() or 0


def order_shipped(app: Orders) -> list[ev.OrderShipped]:
    return [p for p in published(app) if isinstance(p, ev.OrderShipped)]


def test_an_order_with_a_short_pick_becomes_shipped_with_the_short_units_shown() -> None:
    app = Orders()
    order_id, shipment_id = confirmed_order(app), uuid4()
    apply(app, CONSUMES, short_picked(order_id, shipment_id, ("TEE", 3, 2), ("MUG", 1, 1)))
    order = app.get_order(order_id)
    assert order.status == OrderStatus.CONFIRMED  # nothing has left yet
    assert order.short == {"TEE": 1}

    apply(app, CONSUMES, shipped(order_id, shipment_id, {"TEE": 2, "MUG": 1}))
    order = app.get_order(order_id)
    assert order.status == OrderStatus.SHIPPED
    assert order.short == {"TEE": 1}


def test_order_shipped_lists_only_what_left_so_only_that_can_be_returned() -> None:
    app = Orders()
    order_id, shipment_id = confirmed_order(app), uuid4()
    apply(app, CONSUMES, short_picked(order_id, shipment_id, ("TEE", 3, 1)))
    apply(app, CONSUMES, shipped(order_id, shipment_id, {"TEE": 1, "MUG": 1}))
    (public,) = order_shipped(app)
    assert [(line.sku, line.quantity, str(line.unit_price)) for line in public.lines] == [
        ("TEE", 1, "24.90"),
        ("MUG", 1, "14.50"),
    ]


def test_the_short_pick_may_arrive_after_the_shipment_and_still_completes_the_order() -> None:
    app = Orders()
    order_id, shipment_id = confirmed_order(app), uuid4()
    apply(app, CONSUMES, shipped(order_id, shipment_id, {"TEE": 2, "MUG": 1}))
    assert app.get_order(order_id).status == OrderStatus.PARTIALLY_SHIPPED
    apply(app, CONSUMES, short_picked(order_id, shipment_id, ("TEE", 3, 2)))
    assert app.get_order(order_id).status == OrderStatus.SHIPPED
    assert len(order_shipped(app)) == 1


def test_a_redelivered_short_pick_or_shipment_changes_nothing() -> None:
    app = Orders()
    order_id, shipment_id, pick_list_id = confirmed_order(app), uuid4(), uuid4()
    short = short_picked(order_id, shipment_id, ("TEE", 3, 2), pick_list_id=pick_list_id)
    apply(app, CONSUMES, short)
    apply(app, CONSUMES, shipped(order_id, shipment_id, {"TEE": 2, "MUG": 1}))
    before = position(app)
    apply(app, CONSUMES, short)
    apply(app, CONSUMES, shipped(order_id, shipment_id, {"TEE": 2, "MUG": 1}))
    assert position(app) == before
    assert app.get_order(order_id).short == {"TEE": 1}
    assert len(order_shipped(app)) == 1


def test_a_pick_without_a_missing_unit_records_nothing() -> None:
    app = Orders()
    order_id = confirmed_order(app)
    before = position(app)
    apply(app, CONSUMES, short_picked(order_id, uuid4(), ("TEE", 3, 3)))
    assert position(app) == before


def test_short_units_of_two_pick_lists_add_up() -> None:
    app = Orders()
    order_id = confirmed_order(app)
    apply(app, CONSUMES, short_picked(order_id, uuid4(), ("TEE", 2, 1)))
    apply(app, CONSUMES, short_picked(order_id, uuid4(), ("TEE", 1, 0)))
    assert app.get_order(order_id).short == {"TEE": 2}


def test_an_order_nothing_could_be_picked_for_stays_open_for_ops_to_cancel() -> None:
    app = Orders()
    order_id = confirmed_order(app)
    apply(app, CONSUMES, short_picked(order_id, uuid4(), ("TEE", 3, 0), ("MUG", 1, 0)))
    order = app.get_order(order_id)
    assert order.status == OrderStatus.CONFIRMED and order.short == {"TEE": 3, "MUG": 1}
    assert order_shipped(app) == []
    assert app.cancel_order(order_id, "nothing to ship").status == OrderStatus.CANCELLED


def test_the_packages_tracking_numbers_are_kept_on_the_orders_shipment() -> None:
    app = Orders()
    order_id, shipment_id = confirmed_order(app), uuid4()
    packages = [
        {"package_id": uuid4(), "sscc": "003456789012345675", "tracking_number": "PK1"},
        {"package_id": uuid4(), "sscc": "003456789012345682", "tracking_number": "PK2"},
    ]
    apply(
        app,
        CONSUMES,
        shipped(order_id, shipment_id, {"TEE": 3, "MUG": 1}, service="express", packages=packages),
    )
    (shipment,) = app.get_order(order_id).shipments
    assert shipment["service"] == "express"
    assert [p["tracking_number"] for p in shipment["packages"]] == ["PK1", "PK2"]
    (public,) = order_shipped(app)  # the contract's ShipmentRef carries no packages
    assert public.shipments[0].tracking_number == "JD1"


def test_a_shipment_without_packages_is_recorded_as_before() -> None:
    app = Orders()
    order_id, shipment_id = confirmed_order(app), uuid4()
    apply(app, CONSUMES, shipped(order_id, shipment_id, {"TEE": 3, "MUG": 1}))
    (shipment,) = app.get_order(order_id).shipments
    assert "packages" not in shipment and "service" not in shipment


def test_a_late_shipment_after_the_order_shipped_keeps_it_shipped() -> None:
    app = Orders()
    order_id = confirmed_order(app)
    apply(app, CONSUMES, short_picked(order_id, uuid4(), ("TEE", 3, 2)))
    apply(app, CONSUMES, shipped(order_id, uuid4(), {"TEE": 2, "MUG": 1}))
    apply(
        app, CONSUMES, shipped(order_id, uuid4(), {"TEE": 1})
    )  # the missing unit turned up after all
    assert app.get_order(order_id).status == OrderStatus.SHIPPED
    assert len(order_shipped(app)) == 1


def test_a_short_picked_line_carries_only_its_share_of_what_was_paid_so_no_refund_passes_it():
    # 3 tees for 20.00 after a discount: 6.666... each. Two shipped: 13.33 paid for them,
    # cut down; the whole 20.00 would let a return of two units refund the third one too.
    app = Orders()
    line = {
        "sku": "TEE",
        "quantity": 3,
        "unit_price": "10.00",
        "discount": "10.00",
        "taxes": [{"title": "VAT", "rate": "0.19", "amount": "3.19"}],
        "paid": "20.00",
    }
    order_id = place_order(app, lines=[line])
    app.confirm_order(order_id, factories.allocations({"TEE": 3}, "WH"))
    shipment_id = uuid4()
    apply(app, CONSUMES, short_picked(order_id, shipment_id, ("TEE", 3, 2)))
    apply(app, CONSUMES, shipped(order_id, shipment_id, {"TEE": 2}))
    ((cut,),) = [p.lines for p in order_shipped(app)]
    assert (cut.quantity, str(cut.paid), str(cut.discount)) == (2, "13.33", "6.67")
    assert str(cut.taxes[0].amount) == "2.13"


def test_order_shipped_carries_the_short_units_and_what_was_paid_for_them():
    # 3 tees for 20.00 paid, two shipped: 13.33 for them (cut down), so 6.67 for the short one.
    app = Orders()
    line = {"sku": "TEE", "quantity": 3, "unit_price": "10.00", "paid": "20.00"}
    order_id = place_order(app, lines=[line, *factories.lines({"MUG": 1}, "14.50")])
    app.confirm_order(order_id, factories.allocations({"TEE": 3, "MUG": 1}, "WH"))
    shipment_id = uuid4()
    apply(app, CONSUMES, short_picked(order_id, shipment_id, ("TEE", 3, 2), ("MUG", 1, 0)))
    apply(app, CONSUMES, shipped(order_id, shipment_id, {"TEE": 2}))
    (public,) = order_shipped(app)
    assert [(s.sku, s.quantity, str(s.paid)) for s in public.short_lines or []] == [
        ("TEE", 1, "6.67"),
        ("MUG", 1, "14.50"),  # nothing of the line shipped: all of it (its price, no paid kept)
    ]
    assert [(s.sku, s.quantity, str(s.paid)) for s in public.lines] == [("TEE", 2, "13.33")]


def test_an_order_shipped_in_full_carries_no_short_lines():
    app = Orders()
    order_id, shipment_id = confirmed_order(app), uuid4()
    apply(app, CONSUMES, shipped(order_id, shipment_id, {"TEE": 3, "MUG": 1}))
    (public,) = order_shipped(app)
    assert public.short_lines is None
    assert "short_lines" not in public.to_data()


@settings(max_examples=100, deadline=None)
@given(
    lines=st.lists(
        st.tuples(st.integers(1, 6), st.integers(0, 10**6), st.booleans()),
        min_size=1,
        max_size=4,
    ),
    picked=st.lists(st.integers(0, 6), min_size=4, max_size=4),
    currency=st.sampled_from(["EUR", "KWD", "JPY"]),
)
def test_the_shipped_and_short_parts_of_every_line_add_up_to_exactly_what_was_paid(
    lines, picked, currency
):
    unit = Decimal(1).scaleb(-minor_units(currency))
    app = Orders()
    order_lines = []
    for index, (quantity, minor, keeps_paid) in enumerate(lines):
        line = {"sku": f"SKU-{index}", "quantity": quantity, "unit_price": str(minor * unit)}
        if keeps_paid:  # what was paid after a discount; older lines know only the price
            line["paid"] = str((minor * unit * quantity * 9 / 10).quantize(unit, ROUND_DOWN))
        order_lines.append(line)
    order_id = order_id_for("web", uuid4().hex)
    app.place_order(
        order_id,
        "web",
        order_id.hex,
        factories.customer(),
        factories.address(),
        order_lines,
        currency,
    )
    quantities = {line["sku"]: line["quantity"] for line in order_lines}
    app.confirm_order(order_id, factories.allocations(quantities, "WH"))
    took = {sku: min(quantity, picked[i]) for i, (sku, quantity) in enumerate(quantities.items())}
    if not any(took.values()):
        return  # nothing shipped: the order stays open for ops to cancel
    shipment_id = uuid4()
    short = [(sku, quantities[sku], took[sku]) for sku in quantities]
    apply(app, CONSUMES, short_picked(order_id, shipment_id, *short))
    apply(app, CONSUMES, shipped(order_id, shipment_id, {s: q for s, q in took.items() if q}))
    (public,) = order_shipped(app)

    def paid_of(line: dict) -> Decimal:  # what returns refunds a line from
        if line.get("paid") is not None:
            return Decimal(line["paid"])
        return Decimal(line["unit_price"]) * line["quantity"]

    shipped_paid = sum(
        (paid_of(line.model_dump(exclude_none=True)) for line in public.lines), Decimal(0)
    )
    short_paid = sum((line.paid for line in public.short_lines or []), Decimal(0))
    assert shipped_paid + short_paid == sum(paid_of(line) for line in order_lines)
    assert sum(line.quantity for line in public.short_lines or []) == sum(
        quantities[s] - took[s] for s in quantities
    )


def test_units_inventory_gave_up_are_short_and_the_order_ships_complete_without_them() -> None:
    app = Orders()
    order_id, shipment_id = place_order(app, lines=tee_and_mug(tees=3)), uuid4()
    reserved = ev.StockReserved(
        order_id=order_id,
        allocations=factories.allocations({"TEE": 2, "MUG": 1}, "WH"),
        reserved_at=ev.now_utc(),
        short=[{"sku": "TEE", "requested": 3, "available": 2}],
    )
    apply(app, CONSUMES, reserved)
    order = app.get_order(order_id)
    assert order.status == OrderStatus.CONFIRMED
    assert order.short == {"TEE": 1}

    apply(app, CONSUMES, shipped(order_id, shipment_id, {"TEE": 2, "MUG": 1}))

    assert app.get_order(order_id).status == OrderStatus.SHIPPED
    (public,) = order_shipped(app)
    assert [(line.sku, line.quantity) for line in public.lines] == [("TEE", 2), ("MUG", 1)]
    assert [(line.sku, line.quantity) for line in public.short_lines or []] == [("TEE", 1)]


def test_units_inventory_holds_later_ship_as_a_follow_up_and_then_the_order_is_shipped() -> None:
    app = Orders()
    order_id, first, second = place_order(app, lines=tee_and_mug(tees=3)), uuid4(), uuid4()
    reserved = ev.StockReserved(
        order_id=order_id,
        allocations=factories.allocations({"TEE": 2, "MUG": 1}, "WH"),
        reserved_at=ev.now_utc(),
        rest=[{"sku": "TEE", "requested": 3, "available": 2}],
        rest_request_id="rest-r0",
    )
    apply(app, CONSUMES, reserved)
    assert app.get_order(order_id).status == OrderStatus.CONFIRMED
    apply(app, CONSUMES, shipped(order_id, first, {"TEE": 2, "MUG": 1}))
    assert app.get_order(order_id).status == OrderStatus.PARTIALLY_SHIPPED

    later = ev.StockReserved(
        order_id=order_id,
        allocations=factories.allocations({"TEE": 1}, "WH"),
        reserved_at=ev.now_utc(),
        request_id="rest-r0",
    )
    apply(app, CONSUMES, later)
    parts = [p for p in published(app) if isinstance(p, ev.OrderConfirmed) and p.part]
    assert [(p.part, [(a.sku, a.quantity) for a in p.allocations]) for p in parts] == [
        ("rest-r0", [("TEE", 1)])
    ]
    apply(app, CONSUMES, shipped(order_id, second, {"TEE": 1}))
    assert app.get_order(order_id).status == OrderStatus.SHIPPED
    (public,) = order_shipped(app)
    assert public.short_lines is None
