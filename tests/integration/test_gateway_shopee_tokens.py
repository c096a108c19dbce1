"""Shopee access tokens expire (4 h at Shopee, seconds here): the gateway refreshes them before
they do and once on an expired-token answer, keeps the rotated refresh token across restarts,
refreshes once for many concurrent calls, and says so when the shop must be authorised again.

Real HTTP to the fake Shopee, real PostgreSQL; pushes make the gateway call Shopee."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.fakes import payloads as p
from tests.fakes.harness import Gateway
from tests.fakes.shopee import (
    ACCESS_TOKEN,
    PARTNER_ID,
    PARTNER_KEY,
    REFRESH_TOKEN,
    SHOP_ID,
    FakeShopee,
)

pytestmark = pytest.mark.integration
PUSH_URL = "https://oms.example.com/v1/webhooks/shopee/shopee-sg"


@pytest.fixture
def shopee() -> Iterator[FakeShopee]:
    fake = FakeShopee().start()
    yield fake
    fake.stop()


@pytest.fixture
def database(new_database: Any) -> str:
    url: str = new_database("gw_shopee_tokens")
    return url


@pytest.fixture
def start(database: str) -> Iterator[Callable[[], Gateway]]:
    """Start a gateway on the test's database (again, for a restart)."""
    started: list[Gateway] = []

    def start_gateway() -> Gateway:
        gw = Gateway(database)
        started.append(gw)
        return gw

    yield start_gateway
    for gw in started:
        with contextlib.suppress(Exception):  # a restarted one was closed by its test
            gw.close()


