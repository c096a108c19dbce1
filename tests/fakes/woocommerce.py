"""A fake WooCommerce REST API with the Shipment Tracking extension; the orders list
(modified_after, dates_are_gmt, orderby=modified, per_page, page, X-WP-TotalPages) and the
order.created / order.updated webhooks of the orders it `place`s, which it can lose."""

from __future__ import annotations

import base64
import itertools
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tests.fakes import payloads as p
from tests.fakes.server import FakeChannel

KEY, SECRET = "ck_test_key", "cs_test_secret"
PER_PAGE_MAX = 100


def gmt_now() -> str:
    """WooCommerce's *_gmt times: to the second, no offset."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class FakeWooCommerce(FakeChannel):
    """Orders, their tracking items and refunds; basic auth with the REST API keys."""

    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    trackings: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    refunds: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(900))
    deliveries: Any = field(default_factory=lambda: itertools.count(1))
    # Products by id ({"id", "sku", "parent_id", "manage_stock", "stock_quantity"}); when the
    # stock of each was set (monotonic clock); how many product updates came.
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    stock_set_at: dict[int, float] = field(default_factory=dict)
    stock_calls: int = 0

    def add_product(self, sku: str, parent_id: int = 0) -> int:
        """A product (or, with a parent, a variation) with this SKU, stock not managed."""
        with self.lock:
            product_id = next(self.ids)
            self.products[product_id] = {
                "id": product_id,
                "sku": sku,
                "parent_id": parent_id,
                "manage_stock": False,
                "stock_quantity": None,
            }
            return product_id

    def stock_of(self, sku: str) -> int | None:
        """The stock_quantity of the product with this SKU (None: not managed)."""
        with self.lock:
            product = next(p for p in self.products.values() if p["sku"] == sku)
            return product["stock_quantity"] if product["manage_stock"] else None

    def add_order(self, payload: dict[str, Any]) -> int:
        """Make an order as in an order.created payload."""
        self.orders[payload["id"]] = dict(payload)
        return int(payload["id"])

    def place(self, payload: dict[str, Any], lose_webhook: bool = False) -> int:
        """A buyer places an order: it is listed, and order.created is sent (or lost)."""
        stamp = gmt_now()
        order = {**payload, "date_created_gmt": stamp, "date_modified_gmt": stamp}
        with self.lock:
            self.orders[order["id"]] = order
        self._webhook(order, "order.created", lose_webhook)
        return int(order["id"])

    def change(self, order_id: int, lose_webhook: bool = False, **changes: Any) -> None:
        """The merchant changes an order (its status, say): date_modified_gmt moves and
        order.updated is sent, or lost."""
        with self.lock:
            order = self.orders[order_id]
            order.update(changes, date_modified_gmt=gmt_now())
        self._webhook(order, "order.updated", lose_webhook)

    def _webhook(self, order: dict[str, Any], topic: str, lose: bool) -> None:
        body = p.dumps(order)
        secret = self.webhooks.secret if self.webhooks else ""
        headers = p.woo_headers(body, secret, f"d-{next(self.deliveries)}")
        headers["X-WC-Webhook-Topic"] = topic
        self.send_webhook(body, headers, lose)

    def _list(self, query: dict[str, str]) -> JSONResponse:
        """Orders modified after a time (GMT with dates_are_gmt), by modified date, a page."""
        per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
        if per_page > PER_PAGE_MAX:
            message = "per_page must be between 1 (inclusive) and 100 (inclusive)"
            return JSONResponse({"code": "rest_invalid_param", "message": message}, 400)
        if query.get("orderby", "date") != "modified" or query.get("dates_are_gmt") != "true":
            return JSONResponse({"code": "faked", "message": "only the GMT modified list"}, 400)
        after = query.get("modified_after")
        matching = sorted(
            (o for o in self.orders.values() if after is None or _modified(o) > after),
            key=lambda o: (_modified(o), o["id"]),
            reverse=query.get("order", "desc") == "desc",
        )
        rows = matching[(page - 1) * per_page : page * per_page]
        pages = max(1, math.ceil(len(matching) / per_page))
        headers = {"X-WP-Total": str(len(matching)), "X-WP-TotalPages": str(pages)}
        return JSONResponse(rows, headers=headers)

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

        @app.get("/wp-json/wc/v3/products")
        async def list_products(request: Request) -> JSONResponse:
            refused = self._authed(request)
            if refused:
                return refused
            sku = request.query_params.get("sku")
            with self.lock:
                found = [dict(p) for p in self.products.values() if sku in (None, p["sku"])]
            return JSONResponse(found)

        @app.put("/wp-json/wc/v3/products/{product_id}")
        async def update_product(product_id: int, request: Request) -> JSONResponse:
            return await self._update_stock(product_id, request, parent_id=0)

        @app.put("/wp-json/wc/v3/products/{parent_id}/variations/{product_id}")
        async def update_variation(
            parent_id: int, product_id: int, request: Request
        ) -> JSONResponse:
            return await self._update_stock(product_id, request, parent_id)

        @app.get("/wp-json/wc/v3/orders")
        async def list_orders(request: Request) -> JSONResponse:
            denied = self._authed(request)
            if denied:
                return denied
            with self.lock:
                return self._list(dict(request.query_params))

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

    async def _update_stock(
        self, product_id: int, request: Request, parent_id: int
    ) -> JSONResponse:
        """PUT of a product or variation: stock_quantity counts only with manage_stock."""
        refused = self._authed(request)
        if refused:
            return refused
        body = await request.json()
        with self.lock:
            self.stock_calls += 1
            product = self.products.get(product_id)
            if product is None or product["parent_id"] != parent_id:
                return JSONResponse({"code": "woocommerce_rest_product_invalid_id"}, 404)
            if "manage_stock" in body:
                product["manage_stock"] = bool(body["manage_stock"])
            if "stock_quantity" in body:
                if not isinstance(body["stock_quantity"], int):
                    return JSONResponse({"code": "rest_invalid_param"}, 400)
                product["stock_quantity"] = body["stock_quantity"]
                self.stock_set_at[product_id] = time.monotonic()
            return JSONResponse(dict(product))

    @staticmethod
    def _authed(request: Request) -> JSONResponse | None:
        expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse({"code": "woocommerce_rest_cannot_view"}, status_code=401)
        return None


def _modified(order: dict[str, Any]) -> str:
    return str(order.get("date_modified_gmt") or order.get("date_created_gmt") or "")
