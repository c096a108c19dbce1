"""The gateway in tests: built in-process with its API on loopback (adapters driven by the test),
or run whole on the test's broker with the `run_service` fixture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from services.channel_gateway.bootstrap import build
from services.channel_gateway.settings import Settings
from shared import events as ev
from shared.events import topics
from shared.runtime.consumer import tracking_name
from tests.fakes import payloads
from tests.fakes.server import LoopbackServer
from tests.kit import SECRETS_KEY, RunningService

# The key the gateways of the tests seal channel secrets with (`oms up` makes its own).
FAST_RETRIES = {
    "delivery_backoff_initial": 0.05,
    "delivery_backoff_max": 0.2,
    "delivery_poll_interval": 0.02,
    "delivery_max_attempts": 10,
    "connection_cache_seconds": 0.0,
    "channel_timeout": 5.0,
    # Tests of other things see no reconciliation poll after start (its tests poll by hand,
    # or set their own interval).
    "webhook_poll_interval": 3600.0,
}
TEST_SETTINGS = {"secrets_keys": SECRETS_KEY, **FAST_RETRIES}


class Gateway:
    """One gateway built in-process: HTTP on loopback; projection and poller driven by the test."""

    def __init__(self, database_url: str, **settings: Any) -> None:
        self.settings = Settings(database_url=database_url, **{**TEST_SETTINGS, **settings})
        self.parts = build(self.settings)
        self.app = self.parts.app
        self.projection = self.parts.projections[0]
        self.server = LoopbackServer(self.parts.api_factory({})).start()
        self.http = httpx.Client(base_url=self.server.url, timeout=30)

    def close(self) -> None:
        """Stop serving and close the pools."""
        self.http.close()
        self.server.stop()
        self.parts.close()

    def stored(self) -> int:
        """How many events the gateway has recorded."""
        return self.app.recorder.max_notification_id() or 0

    def register(self, body: dict[str, Any]) -> httpx.Response:
        """POST /v1/channels."""
        return register(self.http, body)

    def catch_up(self) -> None:
        """Bring the read models up to date."""
        self.projection.catch_up()

    def connect_shops(self, shopify_secret: str, woo_secret: str) -> None:
        """Connect the Shopify shop `shopify-eu` and the WooCommerce shop `woo-de` (their
        webhooks signed with these secrets), SKUs mapped as the payloads name them."""
        self.register(
            {
                "channel_id": "shopify-eu",
                "kind": "shopify",
                "shop_domain": "acme-eu.myshopify.com",
                "access_token": "shpat_secret_token_value",
                "webhook_secret": shopify_secret,
                "sku_mapping": payloads.SHOPIFY_SKUS,
            }
        )
        self.register(
            {
                "channel_id": "woo-de",
                "kind": "woocommerce",
                "base_url": "https://shop.example.de",
                "consumer_key": "ck_x",
                "consumer_secret": "cs_x",
                "webhook_secret": woo_secret,
                "sku_mapping": payloads.WOO_SKUS,
            }
        )


def run_gateway(run_service: Callable[..., RunningService], **settings: Any) -> RunningService:
    """The whole gateway on the test's broker (API, consumer, relay, projection, workers)."""
    return run_service(build, Settings, **{**TEST_SETTINGS, **settings})


def register(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    """POST /v1/channels, which must succeed."""
    response = http.post("/v1/channels", json=body)
    assert response.status_code in (200, 201), response.text
    return response


def deliveries(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """GET /v1/deliveries."""
    response = http.get("/v1/deliveries", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


def consumed(gw: RunningService, event_class: type[ev.IntegrationEvent]) -> int:
    """How far the gateway applied the topic carrying this event (its publisher's position)."""
    publisher = topics.PUBLISHER[event_class.topic]
    recorder = gw.app.process_recorder
    return max(
        recorder.max_tracking_id(tracking_name(publisher, partition)) or 0
        for partition in range(gw.parts.settings.topic_partitions)
    )
