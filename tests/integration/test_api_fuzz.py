"""Schemathesis against each of the five APIs, run whole on loopback with real PostgreSQL and
the broker: no input is a server error, and every answer is the one the OpenAPI document shows.

Each service is seeded through its topics or its API, so its lists have rows and the OpenAPI
links lead from them (and from every create) to the operations behind ids. Schemathesis runs
as its CLI, with tests/integration/schemathesis.toml; its pytest loader (from_fixture) fails
on pytest 9.2 ('Function' object has no attribute '_nodeid').
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from shared import events as ev
from shared.events import now_utc
from tests import factories
from tests.factories_channel_gateway import canonical_order
from tests.fakes import payloads
from tests.fakes.harness import SECRETS_KEY
from tests.kit import RunningService, eventually

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Any call a service makes off this machine goes to a proxy that is not there: a channel the
# run registers names real hosts, and nothing may be sent to them.
NOWHERE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
}
# Nothing is parked in a fresh service: no parked message to show, replay or discard.
PARKED = frozenset(
    {
        "GET /v1/dlq/{message_id}",
        "POST /v1/dlq/{message_id}/replay",
        "POST /v1/dlq/{message_id}/discard",
    }
)


@dataclass(frozen=True)
class Api:
    """A service to start, how to give it something to list, and what no run can reach.

    `unreached`: operations behind ids that the run cannot make succeed, each for the reason
    given where it is listed; every other operation behind an id must answer something other
    than 404 to the requests the run makes.
    """

    package: str
    seed: Callable[[RunningService], None]
    unreached: frozenset[str] = frozenset()
    settings: dict[str, Any] = field(default_factory=dict)


def _seed_orders(orders: RunningService) -> None:
    orders.publish(factories.channel_order_received(), factories.channel_order_received())
    eventually(lambda: (orders.get_json("/v1/orders") or {}).get("count") == 2)


def _seed_inventory(inventory: RunningService) -> None:
    location = {"location_id": "WH-1", "name": "Berlin", "country": "DE"}
    assert inventory.http.post("/v1/locations", json=location).status_code == 201
    receipt = {"location_id": "WH-1", "sku": "TEE", "quantity": 10, "bin": "A-03-2"}
    assert inventory.http.post("/v1/stock/receipts", json=receipt).status_code == 201
    item = {"name": "Organic tee", "gtins": ["4006381333931"], "weight_grams": 180}
    assert inventory.http.put("/v1/items/TEE", json=item).status_code == 201
    order = factories.order_placed()
    inventory.publish(order)
    eventually(lambda: inventory.get_json(f"/v1/reservations/{order.order_id}"))
    inventory.publish(_short_picked(order.order_id))
    eventually(lambda: (inventory.get_json("/v1/stock/discrepancies") or {}).get("count") == 1)
    # A transfer to a second place and a purchase order, for their lists and links.
    other = {"location_id": "WH-2", "name": "Hamburg", "country": "DE"}
    assert inventory.http.post("/v1/locations", json=other).status_code == 201
    line = {"sku": "TEE", "quantity": 1}
    moved = {"transfer_id": "T-1", "from_location": "WH-1", "to_location": "WH-2", "lines": [line]}
    assert inventory.http.post("/v1/transfers", json=moved).status_code == 201
    po = {"po_id": "PO-1", "location_id": "WH-1", "supplier": "Acme", "lines": [line]}
    po["expected_at"] = "2026-12-14T09:00:00Z"
    assert inventory.http.post("/v1/purchase-orders", json=po).status_code == 201
    eventually(lambda: (inventory.get_json("/v1/purchase-orders") or {}).get("count") == 1)


def _short_picked(order_id: UUID) -> ev.ShortPicked:
    """One TEE of the order's two was not in its bin: a discrepancy to confirm or reject."""
    line = {"sku": "TEE", "bin": "A-03-2", "expected": 2, "picked": 1}
    return ev.ShortPicked(
        shipment_id=uuid4(),
        order_id=order_id,
        location_id="WH-1",
        pick_list_id=uuid4(),
        lines=[line],
        short_at=now_utc(),
    )


def _seed_fulfillment(fulfillment: RunningService) -> None:
    """Two shipments picked and packed, each on its own pick list, the second one shipped;
    and three open, for the pick lists the run creates.

    The oldest shipment (first in its list) still has a package to remove; the newest pick
    list (first in its list) has labels to print.
    """
    first = _packed(fulfillment, factories.order_confirmed())
    second = _packed(fulfillment, factories.order_confirmed())
    ship = {"carrier": "oms-parcel"}
    assert fulfillment.http.post(f"/v1/shipments/{second}/ship", json=ship).is_success
    fulfillment.publish(*(factories.order_confirmed() for _ in range(3)))
    eventually(lambda: (fulfillment.get_json("/v1/shipments") or {}).get("count") == 5)
    eventually(lambda: (fulfillment.get_json(f"/v1/shipments/{first}") or {}).get("packages"))


