"""A bill that reserves its stock when it is made (OMS_GATEWAY_BILL_RESERVE_ON_CREATE), against
the running system: inventory's ATP drops as the seller makes it, the customer's address reaches
the order service when they confirm, and the stock comes back when a bill expires unconfirmed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from shared.cli.system import EmbeddedSystem
from tests.e2e.test_order_story import new_sku, stock_up
from tests.kit import eventually
from tests.systems import Api, running_system

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def reserving_system(tmp_path_factory, postgres_server_url) -> Iterator[EmbeddedSystem]:
    """The five services, the gateway reserving a bill's stock when it is made; bills are
    open 15 seconds, swept every half second, so one can expire within the test."""
    env = {
        "OMS_GATEWAY_BILL_RESERVE_ON_CREATE": "true",
        "OMS_GATEWAY_BILL_BANK_ACCOUNT": "SCB 123-456789-0 (Shop Co., Ltd.)",
        "OMS_GATEWAY_BILL_VALID_HOURS": str(15 / 3600),
        "OMS_GATEWAY_BILL_EXPIRY_SWEEP_SECONDS": "0.5",
    }
    var_dir = tmp_path_factory.mktemp("oms-bill-reserve")
    with running_system(
        var_dir, postgres_server_url, "billres", stream_jobs=False, extra_env=env
    ) as oms:
        yield oms


@pytest.fixture(scope="module")
def seller(reserving_system: EmbeddedSystem) -> Iterator[Api]:
    client = Api(reserving_system.urls(), reserving_system.admin_token)
    yield client
    client.http.close()


def atp_of(seller: Api, sku: str) -> int:
    answer = seller.call("inventory_service", "GET", f"/atp/{sku}")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


def make_bill(seller: Api, sku: str, quantity: int) -> dict:
    return seller.ok(
        "channel_gateway",
        "POST",
        "/bills",
        json={
            "chat": "line",
            "handle": "U4af4980629",
            "customer_name": "สมหญิง รักดี",
            "currency": "THB",
            "lines": [{"sku": sku, "quantity": quantity, "unit_price": "250.00", "title": "เสื้อ"}],
        },
    )


def test_a_bill_holds_its_stock_from_when_it_is_made_and_ships_to_the_address_confirmed(
    seller: Api, reserving_system: EmbeddedSystem
):
    tee = new_sku("TEE")
    stock_up(seller, "WH-BILL", tee, 5)
    assert eventually(lambda: atp_of(seller, tee) == 5 or None)

    made = make_bill(seller, tee, 2)
    # Another channel can no longer sell the two units the chat's customer is deciding on.
    assert eventually(lambda: atp_of(seller, tee) == 3 or None)
    found = seller.eventually(
        "order_service",
        f"/orders?q={made['number']}",
        lambda page: page["data"] and page["data"][0]["status"] == "awaiting_payment",
    )
    placed = found["data"][0]
    assert placed["payment_state"] == "pending"

    path = "/b/" + made["link"].rsplit("/b/", 1)[1]
    with httpx.Client(base_url=reserving_system.urls()["channel_gateway"], timeout=15) as phone:
        page = phone.get(path)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf, page.text
        confirmed = phone.post(
            f"{path}/confirm",
            data={
                "csrf": csrf.group(1),
                "name": "สมหญิง รักดี",
                "phone": "0891234567",
                "line1": "12 ถนนนิมมานเหมินท์",
                "city": "เมืองเชียงใหม่",
                "postal_code": "50200",
                "payment_method": "transfer",
            },
        )
        assert confirmed.status_code == 303, confirmed.text
    order = seller.eventually(
        "order_service",
        f"/orders/{placed['order_id']}",
        lambda o: o["shipping_address"]["postal_code"] == "50200",
    )
    assert order["status"] == "awaiting_payment"  # a transfer is awaited: nothing ships yet
    assert atp_of(seller, tee) == 3  # reserved once, not twice


def test_a_bill_left_unconfirmed_gives_its_stock_back_when_it_expires(seller: Api):
    mug = new_sku("MUG")
    stock_up(seller, "WH-BILL", mug, 4)
    assert eventually(lambda: atp_of(seller, mug) == 4 or None)
    made = make_bill(seller, mug, 3)
    assert eventually(lambda: atp_of(seller, mug) == 1 or None)
    seller.eventually(
        "channel_gateway",
        f"/bills/{made['bill_id']}",
        lambda b: b["status"] == "expired",
        timeout=45,
    )
    assert eventually(lambda: atp_of(seller, mug) == 4 or None)
