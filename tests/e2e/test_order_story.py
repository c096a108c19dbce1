"""The whole story of an order over HTTP against the running system, checked on the topics."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from shared.events.codec import decode
from tests.e2e.conftest import read_topics

pytestmark = pytest.mark.e2e


def new_sku(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6].upper()}"


def canonical_order(lines: list[dict], external_id: str | None = None) -> dict:
    return {
        "channel": "web",
        "external_id": external_id or f"E2E-{uuid.uuid4().hex[:10]}",
        "customer": {"name": "Anna Schmidt", "email": "anna@example.com"},
        "shipping_address": {
            "name": "Anna Schmidt",
            "line1": "Torstrasse 101",
            "city": "Berlin",
            "postal_code": "10119",
            "country": "DE",
        },
        "lines": lines,
        "currency": "EUR",
    }


def stock_up(api, location_id: str, sku: str, quantity: int) -> None:
    response = api.call(
        "inventory_service",
        "POST",
        "/locations",
        json={
            "location_id": location_id,
            "name": f"Warehouse {location_id}",
            "country": "DE",
        },
    )
    assert response.status_code in (200, 201, 409), response.text
    response = api.call(
        "inventory_service",
        "POST",
        "/stock/receipts",
        json={
            "location_id": location_id,
            "sku": sku,
            "quantity": quantity,
        },
        headers={"Idempotency-Key": f"receipt-{sku}-{location_id}-{quantity}"},
    )
    assert response.status_code in (200, 201, 202), response.text


def stock_of(api, sku: str) -> dict:
    response = api.call("inventory_service", "GET", f"/stock/{sku}")
    assert response.status_code == 200, response.text
    return response.json()["total"]


def test_an_order_travels_from_intake_to_refund_and_every_step_is_on_the_topics(api, system):
    tee, mug = new_sku("TEE"), new_sku("MUG")
    stock_up(api, "WH-BER", tee, 5)
    stock_up(api, "WH-BER", mug, 3)
    order = canonical_order(
        [
            {"sku": tee, "quantity": 2, "unit_price": "24.90"},
            {"sku": mug, "quantity": 1, "unit_price": "14.50"},
        ]
    )
    request_id = f"req-{uuid.uuid4()}"
    placed = api.call(
        "channel_gateway", "POST", "/orders", json=order, headers={"X-Request-ID": request_id}
    )
    assert placed.status_code == 202, placed.text
    assert placed.headers["X-Request-ID"] == request_id
    order_id = placed.json()["order_id"]
    again = api.call("channel_gateway", "POST", "/orders", json=order)
    assert again.json()["order_id"] == order_id

    confirmed = api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["status"] == "confirmed"
    )
    assert {a["sku"] for a in confirmed["allocations"]} == {tee, mug}
    assert stock_of(api, tee) == {"on_hand": 5, "reserved": 2, "available": 3}

    shipments = api.eventually(
        "fulfillment_service",
        f"/shipments?order_id={order_id}",
        lambda page: len(page["data"]) == 1,
    )["data"]
    shipped = api.call(
        "fulfillment_service",
        "POST",
        f"/shipments/{shipments[0]['shipment_id']}/ship",
        json={"carrier": "DHL", "tracking_number": "JD0146000012345678"},
    )
    assert shipped.status_code == 200, shipped.text

    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["status"] == "shipped")
    api.eventually(
        "inventory_service",
        f"/stock/{tee}",
        lambda s: s["total"] == {"on_hand": 3, "reserved": 0, "available": 3},
    )

    # Returns learns what shipped from OrderShipped, asynchronously: retry until it knows.
    rma = api.post_until(
        "returns_service",
        "/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": tee, "quantity": 1, "reason": "too small"}],
        },
        expected=201,
    )
    assert rma.status_code == 201, rma.text
    received = api.call(
        "returns_service",
        "POST",
        f"/returns/{rma.json()['return_id']}/receive",
        json={"lines": [{"sku": tee, "quantity": 1, "condition": "sellable"}]},
    )
    assert received.status_code in (200, 201), received.text

    final = api.eventually(
        "order_service",
        f"/orders/{order_id}",
        lambda o: Decimal(o["refunded_total"]) == Decimal("24.90"),
    )
    assert final["status"] == "partially_returned"
    api.eventually(
        "inventory_service",
        f"/stock/{tee}",
        lambda s: s["total"] == {"on_hand": 4, "reserved": 0, "available": 4},
    )
    assert [e["event"] for e in final["timeline"]][:2] == ["Placed", "Confirmed"]

    envelopes = [decode(r.headers, r.key, r.value) for r in read_topics(system.bootstrap)]
    mine = [e for e in envelopes if str(getattr(e.event, "order_id", "")) == order_id]
    types = {e.event.event_type() for e in mine}
    assert {
        "oms.OrderPlaced.v1",
        "oms.StockReserved.v1",
        "oms.Shipped.v1",
        "oms.Refunded.v1",
    } <= types
    order_placed = next(e for e in mine if e.event.event_type() == "oms.OrderPlaced.v1")
    assert order_placed.source == "/oms/order_service"
    assert order_placed.correlation_id == request_id
    assert sum(e.event.event_type() == "oms.OrderPlaced.v1" for e in mine) == 1


def test_a_backordered_order_is_confirmed_when_stock_arrives(api):
    cap = new_sku("CAP")
    stock_up(api, "WH-BER", cap, 1)
    order = canonical_order([{"sku": cap, "quantity": 3, "unit_price": "19.95"}])
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]
    backordered = api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["status"] == "backordered"
    )
    assert backordered["allocations"] == []
    stock_up(api, "WH-BER", cap, 2)
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["status"] == "confirmed")
    assert stock_of(api, cap) == {"on_hand": 3, "reserved": 3, "available": 0}


def test_a_backordered_order_is_promised_a_purchase_order_s_date_and_filled_by_its_receipt(api):
    lamp = new_sku("LAMP")
    stock_up(api, "WH-BER", lamp, 1)
    order = canonical_order([{"sku": lamp, "quantity": 3, "unit_price": "49.00"}])
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["status"] == "backordered")
    po = {
        "po_id": f"PO-{lamp}",
        "location_id": "WH-BER",
        "supplier": "Acme Lamps",
        "lines": [{"sku": lamp, "quantity": 5}],
        "expected_at": "2026-12-14T09:00:00Z",
    }
    assert api.call("inventory_service", "POST", "/purchase-orders", json=po).status_code == 201
    promised = api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["promise_date"] is not None
    )
    assert promised["promise_date"] == "2026-12-14T09:00:00Z"
    assert promised["timeline"][-1]["event"] == "BackorderPromised"
    receipt = {"receipt_id": "GRN-1", "lines": [{"sku": lamp, "quantity": 2}]}
    received = api.call(
        "inventory_service", "POST", f"/purchase-orders/PO-{lamp}/receipts", json=receipt
    )
    assert received.status_code == 201, received.text
    confirmed = api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["status"] == "confirmed"
    )
    assert confirmed["promise_date"] is None
    assert stock_of(api, lamp) == {"on_hand": 3, "reserved": 3, "available": 0}


def test_a_cancelled_order_gives_its_stock_back_and_its_shipment_is_cancelled(api):
    sock = new_sku("SOCK")
    stock_up(api, "WH-BER", sock, 4)
    order = canonical_order([{"sku": sock, "quantity": 3, "unit_price": "12.00"}])
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]
    api.eventually(
        "fulfillment_service",
        f"/shipments?order_id={order_id}",
        lambda page: len(page["data"]) == 1,
    )
    cancelled = api.call(
        "order_service",
        "POST",
        f"/orders/{order_id}/cancel",
        json={"reason": "customer changed their mind"},
    )
    assert cancelled.status_code == 202, cancelled.text
    api.eventually(
        "inventory_service",
        f"/stock/{sock}",
        lambda s: s["total"] == {"on_hand": 4, "reserved": 0, "available": 4},
    )
    api.eventually(
        "fulfillment_service",
        f"/shipments?order_id={order_id}",
        lambda page: page["data"][0]["status"] == "cancelled",
    )


def test_concurrent_orders_for_the_last_units_never_oversell(api):
    bag = new_sku("BAG")
    stock_up(api, "WH-BER", bag, 3)
    order_ids = [
        api.call(
            "channel_gateway",
            "POST",
            "/orders",
            json=canonical_order([{"sku": bag, "quantity": 1, "unit_price": "16.80"}]),
        ).json()["order_id"]
        for _ in range(10)
    ]
    statuses = [
        api.eventually(
            "order_service",
            f"/orders/{order_id}",
            lambda o: o["status"] in ("confirmed", "backordered"),
        )["status"]
        for order_id in order_ids
    ]
    assert statuses.count("confirmed") == 3
    assert statuses.count("backordered") == 7
    assert stock_of(api, bag) == {"on_hand": 3, "reserved": 3, "available": 0}


def test_bad_input_gets_a_problem_and_records_nothing(api):
    bad = canonical_order([{"sku": "TEE", "quantity": 0, "unit_price": "24.90"}])
    answer = api.call("channel_gateway", "POST", "/orders", json=bad)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "quantity" in answer.json()["detail"]
    unknown = api.call("order_service", "GET", f"/orders/{uuid.uuid4()}")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    not_there = api.call(
        "fulfillment_service",
        "POST",
        f"/shipments/{uuid.uuid4()}/ship",
        json={"carrier": "DHL", "tracking_number": "X1"},
    )
    assert not_there.status_code == 404


def test_a_restart_of_the_whole_system_loses_nothing_and_applies_nothing_twice(api, system):
    hood = new_sku("HOOD")
    stock_up(api, "WH-BER", hood, 5)
    order = canonical_order([{"sku": hood, "quantity": 2, "unit_price": "59.00"}])
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["status"] == "confirmed")
    before = stock_of(api, hood)

    system.restart()  # services stop, the memory-only broker forgets its log

    assert api.call("order_service", "GET", f"/orders/{order_id}").json()["status"] == "confirmed"
    second = canonical_order([{"sku": hood, "quantity": 1, "unit_price": "59.00"}])
    second_id = api.call("channel_gateway", "POST", "/orders", json=second).json()["order_id"]
    api.eventually(
        "order_service", f"/orders/{second_id}", lambda o: o["status"] == "confirmed", timeout=60
    )
    assert before == {"on_hand": 5, "reserved": 2, "available": 3}
    assert stock_of(api, hood) == {"on_hand": 5, "reserved": 3, "available": 2}
    # Fulfillment's read model catches up on its own after the restart; exactly one shipment.
    shipments = api.eventually(
        "fulfillment_service", f"/shipments?order_id={order_id}", lambda page: page["data"]
    )
    assert len(shipments["data"]) == 1
