"""The queue and channel pages' forms without the APIs: where they send the browser back to,
and what they refuse before calling anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from services.console.bootstrap import build
from services.console.sessions import COOKIE, SessionBox, new_session
from services.console.settings import Settings

KEY = Fernet.generate_key().decode()
LATER = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
DELIVERY = "/queues/deliveries/00000000-0000-0000-0000-000000000001/retry"


def signed_in(role: str = "admin") -> tuple[TestClient, str]:
    """The console with a session of this role (its APIs nowhere), and the session's CSRF."""
    nowhere = "http://127.0.0.1:9"
    settings = Settings(
        session_key=KEY,
        gateway_url=nowhere,
        orders_url=nowhere,
        inventory_url=nowhere,
        fulfillment_url=nowhere,
        returns_url=nowhere,
        api_timeout_seconds=1,
    )
    session = new_session("ops@example.com", role, "oms_x", "t1", LATER)
    http = TestClient(build(settings), follow_redirects=False)
    http.cookies.set(COOKIE, SessionBox(KEY).seal(session))
    return http, session.csrf


def test_an_action_goes_back_to_its_page_with_the_pages_filters_and_the_problem():
    http, csrf = signed_in()
    with http:
        answer = http.post(
            DELIVERY, data={"csrf_token": csrf, "back_to": "/queues/deliveries?status=skipped"}
        )
    target = urlsplit(answer.headers["location"])
    assert answer.status_code == 303 and target.path == "/queues/deliveries"
    query = parse_qs(target.query)
    assert query["status"] == ["skipped"]
    assert query["problem"][0].startswith("channel_gateway did not answer")


def test_an_action_never_sends_the_browser_to_another_site():
    http, csrf = signed_in()
    with http:
        targets = [
            http.post(DELIVERY, data={"csrf_token": csrf, "back_to": elsewhere}).headers["location"]
            for elsewhere in ("//evil.example/", "/\\evil.example/", "https://evil.example/")
        ]
    assert all(target.startswith("/queues/deliveries?problem=") for target in targets)


def test_a_mapping_with_half_a_row_or_a_channel_sku_twice_is_refused_before_the_gateway():
    http, csrf = signed_in()
    with http:
        half = http.post(
            "/channels/shopify-eu/sku-mapping",
            data={"csrf_token": csrf, "channel_sku_1": "SHOP-TEE", "oms_sku_1": ""},
        )
        twice = http.post(
            "/channels/shopify-eu/sku-mapping",
            data={
                "csrf_token": csrf,
                "channel_sku_1": "SHOP-TEE",
                "oms_sku_1": "TEE-M",
                "channel_sku_2": "SHOP-TEE",
                "oms_sku_2": "TEE-L",
            },
        )
    assert parse_qs(urlsplit(half.headers["location"]).query)["problem"] == [
        "SHOP-TEE: give both the channel's SKU and ours."
    ]
    assert parse_qs(urlsplit(twice.headers["location"]).query)["problem"] == [
        "SHOP-TEE is mapped twice: keep one row of it."
    ]


def test_a_discard_without_a_reason_is_refused_and_an_unknown_service_is_no_page():
    http, csrf = signed_in()
    with http:
        silent = http.post(
            "/queues/dlq/order_service/7/discard", data={"csrf_token": csrf, "reason": "  "}
        )
        unknown = http.post("/queues/dlq/billing/7/replay", data={"csrf_token": csrf})
    assert silent.status_code == 303
    assert "problem=Say+why" in silent.headers["location"]
    assert unknown.status_code == 404
