"""A fake WooCommerce REST API with the Shipment Tracking extension."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tests.fakes.server import FakeChannel

KEY, SECRET = "ck_test_key", "cs_test_secret"


@dataclass
class FakeWooCommerce(FakeChannel):
    """Orders, their tracking items and refunds; basic auth with the REST API keys."""

    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    trackings: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    refunds: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(900))

    def add_order(self, payload: dict[str, Any]) -> int:
        """Make an order as in an order.created payload."""
        self.orders[payload["id"]] = dict(payload)
        return int(payload["id"])

    def routes(self) -> None:
        """/wp-json/wc/v3 orders and refunds, /wp-json/wc-shipment-tracking/v3 trackings."""
        app = self.app
        tracking_path = "/wp-json/wc-shipment-tracking/v3/orders/{order_id}/shipment-trackings"

        @app.get(tracking_path)
        async def list_trackings(order_id: int, request: Request) -> JSONResponse:
            return self._authed(request) or JSONResponse(self.trackings.get(order_id, []))

        @app.post(tracking_path)
        async def add_tracking(order_id: int, request: Request) -> JSONResponse:
            denied = self._authed(request)
            if denied:
                return denied
            body = await request.json()
            item = {
                "tracking_id": f"trk{next(self.ids)}",
                "tracking_provider": body.get("custom_tracking_provider")
                or body.get("tracking_provider"),
                "tracking_number": body["tracking_number"],
                "date_shipped": body.get("date_shipped"),
            }
            self.trackings.setdefault(order_id, []).append(item)
            return JSONResponse(item, status_code=201)

        @app.get("/wp-json/wc/v3/orders/{order_id}")
        async def get_order(order_id: int, request: Request) -> JSONResponse:
            return self._authed(request) or JSONResponse(self.orders[order_id])

        @app.put("/wp-json/wc/v3/orders/{order_id}")
        async def update_order(order_id: int, request: Request) -> JSONResponse:
            denied = self._authed(request)
            if denied:
                return denied
            body = await request.json()
            order = self.orders[order_id]
            if "line_items" in body:
                problem = self._edit_lines(order, body.pop("line_items"))
                if problem:
                    return JSONResponse(
                        {"code": "woocommerce_rest_invalid_item_id", "message": problem}, 400
                    )
            order.update(body)
            return JSONResponse(order)

        @app.get("/wp-json/wc/v3/orders/{order_id}/refunds")
        async def list_refunds(order_id: int, request: Request) -> JSONResponse:
            return self._authed(request) or JSONResponse(self.refunds.get(order_id, []))

        @app.post("/wp-json/wc/v3/orders/{order_id}/refunds")
        async def refund(order_id: int, request: Request) -> JSONResponse:
            denied = self._authed(request)
            if denied:
                return denied
            body = await request.json()
            created = {"id": next(self.ids), **body}
            self.refunds.setdefault(order_id, []).append(created)
            return JSONResponse(created, status_code=201)

    def _edit_lines(self, order: dict[str, Any], items: list[dict[str, Any]]) -> str | None:
        """Line items of an update, as WooCommerce takes them: with an `id` the order's item is
        changed (quantity 0 removes it), without one a new item is added (by product_id or
        name); None when all is well, else why not (nothing is changed then)."""
        lines = [dict(item) for item in order.get("line_items") or []]
        for change in items:
            if "id" in change:
                at = next((i for i, x in enumerate(lines) if x["id"] == change["id"]), None)
                if at is None:
                    return "Order item ID provided is not associated with order."
                if change.get("quantity") == 0:
                    del lines[at]
                    continue
                lines[at].update(change)
                continue
            if not change.get("product_id") and not change.get("name"):
                return "Line item needs a product_id or a name."
            if not isinstance(change.get("quantity"), int) or change["quantity"] <= 0:
                return "Product quantity must be a positive float."
            lines.append({"id": next(self.ids), "product_id": 0, "sku": "", **change})
        order["line_items"] = lines
        return None

    @staticmethod
    def _authed(request: Request) -> JSONResponse | None:
        expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse({"code": "woocommerce_rest_cannot_view"}, status_code=401)
        return None