def connect(gw: Gateway, shopee: FakeShopee, **tokens: str) -> None:
    gw.register(
        {
            "channel_id": "shopee-sg",
            "kind": "shopee",
            "partner_id": PARTNER_ID,
            "shop_id": SHOP_ID,
            "base_url": shopee.url,
            "push_url": PUSH_URL,
            "partner_key": PARTNER_KEY,
            "sku_mapping": p.SHOPEE_SKUS,
            **(tokens or {"access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN}),
        }
    )


def push(http: httpx.Client, shopee: FakeShopee, order_sn: str) -> httpx.Response:
    """Shopee pushes an order that is ready to ship; the gateway pulls its detail."""
    shopee.add_order(p.shopee_order(order_sn))
    body = p.dumps(p.shopee_push(SHOP_ID, order_sn))
    headers = p.shopee_push_headers(PUSH_URL, body, PARTNER_KEY)
    return http.post("/v1/webhooks/shopee/shopee-sg", content=body, headers=headers)


def taken_in(gw: Gateway, order_sn: str) -> bool:
    known: bool = gw.app.intake.knows_order("shopee-sg", order_sn)
    return known


def authorisation(gw: Gateway) -> dict[str, Any]:
    response = gw.http.get("/v1/channels/shopee-sg")
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()["authorisation"]
    return state


def test_a_call_after_the_access_token_expired_refreshes_it_and_is_made_again(
    start: Callable[[], Gateway], shopee: FakeShopee
):
    gw = start()
    connect(gw, shopee)
    shopee.expire_access_tokens()

    answer = push(gw.http, shopee, "251201EXPIRED1")

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "accepted"
    assert taken_in(gw, "251201EXPIRED1")
    assert shopee.expired_answers == 1  # the first try, then the refresh, then the call again
    assert shopee.refreshed_with == [REFRESH_TOKEN]
    state = authorisation(gw)
    assert state["status"] == "ok"
    assert state["access_token_expires_at"] is not None
    assert REFRESH_TOKEN not in gw.http.get("/v1/channels/shopee-sg").text  # names only


def test_a_token_that_expires_within_the_margin_is_refreshed_before_the_call(
    start: Callable[[], Gateway], shopee: FakeShopee
):
    gw = start()
    connect(gw, shopee)
    shopee.expire_access_tokens()
    shopee.token_lifetime = 600  # 10 minutes: inside the gateway's 15-minute margin
    assert push(gw.http, shopee, "251201MARGIN01").status_code == 200  # learns the expiry
    expired_before = shopee.expired_answers

    answer = push(gw.http, shopee, "251201MARGIN02")

    assert answer.status_code == 200, answer.text
    assert taken_in(gw, "251201MARGIN02")
    assert shopee.expired_answers == expired_before  # never sent with a token about to expire
    assert len(shopee.refreshed_with) == 2
    assert shopee.sent("GET", "get_order_detail")[-1].query["access_token"] == "access-0002"


def test_the_rotated_refresh_token_survives_a_gateway_restart(
    start: Callable[[], Gateway], shopee: FakeShopee
):
    gw = start()
    connect(gw, shopee)
    shopee.expire_access_tokens()
    assert push(gw.http, shopee, "251201RESTART1").status_code == 200
    gw.close()

    again = start()
    shopee.expire_access_tokens()
    answer = push(again.http, shopee, "251201RESTART2")

    assert answer.status_code == 200, answer.text
    assert taken_in(again, "251201RESTART2")
    # The second refresh spent the token Shopee gave at the first; the first is refused now.
    assert shopee.refreshed_with == [REFRESH_TOKEN, "refresh-0001"]
    assert REFRESH_TOKEN not in shopee.refresh_tokens


def test_concurrent_calls_with_an_expired_token_refresh_it_once(
    start: Callable[[], Gateway], shopee: FakeShopee
):
    gw = start()
    connect(gw, shopee)
    shopee.expire_access_tokens()
    numbers = [f"251201CONCUR{i:02d}" for i in range(6)]

    def one(order_sn: str) -> httpx.Response:
        with httpx.Client(base_url=gw.server.url, timeout=30) as http:
            return push(http, shopee, order_sn)

    with ThreadPoolExecutor(len(numbers)) as pool:
        answers = list(pool.map(one, numbers))

    assert [a.status_code for a in answers] == [200] * len(numbers), [a.text for a in answers]
    assert all(taken_in(gw, sn) for sn in numbers)
    assert shopee.refreshed_with == [REFRESH_TOKEN]


def test_a_refused_refresh_token_says_the_shop_must_be_authorised_again(
    start: Callable[[], Gateway], shopee: FakeShopee
):
    gw = start()
    connect(gw, shopee)
    shopee.revoke_refresh_tokens()
    shopee.expire_access_tokens()

    answer = push(gw.http, shopee, "251201REFUSED1")
    again = push(gw.http, shopee, "251201REFUSED1")

    assert answer.status_code == 503, answer.text  # Shopee pushes again; nothing is dropped
    assert "re-authorisation" in answer.json()["detail"]
    assert again.status_code == 503
    assert not taken_in(gw, "251201REFUSED1")
    state = authorisation(gw)
    assert state["status"] == "reauthorisation_needed"
    assert "Invalid refresh_token" in state["problem"]
    assert state["since"] is not None
    gw.catch_up()  # the list is a read model
    listed = gw.http.get("/v1/channels", params={"kind": "shopee"}).json()["data"]
    assert listed[0]["authorisation"]["status"] == "reauthorisation_needed"
    metrics = gw.http.get("/metrics").text
    assert 'oms_channel_token_refresh_total{channel="shopee-sg",outcome="refused"}' in metrics
    assert 'oms_channel_reauthorisation_needed{channel="shopee-sg"} 1.0' in metrics
    # Asked once: once refused, the gateway waits for ops instead of asking Shopee again.
    assert shopee.sent("POST", "access_token/get") == []
    assert len([r for r in shopee.requests if "access_token/get" in r.path]) == 1

    # Ops authorise the shop again and give the gateway its new tokens.
    shopee.authorise("access-reauth", "refresh-reauth")
    connect(gw, shopee, access_token="access-reauth", refresh_token="refresh-reauth")

    assert authorisation(gw)["status"] == "ok"
    assert push(gw.http, shopee, "251201REFUSED1").status_code == 200
    assert taken_in(gw, "251201REFUSED1")


def test_without_a_refresh_token_an_expired_token_is_reported_not_skipped(
    start: Callable[[], Gateway], shopee: FakeShopee
):
    gw = start()
    connect(gw, shopee, access_token=ACCESS_TOKEN)
    shopee.expire_access_tokens()

    answer = push(gw.http, shopee, "251201NOREFR01")

    assert answer.status_code == 503, answer.text
    assert authorisation(gw)["status"] == "reauthorisation_needed"
    assert shopee.refreshed_with == []
