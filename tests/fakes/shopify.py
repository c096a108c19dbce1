"""A fake Shopify Admin GraphQL API: orders with fulfillment orders, fulfillments, cancels,
refunds (honouring @idempotent keys); and the refunds/create webhook bodies of its refunds, made
by the app or by the merchant in Shopify's admin."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tests.fakes.server import FakeChannel

TOKEN = "shpat_test_token"


@dataclass
class FakeShopify(FakeChannel):
    """Speaks the few GraphQL operations the gateway sends, by operationName."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1))

    def routes(self) -> None:
        """POST /admin/api/<version>/graphql.json."""

        @self.app.post("/admin/api/{version}/graphql.json")
        async def graphql(version: str, request: Request) -> JSONResponse:
            if request.headers.get("X-Shopify-Access-Token") != TOKEN:
                return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
            body = await request.json()
            handler = getattr(self, f"_{body.get('operationName')}", None)
            if handler is None:
                return JSONResponse({"errors": [{"message": "unknown operation"}]})
            with self.lock:
                return JSONResponse({"data": handler(body.get("variables") or {})})

    def add_order(self, payload: dict[str, Any]) -> str:
        """Make an order (as from an orders/create payload) with one open fulfillment order."""
        gid = payload["admin_graphql_api_id"]
        self.orders[gid] = {
            "id": gid,
            "cancelledAt": None,
            "fulfillments": [],
            "refunds": {},
            "fulfillmentOrders": [
                {
                    "id": f"gid://shopify/FulfillmentOrder/{next(self.ids)}",
                    "status": "OPEN",
                    "lineItems": [
                        {
                            "id": f"gid://shopify/FulfillmentOrderLineItem/{item['id']}",
                            "remainingQuantity": item["quantity"],
                            "sku": item["sku"],
                            "lineItem": {"id": f"gid://shopify/LineItem/{item['id']}"},
                        }
                        for item in payload["line_items"]
                    ],
                }
            ],
            "transactions": [
                {
                    "id": f"gid://shopify/OrderTransaction/{next(self.ids)}",
                    "kind": "SALE",
                    "status": "SUCCESS",
                    "gateway": "shopify_payments",
                }
            ],
        }
        return gid

    def _OmsOrderState(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(variables["id"])
        if order is None:
            return {"order": None}
        return {
            "order": {
                **{k: v for k, v in order.items() if k != "refunds"},
                "fulfillments": [
                    {"trackingInfo": f["trackingInfo"]} for f in order["fulfillments"]
                ],
                "fulfillmentOrders": {
                    "nodes": [
                        {**fo, "lineItems": {"nodes": fo["lineItems"]}}
                        for fo in order["fulfillmentOrders"]
                    ]
                },
            }
        }

    def _OmsFulfillmentCreate(self, variables: dict[str, Any]) -> dict[str, Any]:
        fulfillment = variables["fulfillment"]
        for pair in fulfillment["lineItemsByFulfillmentOrder"]:
            order = next(
                o
                for o in self.orders.values()
                for fo in o["fulfillmentOrders"]
                if fo["id"] == pair["fulfillmentOrderId"]
            )
            fo = next(
                f for f in order["fulfillmentOrders"] if f["id"] == pair["fulfillmentOrderId"]
            )
            for wanted in pair["fulfillmentOrderLineItems"]:
                item = next(i for i in fo["lineItems"] if i["id"] == wanted["id"])
                item["remainingQuantity"] -= wanted["quantity"]
            if all(i["remainingQuantity"] == 0 for i in fo["lineItems"]):
                fo["status"] = "CLOSED"
        tracking = fulfillment["trackingInfo"]
        created = {
            "id": f"gid://shopify/Fulfillment/{next(self.ids)}",
            "status": "SUCCESS",
            "trackingInfo": [
                {"number": n, "company": tracking["company"]} for n in tracking["numbers"]
            ],
            "notifyCustomer": fulfillment.get("notifyCustomer"),
        }
        order["fulfillments"].append(created)
        return {"fulfillmentCreate": {"fulfillment": created, "userErrors": []}}

    def _OmsOrderCancel(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders[variables["orderId"]]
        order["cancelledAt"] = "2026-11-29T10:00:00Z"
        order["cancelNote"] = variables.get("staffNote")
        # 2025-07 on: refundMethod (the Boolean `refund` is deprecated); a cancel that refunds
        # refunds what is left of the payment.
        order["cancelRefundMethod"] = variables.get("refundMethod")
        job = {"id": f"gid://shopify/Job/{next(self.ids)}"}
        return {"orderCancel": {"job": job, "orderCancelUserErrors": []}}

    def _OmsRefundCreate(self, variables: dict[str, Any]) -> dict[str, Any]:
        refund_input = variables["input"]
        order = self.orders[refund_input["orderId"]]
        key = variables["key"]
        if key not in order["refunds"]:  # @idempotent: the same key gives the same refund
            order["refunds"][key] = {
                "id": f"gid://shopify/Refund/{next(self.ids)}",
                "input": refund_input,
            }
        refund = order["refunds"][key]
        return {"refundCreate": {"refund": {"id": refund["id"]}, "userErrors": []}}

    def refund_in_admin(
        self,
        order: dict[str, Any],
        lines: dict[int, int],
        amount: str,
        note: str | None = "Refunded in Shopify admin",
    ) -> dict[str, Any]:
        """The merchant refunds units (line item id -> quantity) and money in Shopify's admin;
        the refunds/create body Shopify then sends."""
        items = {item["id"]: item for item in order["line_items"]}
        refund_line_items = [
            {
                "id": next(self.ids),
                "line_item_id": line_id,
                "quantity": quantity,
                "restock_type": "no_restock",
                "subtotal": format(Decimal(items[line_id]["price"]) * quantity, "f"),
                "total_tax": "0.00",
                "line_item": {"id": line_id, "sku": items[line_id]["sku"]},
            }
            for line_id, quantity in lines.items()
        ]
        return self._refund_body(order, refund_line_items, amount, note)

    def refund_webhook(self, order: dict[str, Any], key: str) -> dict[str, Any]:
        """The refunds/create body of a refund the app made (refundCreate with this key)."""
        made = self.orders[order["admin_graphql_api_id"]]["refunds"][key]["input"]
        refund_line_items = [
            {
                "id": next(self.ids),
                "line_item_id": int(item["lineItemId"].rsplit("/", 1)[-1]),
                "quantity": item["quantity"],
                "restock_type": "no_restock",
                "subtotal": "0.00",
                "total_tax": "0.00",
            }
            for item in made["refundLineItems"]
        ]
        amount = made["transactions"][0]["amount"]
        return self._refund_body(order, refund_line_items, amount, made.get("note"))

    def _refund_body(
        self,
        order: dict[str, Any],
        refund_line_items: list[dict[str, Any]],
        amount: str,
        note: str | None,
    ) -> dict[str, Any]:
        refund_id = next(self.ids) + 929361000
        return {
            "id": refund_id,
            "order_id": order["id"],
            "created_at": "2026-12-01T10:02:11-05:00",
            "note": note,
            "restock": False,
            "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
            "refund_line_items": refund_line_items,
            "transactions": [
                {
                    "id": next(self.ids),
                    "order_id": order["id"],
                    "kind": "refund",
                    "gateway": "shopify_payments",
                    "status": "success",
                    "amount": amount,
                    "currency": order["currency"],
                }
            ],
            "order_adjustments": [],
        }

    def fulfillments(self, gid: str) -> list[dict[str, Any]]:
        """Fulfillments of an order."""
        return list(self.orders[gid]["fulfillments"])