def _packed(fulfillment: RunningService, order: ev.OrderConfirmed) -> str:
    """The order's shipment at WH-1, picked on a pick list of its own and packed; its id."""
    fulfillment.publish(order)
    wanted = {"order_id": str(order.order_id)}
    eventually(lambda: (fulfillment.get_json("/v1/shipments", **wanted) or {}).get("count"))
    http = fulfillment.http
    pick_list = http.post("/v1/pick-lists", json={"location_id": "WH-1"}).json()
    picks = {"lines": [{"sku": "TEE", "picked": 2}]}
    assert http.post(f"/v1/pick-lists/{pick_list['pick_list_id']}/confirm", json=picks).is_success
    [slot] = pick_list["slots"]
    box = {"length": 300, "width": 200, "height": 120}
    package = {"items": [{"sku": "TEE", "quantity": 2}], "weight_grams": 900, "dimensions_mm": box}
    shipment_id: str = slot["shipment_id"]
    assert http.post(f"/v1/shipments/{shipment_id}/packages", json=package).status_code == 201
    return shipment_id


def _seed_returns(returns: RunningService) -> None:
    # The second order shipped one tee short: it is refunded at once (a refund without a return).
    first, second = factories.order_shipped(), factories.order_shipped()
    second = second.model_copy(
        update={"short_lines": [ev.ShortLine(sku="TEE", quantity=1, paid="24.90")]}
    )
    returns.publish(first, second)
    body = {
        "order_id": str(first.order_id),
        "lines": [{"sku": "TEE", "quantity": 1, "reason": "x"}],
    }
    eventually(lambda: returns.http.post("/v1/returns", json=body).status_code == 201)
    # The two orders may sit on different partitions: the second is not known until consumed.
    goodwill = {"order_id": str(second.order_id), "reason": "goodwill", "amount": "1.00"}
    eventually(lambda: returns.http.post("/v1/refunds", json=goodwill).status_code == 201)


def _seed_gateway(gateway: RunningService) -> None:
    assert gateway.http.post("/v1/orders", json=canonical_order()).status_code == 202
    # A cancel of an order never taken in is kept: the list of channel changes has a row.
    shop = {
        "channel_id": "fuzz-shop",
        "kind": "shopify",
        "shop_domain": "fuzz.myshopify.com",
        "access_token": "shpat_fuzz",
        "webhook_secret": "fuzz-secret",
    }
    assert gateway.http.post("/v1/channels", json=shop).status_code == 201
    body = payloads.dumps(payloads.shopify_order(1, cancelled_at="2026-12-06T11:00:00Z"))
    headers = payloads.shopify_headers(body, "fuzz-secret", "evt-fuzz", "orders/cancelled")
    kept = gateway.http.post("/v1/webhooks/shopify/fuzz-shop", content=body, headers=headers)
    assert kept.json()["status"] == "kept", kept.text
    # A user with a token: the lists of users and tokens have rows (the view follows a moment
    # after a create, so links from a fresh create may meet a 404 first).
    assert (
        gateway.http.post("/v1/users", json={"name": "fuzz", "role": "viewer"}).status_code == 201
    )
    assert gateway.http.post("/v1/users/fuzz/tokens", json={}).status_code == 201
    eventually(lambda: gateway.get_json("/v1/tokens")["count"] == 1)
    # A bill, for the list of bills and the operations behind its id.
    bill = {
        "chat": "line",
        "handle": "U1",
        "customer_name": "Nok",
        "currency": "THB",
        "lines": [{"sku": "TEE", "quantity": 1, "unit_price": "199.00"}],
    }
    assert gateway.http.post("/v1/bills", json=bill).status_code == 201
    eventually(lambda: gateway.get_json("/v1/bills")["count"] == 1)


