"""A fake SP-API: LWA tokens, Orders v2026-01-01 search/get, v0 confirmShipment, feeds."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.server import FakeChannel

REFRESH_TOKEN, CLIENT_SECRET = "Atzr|refresh-token", "lwa-client-secret"
ACCESS_TOKEN = "Atza|access-token"
PAGE_SIZE = 2  # small pages, so pagination is exercised


@dataclass
class FakeAmazon(FakeChannel):
    """Orders by id, with the packages and feeds the gateway sent."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    feeds: list[dict[str, Any]] = field(default_factory=list)
    documents: dict[str, bytes] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(50001))
    # Listings by seller SKU -> merchant-fulfilled quantity; when each was set (monotonic);
    # how many patchListingsItem calls came.
    listings: dict[str, int | None] = field(default_factory=dict)
    stock_set_at: dict[str, float] = field(default_factory=dict)
    stock_calls: int = 0

    def add_order(self, order: dict[str, Any]) -> None:
        """An order the seller received."""
        self.orders[order["orderId"]] = order

    def cancel_order(self, order_id: str, at: str) -> None:
        """Amazon (or the buyer) cancelled the order at `at` (its last update from then)."""
        order = self.orders[order_id]
        fulfillment = order.get("fulfillment") or {}
        order["fulfillment"] = {**fulfillment, "fulfillmentStatus": "CANCELLED"}
        order["lastUpdatedTime"] = at

    def routes(self) -> None:
        """Token, orders, shipment confirmation and feeds endpoints."""
        app = self.app

        @app.post("/auth/o2/token")
        async def token(request: Request) -> JSONResponse:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            if form.get("refresh_token") != REFRESH_TOKEN or (
                form.get("client_secret") != CLIENT_SECRET
            ):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            return JSONResponse({"access_token": ACCESS_TOKEN, "expires_in": 3600})

        @app.get("/orders/2026-01-01/orders")
        async def search(request: Request) -> JSONResponse:
            if request.headers.get("x-amz-access-token") != ACCESS_TOKEN:
                return JSONResponse({"errors": [{"code": "Unauthorized"}]}, status_code=403)
            after = request.query_params["lastUpdatedAfter"]
            start = int(request.query_params.get("paginationToken") or 0)
            statuses = request.query_params.get("fulfillmentStatuses")
            wanted = set(statuses.split(",")) if statuses else None
            matching = sorted(
                (
                    o
                    for o in self.orders.values()
                    if o["lastUpdatedTime"] >= after and (wanted is None or _status(o) in wanted)
                ),
                key=lambda o: (o["lastUpdatedTime"], o["orderId"]),
            )
            page = matching[start : start + PAGE_SIZE]
            included = request.query_params.get("includedData", "").split(",")
            body: dict[str, Any] = {
                "orders": [
                    {k: o[k] for k in ("orderId", "createdTime", "lastUpdatedTime", "salesChannel")}
                    | {"orderItems": o["orderItems"]}
                    | ({"fulfillment": o.get("fulfillment")} if "FULFILLMENT" in included else {})
                    for o in page
                ]
            }
            if start + PAGE_SIZE < len(matching):
                body["pagination"] = {"nextToken": str(start + PAGE_SIZE)}
            return JSONResponse(body)

        @app.get("/orders/2026-01-01/orders/{order_id}")
        async def get_order(order_id: str, request: Request) -> JSONResponse:
            if request.headers.get("x-amz-access-token") != ACCESS_TOKEN:
                return JSONResponse({"errors": [{"code": "Unauthorized"}]}, status_code=403)
            order = self.orders.get(order_id)
            if order is None:
                return JSONResponse({"errors": [{"code": "NotFound"}]}, status_code=404)
            return JSONResponse({"order": order})

        @app.post("/orders/v0/orders/{order_id}/shipmentConfirmation")
        async def confirm(order_id: str, request: Request) -> Response:
            body = await request.json()
            detail = body["packageDetail"]
            order = self.orders[order_id]
            order.setdefault("packages", []).append(
                {
                    "packageReferenceId": detail["packageReferenceId"],
                    "carrier": detail["carrierName"],
                    "trackingNumber": detail["trackingNumber"],
                    "shippingService": detail["shippingMethod"],
                    "packageItems": detail["orderItems"],
                }
            )
            return Response(status_code=204)

        @app.patch("/listings/2021-08-01/items/{seller_id}/{sku:path}")
        async def patch_listing(seller_id: str, sku: str, request: Request) -> JSONResponse:
            if request.headers.get("x-amz-access-token") != ACCESS_TOKEN:
                return JSONResponse({"errors": [{"code": "Unauthorized"}]}, status_code=403)
            body = await request.json()
            with self.lock:
                self.stock_calls += 1
                return self._patch_listing(sku, request.query_params.get("marketplaceIds"), body)

        @app.post("/feeds/2021-06-30/documents")
        async def create_document(request: Request) -> JSONResponse:
            document_id = f"amzn1.tortuga.4.eu.{next(self.ids)}"
            return JSONResponse(
                {"feedDocumentId": document_id, "url": f"{self.url}/upload/{document_id}"},
                status_code=201,
            )

        @app.put("/upload/{document_id}")
        async def upload(document_id: str, request: Request) -> Response:
            self.documents[document_id] = await request.body()
            return Response(status_code=200)

        @app.post("/feeds/2021-06-30/feeds")
        async def create_feed(request: Request) -> JSONResponse:
            body = await request.json()
            feed = {**body, "feedId": str(next(self.ids))}
            feed["content"] = self.documents.get(body["inputFeedDocumentId"], b"").decode()
            self.feeds.append(feed)
            return JSONResponse({"feedId": feed["feedId"]}, status_code=202)

    def _patch_listing(
        self, sku: str, marketplaces: str | None, body: dict[str, Any]
    ) -> JSONResponse:
        """patchListingsItem (2021-08-01): productType, JSON patches; only a replace (or
        merge) of fulfillment_availability is faked."""
        if not marketplaces or not body.get("productType") or not body.get("patches"):
            return JSONResponse({"errors": [{"code": "InvalidInput"}]}, status_code=400)
        if sku not in self.listings:
            return JSONResponse({"errors": [{"code": "NotFound"}]}, status_code=404)
        for patch in body["patches"]:
            if patch.get("op") not in ("replace", "merge") or patch.get("path") != (
                "/attributes/fulfillment_availability"
            ):
                issue = {"code": "90000900", "message": "unsupported patch", "severity": "ERROR"}
                return JSONResponse({"sku": sku, "status": "INVALID", "issues": [issue]})
            for value in patch["value"]:
                if value.get("fulfillment_channel_code") == "DEFAULT":
                    self.listings[sku] = int(value["quantity"])
                    self.stock_set_at[sku] = time.monotonic()
        submission = f"sub-{next(self.ids)}"
        return JSONResponse(
            {"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": []}
        )


def _status(order: dict[str, Any]) -> str:
    return str((order.get("fulfillment") or {}).get("fulfillmentStatus") or "UNSHIPPED")
