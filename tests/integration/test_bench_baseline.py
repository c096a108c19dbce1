"""The bench's baseline really runs our order flow on the library's System and PostgreSQL.

A baseline that skipped a step would flatter us less than it should: every order must end in
a shipment, and stock must go down by exactly the units ordered, never below zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.cli.bench_baseline import (
    LOCATION,
    Fulfillment,
    Inventory,
    Order,
    Orders,
    Shipment,
    in_minor_units,
    push_orders,
    run_baseline,
    running_system,
    stock_up,
)
from shared.cli.samples import CATALOG, SampleOrders, units_needed

pytestmark = pytest.mark.integration


@pytest.fixture
def sample() -> list[dict[str, Any]]:
    """Fifty of the bench's sample orders."""
    return SampleOrders(seed=11, prefix="baseline-test").orders(50)


def _shipment(fulfillment: Fulfillment, order: dict[str, Any]) -> Shipment:
    found: Shipment = fulfillment.repository.get(
        Shipment.create_id(str(Order.create_id(order["external_id"])))
    )
    return found


def test_every_order_gets_a_shipment_and_stock_goes_down_by_the_units_ordered(
    new_database: Callable[..., str], sample: list[dict[str, Any]]
) -> None:
    needed = units_needed(sample)
    with running_system(new_database("baseline")) as runner:
        stock_up(runner, sample)
        figures = push_orders(runner, sample)
        fulfillment, inventory = runner.get(Fulfillment), runner.get(Inventory)
        for order in sample:
            shipment = _shipment(fulfillment, order)
            assert shipment.location_id == LOCATION
            assert [(line["sku"], line["quantity"]) for line in shipment.lines] == [
                (line["sku"], line["quantity"]) for line in order["lines"]
            ]
            assert shipment.shipping_address == order["shipping_address"]
        for sku, units in needed.items():
            assert inventory.stock(LOCATION, sku).available == 2 * units - units
    assert figures["completed"] == 50
    # Intake, reservation, confirmation and shipment: one transaction each.
    assert figures["commits"] == 4 * 50


def test_orders_beyond_the_stock_are_backordered_and_stock_never_goes_below_zero(
    new_database: Callable[..., str], sample: list[dict[str, Any]]
) -> None:
    on_shelf = 5
    with running_system(new_database("baseline")) as runner:
        inventory, orders = runner.get(Inventory), runner.get(Orders)
        for sku, _, _ in CATALOG:
            inventory.receive(LOCATION, sku, on_shelf)
        figures = push_orders(runner, sample)
        placed: list[Order] = [
            orders.repository.get(Order.create_id(order["external_id"])) for order in sample
        ]
        shipped = units_needed(
            [{"lines": order.lines} for order in placed if order.status == "confirmed"]
        )
        for sku, _, _ in CATALOG:
            stock = inventory.stock(LOCATION, sku)
            assert stock.available >= 0
            assert stock.available == on_shelf - shipped.get(sku, 0)
    statuses = {order.status for order in placed}
    assert statuses == {"confirmed", "backordered"}
    assert figures["completed"] == sum(order.status == "confirmed" for order in placed)


def test_amounts_are_kept_in_minor_units(
    new_database: Callable[..., str], sample: list[dict[str, Any]]
) -> None:
    with running_system(new_database("baseline")) as runner:
        stock_up(runner, sample[:1])
        push_orders(runner, sample[:1])
        order: Order = runner.get(Orders).repository.get(Order.create_id(sample[0]["external_id"]))
    prices = [line["unit_price"] for line in order.lines]
    assert prices == [in_minor_units(line["unit_price"], "EUR") for line in sample[0]["lines"]]
    assert all(isinstance(price, int) for price in prices)
    assert order.total == sum(line["unit_price"] * line["quantity"] for line in order.lines)
    assert in_minor_units("24.90", "EUR") == 2490


def test_run_baseline_reports_every_order_shipped_from_its_own_fresh_database(
    postgres_server_url: str, sample: list[dict[str, Any]]
) -> None:
    figures = run_baseline(postgres_server_url, sample)
    assert figures["orders"] == figures["completed"] == 50
    assert figures["orders_per_s"] > 0
    assert figures["commits"] == 4 * 50
