"""A fake Shopify Admin API: GraphQL orders with fulfillment orders, fulfillments, cancels,
fulfillment events (fulfillmentEventCreate, FulfillmentEventStatus), refunds (honouring
@idempotent keys) and order edits (begin, set quantity, add a custom item or
a variant, commit), checked as the Admin API documents them; the REST orders list
(updated_at_min, status, order, cursor paging by the Link header's page_info) of the orders it
`place`s, and their webhooks (orders/create, orders/updated, orders/cancelled), which it can
lose; and the refunds/create bodies of its refunds, made by the app or in Shopify's admin."""

from __future__ import annotations

import base64
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tests.fakes import payloads as p
from tests.fakes.server import FakeChannel

TOKEN = "shpat_test_token"
REST_LIMIT = 250  # the REST Admin API's largest page
FILTERS = ("status", "updated_at_min", "order", "created_at_min", "since_id")
# Shopify's FulfillmentEventStatus values.
FULFILLMENT_EVENT_STATUSES = frozenset(
    {
        "ATTEMPTED_DELIVERY",
        "CARRIER_PICKED_UP",
        "CONFIRMED",
        "DELAYED",
        "DELIVERED",
        "FAILURE",
        "IN_TRANSIT",
        "LABEL_PRINTED",
        "LABEL_PURCHASED",
        "OUT_FOR_DELIVERY",
        "PICKED_UP",
        "READY_FOR_PICKUP",
    }
)


def now_stamp() -> str:
    """Shopify's times: ISO 8601 to the second, with the shop's offset."""
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


