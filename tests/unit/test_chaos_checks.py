"""The chaos harness's checks on made-up snapshots: a consistent world passes, and each kind
of loss or double effect is named."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from shared.cli.chaos.checks import Snapshot, run_checks
from shared.cli.chaos.store import StoreLedger
from shared.cli.chaos.traffic import Api, Order, Traffic, make_orders

LOC = "CH-BER"


@pytest.fixture
def world() -> tuple[Traffic, StoreLedger, Snapshot]:
    """One order shipped and partly returned with a refund, one cancelled; all consistent."""
    orders = make_orders(2, seed=3, tag="T")
    shipped, cancelled = orders
    for order, plan in ((shipped, "return"), (cancelled, "cancel")):
        order.plan = plan
        order.body["lines"] = [{"sku": "TEE-T", "quantity": 2, "unit_price": "10.00"}]
    traffic = Traffic(Api({}), orders, "T", seed=3)
    for n, order in enumerate(orders):
        order.order_id = f"00000000-0000-0000-0000-00000000000{n}"
        order.accepted = True
        traffic.by_id[order.order_id] = order
    shipped.returned = Counter({"TEE-T": 1})
    shipped.return_received = True
    cancelled.cancel_answer = 202
    traffic.ledger.received[("TEE-T", LOC)] = 10
    traffic.ledger.adjusted[("TEE-T", LOC)] = -1

    shipment = {"sku": "TEE-T", "quantity": 2}
    seen = Snapshot(
        orders={
            shipped.order_id: _order("partially_returned", [shipment], {"TEE-T": 1}, "10.00"),
            cancelled.order_id: _order("cancelled", [], {}, "0"),
        },
        reservations={
            shipped.order_id: {"status": "consumed", "allocations": []},
            cancelled.order_id: {"status": "released", "allocations": []},
        },
        shipments=[
            {
                "shipment_id": "s1",
                "order_id": shipped.order_id,
                "location_id": LOC,
                "status": "shipped",
                "lines": [shipment],
                "packages": [],
                "tracking_number": "TRK1",
            },
            {
                "shipment_id": "s2",
                "order_id": cancelled.order_id,
                "location_id": LOC,
                "status": "cancelled",
                "lines": [shipment],
                "packages": [],
                "tracking_number": None,
            },
        ],
        returns=[
            {
                "receipts": [
                    {
                        "lines": [
                            {
                                "sku": "TEE-T",
                                "quantity": 1,
                                "condition": "sellable",
                                "location_id": LOC,
                            }
                        ]
                    }
                ]
            }
        ],
        refunds=[{"refund_id": "r1", "order_id": shipped.order_id, "amount": "10.00"}],
        stock={
            "TEE-T": {
                "sku": "TEE-T",
                "locations": [{"location_id": LOC, "on_hand": 8, "reserved": 0, "available": 8}],
                "total": {"on_hand": 8, "reserved": 0, "available": 8},
            }
        },
        deliveries=[_delivery("shipment"), _delivery("cancellation"), _delivery("refund")],
        parked={"order_service": []},
        ready={"order_service": "ready"},
    )
    store = StoreLedger()
    store.trackings[shipped.woo_id] = [{"tracking_number": "TRK1"}]
    store.refunds[shipped.woo_id] = [{"reason": "OMS refund r1"}]
    return traffic, store, seen


def _order(
    status: str, shipped: list[dict[str, Any]], returned: dict[str, int], refunded: str
) -> dict[str, Any]:
    return {
        "status": status,
        "allocations": [{"sku": "TEE-T", "location_id": LOC, "quantity": 2}] if shipped else [],
        "shipments": [{"lines": shipped}] if shipped else [],
        "returned": returned,
        "refunded_total": refunded,
        "timeline": [{"event": "Placed", "detail": {"n": 1}}],
    }


def _delivery(action: str) -> dict[str, Any]:
    return {
        "action": action,
        "external_id": "1",
        "status": "delivered",
        "attempts": 1,
        "last_error": None,
    }


def failing(traffic: Traffic, store: StoreLedger, seen: Snapshot) -> dict[str, list[str]]:
    return {c.name: c.failures for c in run_checks(traffic, store, seen) if not c.passed}


def test_a_consistent_world_passes_every_check(world):
    assert failing(*world) == {}


def test_a_second_refund_at_the_channel_fails_the_refund_check(world):
    traffic, store, seen = world
    store.refunds[traffic.orders[0].woo_id].append({"reason": "OMS refund r1"})
    assert list(failing(traffic, store, seen)) == [
        "each Refunded gives exactly one refund at the channel"
    ]


def test_a_shipment_the_channel_never_heard_of_fails_the_fulfilment_check(world):
    traffic, store, seen = world
    store.trackings.clear()
    failures = failing(traffic, store, seen)
    assert failures == {
        "each Shipped gives exactly one fulfilment at the channel": [
            f"order {traffic.orders[0].woo_id} tracking TRK1: 0 fulfilments at the channel"
        ]
    }


def test_a_unit_lost_from_on_hand_fails_the_conservation_check(world):
    traffic, store, seen = world
    seen.stock["TEE-T"]["locations"][0]["on_hand"] = 7
    name = "stock conserved: on hand = received - shipped + restocked +/- adjusted"
    failures = failing(traffic, store, seen)
    assert list(failures) == [name]
    assert "on hand 7, the movements say 8" in failures[name][0]


def test_a_damaged_return_not_in_quarantine_fails_the_quarantine_check_only(world):
    traffic, store, seen = world
    line = {"sku": "TEE-T", "quantity": 1, "condition": "damaged", "location_id": LOC}
    seen.returns[0]["receipts"].append({"lines": [line]})
    name = "damaged returns conserved: quarantined = damaged returned"
    failures = failing(traffic, store, seen)
    assert failures == {name: [f"TEE-T at {LOC}: quarantined 0, damaged returns say 1"]}
    seen.stock["TEE-T"]["locations"][0]["quarantined"] = 1
    assert failing(traffic, store, seen) == {}


def test_an_event_applied_twice_and_a_stranded_order_are_both_named(world):
    traffic, store, seen = world
    order = seen.orders[traffic.orders[0].order_id]
    order["timeline"] = order["timeline"] * 2
    seen.orders[traffic.orders[1].order_id]["status"] = "placed"
    failures = failing(traffic, store, seen)
    assert "no event twice in any order's timeline" in failures
    stranded = failures["every order ends where its story leads, none stranded"]
    assert "is placed, expected cancelled" in stranded[0]


def test_a_parked_message_and_a_reservation_left_holding_fail_their_checks(world):
    traffic, store, seen = world
    seen.parked["order_service"] = [{"topic": "oms.returns.v1", "reason": "boom"}]
    seen.reservations[traffic.orders[1].order_id] = {
        "status": "reserved",
        "allocations": [{"sku": "TEE-T", "location_id": LOC, "quantity": 2}],
    }
    failures = failing(traffic, store, seen)
    assert failures["the DLQ is empty on every service"] == ["order_service: oms.returns.v1 boom"]
    assert "reserved = the sum of open reservations, per SKU and location" in failures
    assert "fulfillment and inventory agree with each order's status" in failures


def test_orders_are_the_same_for_the_same_seed():
    first, again = make_orders(50, seed=9, tag="X"), make_orders(50, seed=9, tag="X")
    assert [(o.plan, o.mode, o.body) for o in first] == [(o.plan, o.mode, o.body) for o in again]
    assert {o.plan for o in first} == {"cancel", "ship", "return", "leave"}
    assert all(isinstance(o, Order) for o in first)
