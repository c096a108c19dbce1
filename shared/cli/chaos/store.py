"""A fake WooCommerce store on loopback: the channel the chaos harness's orders come from.

It answers the calls the gateway's WooCommerce client makes and records every write, so the
harness can count what reached the channel: one tracking item per shipped package, one refund
per refund, a cancel per cancelled order. It never deduplicates by itself: a second write is
recorded as such. For a while it can turn flaky: slow, refusing, losing answers.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.runtime.embedded import free_port

KEY, SECRET = "ck_chaos", "cs_chaos"


@dataclass
class StoreLedger:
    """What the store was told, per order (the WooCommerce order id)."""

    trackings: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    refunds: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    cancels: Counter[int] = field(default_factory=Counter)
    completes: Counter[int] = field(default_factory=Counter)
    refused: int = 0  # answered 503 while flaky, nothing applied
    lost: int = 0  # applied while flaky, but answered 500 as if the answer got lost

    def tracking_posts(self) -> Counter[tuple[int, str]]:
        """How often each (order, tracking number) was added."""
        return Counter(
            (order, str(item["tracking_number"]))
            for order, items in self.trackings.items()
            for item in items
        )

    def refund_posts(self) -> Counter[tuple[int, str]]:
        """How often each (order, refund reason) was refunded; our reason names our refund id."""
        return Counter(
            (order, str(item.get("reason") or ""))
            for order, items in self.refunds.items()
            for item in items
        )


class FakeStore:
    """The store's REST API (basic auth with its keys), served by uvicorn in a thread."""

    def __init__(self) -> None:
        self.ledger = StoreLedger()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._status: dict[int, str] = {}
        self._flaky_until = 0.0
        self._rng = random.Random(0)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-store", daemon=True)

    def start(self) -> FakeStore:
        """Serve; returns once the port answers."""
        self._thread.start()  # in a thread, uvicorn leaves the process's signals alone
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake store did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def flaky_for(self, seconds: float, seed: int) -> None:
        """For a while, answer slowly, refuse some requests and lose the answers of some writes."""
        self._rng = random.Random(seed)
        self._flaky_until = time.monotonic() + seconds

    def channel(self, channel_id: str) -> dict[str, Any]:
        """The body of `POST /v1/channels` that connects the gateway to this store."""
        return {
            "channel_id": channel_id,
            "kind": "woocommerce",
            "base_url": self.url,
            "consumer_key": KEY,
            "consumer_secret": SECRET,
            "webhook_secret": "chaos-webhook-secret",
            "require_sku_mapping": False,
        }

    def _app(self) -> FastAPI:
        app = FastAPI()
        tracking = "/wp-json/wc-shipment-tracking/v3/orders/{order_id}/shipment-trackings"
        ledger, lock = self.ledger, self._lock

        @app.get(tracking)
        def list_trackings(order_id: int) -> JSONResponse:
            with lock:
                return JSONResponse(list(ledger.trackings.get(order_id, [])))

        @app.post(tracking)
        async def add_tracking(order_id: int, request: Request) -> JSONResponse:
            body = await request.json()
            with lock:
                item = {
                    "tracking_id": f"trk{next(self._ids)}",
                    "tracking_provider": body.get("custom_tracking_provider"),
                    "tracking_number": body["tracking_number"],
                }
                ledger.trackings.setdefault(order_id, []).append(item)
            return JSONResponse(item, status_code=201)

        @app.get("/wp-json/wc/v3/orders/{order_id}")
        def get_order(order_id: int) -> JSONResponse:
            with lock:
                status = self._status.get(order_id, "processing")
            return JSONResponse({"id": order_id, "status": status, "line_items": []})

        @app.put("/wp-json/wc/v3/orders/{order_id}")
        async def update_order(order_id: int, request: Request) -> JSONResponse:
            status = (await request.json()).get("status", "processing")
            with lock:
                self._status[order_id] = status
                if status == "cancelled":
                    ledger.cancels[order_id] += 1
                elif status == "completed":
                    ledger.completes[order_id] += 1
            return JSONResponse({"id": order_id, "status": status})

        @app.get("/wp-json/wc/v3/orders/{order_id}/refunds")
        def list_refunds(order_id: int) -> JSONResponse:
            with lock:
                return JSONResponse(list(ledger.refunds.get(order_id, [])))

        @app.post("/wp-json/wc/v3/orders/{order_id}/refunds")
        async def refund(order_id: int, request: Request) -> JSONResponse:
            body = await request.json()
            with lock:
                created = {"id": next(self._ids), **body}
                ledger.refunds.setdefault(order_id, []).append(created)
            return JSONResponse(created, status_code=201)

        expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()

        @app.middleware("http")
        async def auth_and_faults(request: Request, call_next: Any) -> Any:
            if request.headers.get("authorization") != expected:
                return JSONResponse({"code": "woocommerce_rest_cannot_view"}, status_code=401)
            if time.monotonic() >= self._flaky_until:
                return await call_next(request)
            await asyncio.sleep(self._rng.uniform(0.0, 1.0))
            draw = self._rng.random()
            if draw < 0.3:
                ledger.refused += 1
                return JSONResponse({"code": "unavailable"}, status_code=503)
            response = await call_next(request)
            if request.method != "GET" and draw < 0.6:
                ledger.lost += 1
                return JSONResponse({"code": "internal_server_error"}, status_code=500)
            return response

        return app