@dataclass
class FakeShopify(FakeChannel):
    """Speaks the few GraphQL operations the gateway sends, by operationName."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1))
    edits: dict[str, dict[str, Any]] = field(default_factory=dict)  # calculated order id: edit
    commits: list[dict[str, Any]] = field(default_factory=list)
    rest_orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    events: Any = field(default_factory=lambda: itertools.count(1))
    # Stock: variant SKU -> inventory item GID; (item, location GID) -> available, and when
    # each figure was set (monotonic clock); how many inventorySetQuantities were called.
    variants: dict[str, str] = field(default_factory=dict)
    stock: dict[tuple[str, str], int] = field(default_factory=dict)
    stock_set_at: dict[tuple[str, str], float] = field(default_factory=dict)
    stock_calls: int = 0
    stock_keys: list[str] = field(default_factory=list)

    def add_variant(self, sku: str) -> str:
        """A product variant with this SKU; its inventory item's GID."""
        with self.lock:
            gid = f"gid://shopify/InventoryItem/{next(self.ids)}"
            self.variants[sku] = gid
            return gid

    def available(self, sku: str, location_gid: str) -> int | None:
        """What the store may sell of a SKU at a location (None: never set)."""
        with self.lock:
            return self.stock.get((self.variants[sku], location_gid))

    def place(self, payload: dict[str, Any], lose_webhook: bool = False) -> int:
        """A buyer places an order: it is listed, and its orders/create webhook is sent (or
        lost: Shopify gave up on it)."""
        stamp = now_stamp()
        order = {**payload, "created_at": stamp, "updated_at": stamp}
        with self.lock:
            self.rest_orders[order["id"]] = order
        self.add_order(order)
        self._webhook(order, "orders/create", lose_webhook)
        return int(order["id"])

    def change(self, order_id: int, lose_webhook: bool = False, **changes: Any) -> None:
        """The merchant changes an order (cancels it: cancelled_at, cancel_reason): its
        updated_at moves and orders/updated (orders/cancelled) is sent, or lost."""
        with self.lock:
            order = self.rest_orders[order_id]
            order.update(changes, updated_at=now_stamp())
        topic = "orders/cancelled" if changes.get("cancelled_at") else "orders/updated"
        self._webhook(order, topic, lose_webhook)

    def _webhook(self, order: dict[str, Any], topic: str, lose: bool) -> None:
        body = p.dumps(order)
        secret = self.webhooks.secret if self.webhooks else ""
        headers = p.shopify_headers(body, secret, f"evt-{next(self.events)}", topic=topic)
        self.send_webhook(body, headers, lose)

    def routes(self) -> None:
        """POST /admin/api/<version>/graphql.json; GET /admin/api/<version>/orders.json."""

        @self.app.get("/admin/api/{version}/orders.json")
        async def list_orders(version: str, request: Request) -> JSONResponse:
            if request.headers.get("X-Shopify-Access-Token") != TOKEN:
                return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
            with self.lock:
                return self._list(version, dict(request.query_params))

        @self.app.post("/admin/api/{version}/graphql.json")
        async def graphql(version: str, request: Request) -> JSONResponse:
            if request.headers.get("X-Shopify-Access-Token") != TOKEN:
                return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
            body = await request.json()
            if body.get("operationName") == "OmsStockSet" and "@idempotent" not in body["query"]:
                # Required from 2026-04.
                return JSONResponse({"errors": [{"message": "Idempotency key required"}]})
            handler = getattr(self, f"_{body.get('operationName')}", None)
            if handler is None:
                return JSONResponse({"errors": [{"message": "unknown operation"}]})
            with self.lock:
                return JSONResponse({"data": handler(body.get("variables") or {})})

    def _list(self, version: str, query: dict[str, str]) -> JSONResponse:
        """Orders by (updated_at, id) from updated_at_min; page_info carries the filters and
        the last order read, and no filter may be sent with it (Shopify answers 400)."""
        limit = int(query.get("limit", 50))
        if limit > REST_LIMIT:
            return JSONResponse({"errors": {"limit": "must be at most 250"}}, 400)
        if "page_info" in query:
            passed = [name for name in FILTERS if name in query]
            if passed:
                return JSONResponse(
                    {
                        "errors": {
                            passed[0]: f"{passed[0]} cannot be passed when page_info is present"
                        }
                    },
                    400,
                )
            state = json.loads(base64.urlsafe_b64decode(query["page_info"]))
        else:
            if query.get("order") not in (None, "updated_at asc"):
                return JSONResponse({"errors": {"order": "only updated_at asc is faked"}}, 400)
            state = {
                "status": query.get("status", "open"),
                "updated_at_min": query.get("updated_at_min"),
                "after": None,
            }
        since = _time(state["updated_at_min"]) if state["updated_at_min"] else None
        matching = sorted(
            (
                o
                for o in self.rest_orders.values()
                if (since is None or _time(o["updated_at"]) >= since)
                and (state["status"] == "any" or o.get("cancelled_at") is None)
            ),
            key=lambda o: (_time(o["updated_at"]), o["id"]),
        )
        if state["after"] is not None:
            after = (_time(state["after"][0]), state["after"][1])
            matching = [o for o in matching if (_time(o["updated_at"]), o["id"]) > after]
        page = matching[:limit]
        headers = {}
        if len(matching) > limit:
            last = page[-1]
            token = {**state, "after": [last["updated_at"], last["id"]]}
            info = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
            url = f"{self.url}/admin/api/{version}/orders.json?limit={limit}&page_info={info}"
            headers["Link"] = f'<{url}>; rel="next"'
        return JSONResponse({"orders": page}, headers=headers)

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
                            "totalQuantity": item["quantity"],
                            "remainingQuantity": item["quantity"],
                            "sku": item["sku"],
                            "lineItem": {"id": f"gid://shopify/LineItem/{item['id']}"},
                        }
                        for item in payload["line_items"]
                    ],
                }
            ],
            "lineItems": [
                {
                    "id": f"gid://shopify/LineItem/{item['id']}",
                    "title": item.get("title"),
                    "sku": item.get("sku"),
                    "currentQuantity": item["quantity"],
                }
                for item in payload["line_items"]
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

    def _OmsInventoryItem(self, variables: dict[str, Any]) -> dict[str, Any]:
        query = str(variables.get("query", ""))
        nodes = [
            {"sku": sku, "inventoryItem": {"id": gid}}
            for sku, gid in self.variants.items()
            if query == f'sku:"{sku}"'
        ]
        return {"productVariants": {"nodes": nodes}}

    def _OmsStockSet(self, variables: dict[str, Any]) -> dict[str, Any]:
        """inventorySetQuantities as of 2026-04: name available or on_hand, a reason, and
        every quantity with changeFromQuantity (null opts out of the compare)."""
        self.stock_calls += 1
        self.stock_keys.append(str(variables.get("key")))
        given = variables["input"]
        errors = []
        if given.get("name") not in ("available", "on_hand"):
            errors.append({"field": ["input", "name"], "message": "invalid name"})
        if not given.get("reason"):
            errors.append({"field": ["input", "reason"], "message": "reason required"})
        known = set(self.variants.values())
        for quantity in given.get("quantities") or []:
            if "changeFromQuantity" not in quantity:
                errors.append({"field": ["quantities"], "message": "changeFromQuantity required"})
            if quantity.get("inventoryItemId") not in known:
                errors.append({"field": ["inventoryItemId"], "message": "item not found"})
        if errors:
            return {
                "inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}
            }
        for quantity in given["quantities"]:
            where = (quantity["inventoryItemId"], quantity["locationId"])
            self.stock[where] = int(quantity["quantity"])
            self.stock_set_at[where] = time.monotonic()
        group = {"id": f"gid://shopify/InventoryAdjustmentGroup/{next(self.ids)}"}
        return {"inventorySetQuantities": {"inventoryAdjustmentGroup": group, "userErrors": []}}

    def _OmsOrderState(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(variables["id"])
        if order is None:
            return {"order": None}
        return {
            "order": {
                **{k: v for k, v in order.items() if k not in ("refunds", "lineItems")},
                "lineItems": {"nodes": [dict(item) for item in order["lineItems"]]},
                "fulfillments": [
                    {
                        "id": f["id"],
                        "trackingInfo": f["trackingInfo"],
                        "events": {"nodes": [dict(e) for e in f.get("events", [])]},
                    }
                    for f in order["fulfillments"]
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
        # trackingInfo is optional: a fulfillment without a tracking number has none.
        tracking = fulfillment.get("trackingInfo") or {}
        created = {
            "id": f"gid://shopify/Fulfillment/{next(self.ids)}",
            "status": "SUCCESS",
            "trackingInfo": [
                {"number": n, "company": tracking.get("company")}
                for n in tracking.get("numbers") or []
            ],
            "notifyCustomer": fulfillment.get("notifyCustomer"),
        }
        order["fulfillments"].append(created)
        return {"fulfillmentCreate": {"fulfillment": created, "userErrors": []}}

    def _OmsFulfillmentEventCreate(self, variables: dict[str, Any]) -> dict[str, Any]:
        """fulfillmentEventCreate: an event of a known fulfillment, with a status of
        FulfillmentEventStatus (a userError otherwise, as Shopify answers)."""
        event = variables["event"]
        found = [
            f
            for order in self.orders.values()
            for f in order["fulfillments"]
            if f["id"] == event["fulfillmentId"]
        ]
        if not found:
            return _user_error("fulfillmentEventCreate", "fulfillmentId", "Fulfillment not found")
        if event["status"] not in FULFILLMENT_EVENT_STATUSES:
            return _user_error("fulfillmentEventCreate", "status", "Status is not valid")
        created = {
            "id": f"gid://shopify/FulfillmentEvent/{next(self.ids)}",
            "status": event["status"],
            "happenedAt": event.get("happenedAt") or now_stamp(),
            "message": event.get("message"),
        }
        found[0].setdefault("events", []).append(created)
        return {"fulfillmentEventCreate": {"fulfillmentEvent": created, "userErrors": []}}

    def fulfillment_events(self, gid: str) -> list[list[dict[str, Any]]]:
        """The events of each fulfillment of an order, in order."""
        return [list(f.get("events", [])) for f in self.orders[gid]["fulfillments"]]

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

    # -- order editing: a calculated order stages changes until committed --------------------

    def _OmsOrderEditBegin(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(variables["id"])
        if order is None:
            return _user_error("orderEditBegin", "id", "Order does not exist")
        calculated = f"gid://shopify/CalculatedOrder/{next(self.ids)}"
        self.edits[calculated] = {"order": variables["id"], "quantities": {}, "added": []}
        return {"orderEditBegin": {"calculatedOrder": {"id": calculated}, "userErrors": []}}

    def _OmsOrderEditSetQuantity(self, variables: dict[str, Any]) -> dict[str, Any]:
        edit = self.edits.get(variables["id"])
        if edit is None:
            return _user_error("orderEditSetQuantity", "id", "Calculated order does not exist")
        number = str(variables["lineItemId"]).removeprefix("gid://shopify/CalculatedLineItem/")
        line_gid = f"gid://shopify/LineItem/{number}"
        order = self.orders[edit["order"]]
        if not any(item["id"] == line_gid for item in order["lineItems"]):
            return _user_error("orderEditSetQuantity", "lineItemId", "Line item does not exist")
        quantity = variables["quantity"]
        if not isinstance(quantity, int) or quantity < 0:
            return _user_error("orderEditSetQuantity", "quantity", "Quantity cannot be negative")
        edit["quantities"][line_gid] = (quantity, variables.get("restock"))
        item = {"id": variables["lineItemId"], "quantity": quantity}
        return {"orderEditSetQuantity": {"calculatedLineItem": item, "userErrors": []}}

    def _OmsOrderEditAddCustomItem(self, variables: dict[str, Any]) -> dict[str, Any]:
        edit = self.edits.get(variables["id"])
        if edit is None:
            return _user_error("orderEditAddCustomItem", "id", "Calculated order does not exist")
        price = variables.get("price") or {}
        if not variables.get("title") or variables.get("quantity", 0) <= 0:
            return _user_error("orderEditAddCustomItem", "quantity", "Quantity must be positive")
        if Decimal(str(price.get("amount"))) < 0 or not price.get("currencyCode"):
            return _user_error("orderEditAddCustomItem", "price", "Price can't be negative")
        added = {"kind": "custom", **{k: v for k, v in variables.items() if k != "id"}}
        edit["added"].append(added)
        calculated = {"id": f"gid://shopify/CalculatedLineItem/{next(self.ids)}"}
        return {"orderEditAddCustomItem": {"calculatedLineItem": calculated, "userErrors": []}}

    def _OmsOrderEditAddVariant(self, variables: dict[str, Any]) -> dict[str, Any]:
        edit = self.edits.get(variables["id"])
        if edit is None:
            return _user_error("orderEditAddVariant", "id", "Calculated order does not exist")
        if not str(variables.get("variantId", "")).startswith("gid://shopify/ProductVariant/"):
            return _user_error("orderEditAddVariant", "variantId", "Variant does not exist")
        edit["added"].append(
            {"kind": "variant", **{k: v for k, v in variables.items() if k != "id"}}
        )
        calculated = {"id": f"gid://shopify/CalculatedLineItem/{next(self.ids)}"}
        return {"orderEditAddVariant": {"calculatedLineItem": calculated, "userErrors": []}}

    def _OmsOrderEditCommit(self, variables: dict[str, Any]) -> dict[str, Any]:
        edit = self.edits.pop(variables["id"], None)
        if edit is None:
            return _user_error("orderEditCommit", "id", "Calculated order does not exist")
        order = self.orders[edit["order"]]
        for item in order["lineItems"]:
            if item["id"] in edit["quantities"]:
                item["currentQuantity"] = edit["quantities"][item["id"]][0]
        for added in edit["added"]:
            title = added.get("title") or f"Variant {added['variantId'].rsplit('/', 1)[-1]}"
            order["lineItems"].append(
                {
                    "id": f"gid://shopify/LineItem/{next(self.ids)}",
                    "title": title,
                    "sku": None,
                    "currentQuantity": added["quantity"],
                }
            )
        # Order editing moves no money: a refund owed is made apart (refundCreate).
        self.commits.append({"order": edit["order"], **edit, **variables})
        return {"orderEditCommit": {"order": {"id": edit["order"]}, "userErrors": []}}

    def line_items(self, gid: str) -> list[dict[str, Any]]:
        """An order's line items as they are now."""
        return [dict(item) for item in self.orders[gid]["lineItems"]]

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


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _user_error(mutation: str, field_name: str, message: str) -> dict[str, Any]:
    return {mutation: {"userErrors": [{"field": [field_name], "message": message}]}}