APIS = {
    "orders": Api("order_service", _seed_orders),
    "inventory": Api(
        "inventory_service",
        _seed_inventory,
        unreached=frozenset(
            {
                # The seeded discrepancy is decided once: the second decision answers 409.
                "POST /v1/stock/discrepancies/{discrepancy_id}/confirm",
                "POST /v1/stock/discrepancies/{discrepancy_id}/reject",
                # A reservation is linked only from discrepancies: from a page of them, which
                # the generated filters and offsets mostly leave empty.
                "GET /v1/reservations/{order_id}",
                # Like a reservation, reached only through a page of transfers the generated
                # filters mostly leave empty; test_inventory_transfers covers it.
                "POST /v1/transfers/{transfer_id}/receive",
            }
        ),
    ),
    "fulfillment": Api(
        "fulfillment_service",
        _seed_fulfillment,
        unreached=frozenset(
            {
                # Confirming takes the list's own SKUs, which no generated body names; a
                # finished list answers 409 to confirm and cancel.
                "POST /v1/pick-lists/{pick_list_id}/confirm",
                "POST /v1/pick-lists/{pick_list_id}/cancel",
                # Three links from a list (to the seeded packed shipment or shipped list):
                # past the run's budget; test_fulfillment_warehouse and test_printing cover them.
                "DELETE /v1/shipments/{shipment_id}/packages/{package_id}",
                "GET /v1/pick-lists/{pick_list_id}/labels.pdf",
                "GET /v1/pick-lists/{pick_list_id}/labels.zpl",
                # Signed with the carrier's webhook secret (none is configured in this run):
                # a generated body is a 401 or 404; test_fulfillment_carriers covers them.
                "POST /v1/carriers/{carrier}/webhooks",
            }
        ),
    ),
    "returns": Api(
        "returns_service",
        _seed_returns,
        unreached=frozenset(
            {
                # A return or a refund names a shipped order and receiving names the return's
                # own SKUs, which no generated body does.
                "POST /v1/returns",
                "POST /v1/returns/{return_id}/receive",
                "POST /v1/refunds",
                # Linked from the lists, but the run draws its order ids mostly from generated
                # requests (orders never shipped: 404) and its stateful budget does not get
                # there; test_returns_refunds_service covers it.
                "GET /v1/refundable/{order_id}",
            }
        ),
    ),
    "gateway": Api(
        "channel_gateway",
        _seed_gateway,
        unreached=frozenset(
            {
                # Webhooks are signed with the channel's secret: a generated body is a 401.
                "POST /v1/webhooks/shopify/{channel_id}",
                "POST /v1/webhooks/woocommerce/{channel_id}",
                "POST /v1/webhooks/shopee/{channel_id}",
                # Deliveries follow shipments and refunds, which would call real channels.
                "GET /v1/deliveries/{delivery_id}",
                "POST /v1/deliveries/{delivery_id}/retry",
                # Only a held order can be released, and none is held.
                "POST /v1/channel-orders/{order_id}/release",
                # A retry names a SKU inventory told us about; the run publishes no stock.
                "POST /v1/stock-sync/{channel_id}/retry",
                # Paying and slips need a bill its customer confirmed on its page (outside
                # /v1, with its link's token): test_gateway_bills covers them. A bill's own
                # page is linked from the list and the create, past the stateful run's budget.
                "GET /v1/bills/{bill_id}",
                "POST /v1/bills/{bill_id}/payment",
                "GET /v1/bills/{bill_id}/slip",
            }
        ),
        # The channels the run registers name real hosts: the Amazon poller looks once at
        # start, when there are none, and not again (and see NOWHERE).
        settings={"amazon_poll_interval": 86_400.0, "secrets_keys": SECRETS_KEY},
    ),
}


def _start(name: str, run_service: Callable[..., RunningService]) -> RunningService:
    """The service, running whole on a fresh database, seeded."""
    api = APIS[name]
    bootstrap = importlib.import_module(f"services.{api.package}.bootstrap")
    settings = importlib.import_module(f"services.{api.package}.settings")
    service = run_service(bootstrap.build, settings.Settings, **api.settings)
    api.seed(service)
    return service


def _schemathesis(service: RunningService, reports: Path) -> tuple[dict[str, Any], str]:
    """Run every phase against the service; its JSON report and what it printed."""
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "--no-color"]
    token = service.http.headers["Authorization"]
    run = [
        *command,
        "run",
        f"{service.http.base_url}/openapi.json",
        "-H",
        f"Authorization: {token}",
    ]
    options = ["--report", "json", "--report-dir", str(reports)]
    done = subprocess.run(
        [*run, *options], capture_output=True, text=True, timeout=300, cwd=reports
    )
    [report] = reports.glob("*.json")
    return json.loads(report.read_text()), done.stdout + done.stderr


@pytest.mark.parametrize("name", sorted(APIS))
def test_no_input_is_a_server_error_and_every_answer_is_documented(
    name: str,
    run_service: Callable[..., RunningService],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable, value in NOWHERE.items():
        monkeypatch.setenv(variable, value)
    report, output = _schemathesis(_start(name, run_service), tmp_path)
    print(
        f"{name}: {report['operations']['tested']} operations, "
        f"{report['test_cases']['generated']} cases, {report['running_time']:.1f} s"
    )
    assert report["complete"] and not report["errors"], output
    assert report["test_cases"]["with_failures"] == 0, output
    # The links and the seeds reach every operation behind an id: none only ever 404s.
    starved = set(report["warnings"]["missing_test_data"]) - PARKED - APIS[name].unreached
    assert not starved, output


def test_a_nul_anywhere_is_a_422_before_postgresql_sees_it(
    run_service: Callable[..., RunningService],
) -> None:
    # PostgreSQL refuses NUL in text: GET /v1/dlq?topic=%00 was a 500 on all five services.
    orders = _start("orders", run_service)
    order_id = orders.get_json("/v1/orders")["data"][0]["order_id"]
    before = orders.stored()
    answers = [
        orders.http.get("/v1/dlq", params={"topic": "orders\x00"}),
        orders.http.get("/v1/orders", params={"channel": "\x00"}),
        orders.http.post(f"/v1/orders/{order_id}/cancel", json={"reason": "late\x00"}),
    ]
    assert [a.status_code for a in answers] == [422, 422, 422]
    assert {a.headers["content-type"] for a in answers} == {"application/problem+json"}
    assert orders.stored() == before
    assert orders.get_json(f"/v1/orders/{order_id}")["status"] == "placed"
