"""Shopify Admin GraphQL: fulfillmentCreate with trackingInfo, orderCancel, refundCreate.

Idempotent at Shopify: a fulfillment is created only when no fulfillment of the order carries
the tracking number yet (checked right before creating), a cancel only when the order is not
cancelled, and refundCreate carries @idempotent(key: <refund id>).

A paid order's cancel refunds it: orderCancel with `refundMethod: {originalPaymentMethodsRefund:
true}` (its `refund` argument is deprecated since 2025-07), so Shopify refunds what is left of the
payment, by its own books, with the cancel; an unpaid one is cancelled without a refund (an
authorisation is released by the cancel either way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from services.channel_gateway.channels.http import (
    Job,
    PermanentChannelError,
    TransientChannelError,
    call,
    json_of,
)

API_VERSION = "2026-04"

ORDER_STATE = """query OmsOrderState($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
    fulfillments(first: 50) { trackingInfo { number } }
    fulfillmentOrders(first: 20) {
      nodes {
        id status
        lineItems(first: 100) { nodes { id remainingQuantity sku lineItem { id } } }
      }
    }
    transactions(first: 20) { id kind status gateway }
  }
}"""

FULFILLMENT_CREATE = """mutation OmsFulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}"""

ORDER_CANCEL = """mutation OmsOrderCancel($orderId: ID!, $reason: OrderCancelReason!,
    $staffNote: String, $refundMethod: OrderCancelRefundMethodInput!) {
  orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: true,
      notifyCustomer: true, staffNote: $staffNote) {
    job { id }
    orderCancelUserErrors { field message code }
  }
}"""

REFUND_CREATE = """mutation OmsRefundCreate($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id }
    userErrors { field message }
  }
}"""

OPEN = ("OPEN", "IN_PROGRESS")
PAGE_LIMIT = 250  # the REST Admin API's largest page


@dataclass(frozen=True)
class OrdersPage:
    """One page of the orders list, and the URL of the next page (None on the last)."""

    orders: list[dict[str, Any]]
    next_url: str | None


class ShopifyClient:
    """Tells one Shopify store about shipments, cancellations and refunds."""

    def __init__(self, config: dict[str, Any], secrets: dict[str, str], http: httpx.AsyncClient):
        base = config.get("base_url") or f"https://{config['shop_domain']}"
        version = config.get("api_version") or API_VERSION
        self.url = f"{base.rstrip('/')}/admin/api/{version}/graphql.json"
        self.orders_url = f"{base.rstrip('/')}/admin/api/{version}/orders.json"
        self.headers = {"X-Shopify-Access-Token": secrets.get("access_token", "")}
        self.http = http

    async def deliver(self, job: Job) -> str:
        """Perform one delivery; returns what happened at Shopify."""
        order_gid = job.refs.get("order_gid") or f"gid://shopify/Order/{job.external_id}"
        state = await self._order(order_gid)
        if job.action == "shipment":
            return await self._fulfill(job, order_gid, state)
        if job.action == "cancellation":
            return await self._cancel(job, order_gid, state)
        return await self._refund(job, order_gid, state)

    async def orders_page(
        self, updated_at_min: str, limit: int, next_url: str | None = None
    ) -> OrdersPage:
        """One page of the orders (any status) updated at or after a time, oldest update first.

        REST Admin API, cursor paging: the next page is the Link header's rel="next" URL, used
        as it is (its page_info carries the filters, which may not be sent again).
        """
        if next_url is None:
            params: dict[str, Any] = {
                "status": "any",
                "updated_at_min": updated_at_min,
                "limit": min(limit, PAGE_LIMIT),
                "order": "updated_at asc",
            }
            response = await call(
                self.http, "GET", self.orders_url, params=params, headers=self.headers
            )
        else:
            response = await call(self.http, "GET", next_url, headers=self.headers)
        orders = json_of(response).get("orders")
        if not isinstance(orders, list):
            raise PermanentChannelError(f"GET {self.orders_url}: no orders list in the answer")
        return OrdersPage(
            [o for o in orders if isinstance(o, dict)], response.links.get("next", {}).get("url")
        )

    async def _graphql(self, operation: str, query: str, variables: dict[str, Any]) -> Any:
        body = {"operationName": operation, "query": query, "variables": variables}
        response = await call(self.http, "POST", self.url, json=body, headers=self.headers)
        payload = json_of(response)
        errors = payload.get("errors")
        if errors:
            throttled = any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)
            message = "; ".join(str(e.get("message")) for e in errors)
            raise (TransientChannelError if throttled else PermanentChannelError)(
                f"Shopify {operation}: {message}"
            )
        return payload.get("data") or {}

    async def _order(self, order_gid: str) -> dict[str, Any]:
        data = await self._graphql("OmsOrderState", ORDER_STATE, {"id": order_gid})
        if not data.get("order"):
            raise PermanentChannelError(f"Shopify has no order {order_gid}")
        return dict(data["order"])

    async def _fulfill(self, job: Job, order_gid: str, state: dict[str, Any]) -> str:
        numbers = job.tracking_numbers()
        known = {
            tracking.get("number")
            for fulfillment in state.get("fulfillments") or []
            for tracking in fulfillment.get("trackingInfo") or []
        }
        if known & set(numbers):
            return f"already fulfilled with tracking {numbers[0]}"
        line_items = _fulfillment_lines(job, state)
        tracking = {"company": job.details["carrier"], "numbers": numbers, "number": numbers[0]}
        fulfillment = {
            "lineItemsByFulfillmentOrder": line_items,
            "trackingInfo": tracking,
            "notifyCustomer": True,
        }
        data = await self._graphql(
            "OmsFulfillmentCreate", FULFILLMENT_CREATE, {"fulfillment": fulfillment}
        )
        result = data.get("fulfillmentCreate") or {}
        _raise_user_errors("fulfillmentCreate", result.get("userErrors"))
        return f"fulfillment {(result.get('fulfillment') or {}).get('id')}"

    async def _cancel(self, job: Job, order_gid: str, state: dict[str, Any]) -> str:
        if state.get("cancelledAt"):
            return f"already cancelled at {state['cancelledAt']}"
        refund = bool(job.details.get("refund"))
        variables = {
            "orderId": order_gid,
            "reason": "OTHER",
            "staffNote": job.details["reason"],
            "refundMethod": {"originalPaymentMethodsRefund": refund},
        }
        data = await self._graphql("OmsOrderCancel", ORDER_CANCEL, variables)
        result = data.get("orderCancel") or {}
        _raise_user_errors("orderCancel", result.get("orderCancelUserErrors"))
        job_id = (result.get("job") or {}).get("id")
        if refund:
            return f"cancel job {job_id}: Shopify refunds the payment with the cancel"
        return f"cancel job {job_id}"

    async def _refund(self, job: Job, order_gid: str, state: dict[str, Any]) -> str:
        parent = next(
            (
                t
                for t in state.get("transactions") or []
                if t.get("kind") in ("SALE", "CAPTURE") and t.get("status") == "SUCCESS"
            ),
            None,
        )
        if parent is None:
            raise PermanentChannelError(f"Shopify order {order_gid} has no paid transaction")
        reason = job.details.get("reason") or "return"
        refund = {
            "orderId": order_gid,
            "note": f"OMS refund {job.details['refund_id']} ({reason})",
            "notify": True,
            # Money only (goodwill, part of a lost parcel): no unit is refunded.
            "refundLineItems": []
            if job.details.get("refund_kind") == "amount"
            else _refund_line_items(job),
            "transactions": [
                {
                    "orderId": order_gid,
                    "parentId": parent["id"],
                    "gateway": parent.get("gateway"),
                    "kind": "REFUND",
                    "amount": job.details["amount"],
                }
            ],
        }
        if job.details.get("shipping"):  # a full return: shipping goes back with it
            refund["shipping"] = {"amount": job.details["shipping"]}
        variables = {"input": refund, "key": job.details["refund_id"]}
        data = await self._graphql("OmsRefundCreate", REFUND_CREATE, variables)
        result = data.get("refundCreate") or {}
        _raise_user_errors("refundCreate", result.get("userErrors"))
        return f"refund {(result.get('refund') or {}).get('id')}"


def _refund_line_items(job: Job) -> list[dict[str, Any]]:
    """The refunded units on the line items they were bought on (a SKU may be on several)."""
    return [
        {
            "lineItemId": _line_gid(part.ref["line_id"]),
            "quantity": part.quantity,
            "restockType": "NO_RESTOCK",
        }
        for line in job.details.get("lines") or []
        for part in job.spread(line["sku"], int(line["quantity"]))
        if part.ref.get("line_id")
    ]


def _fulfillment_lines(job: Job, state: dict[str, Any]) -> list[dict[str, Any]]:
    """The open fulfillment order lines of the shipped SKUs, in order, each up to what is still
    open on it: Shopify's own remaining quantities spread a SKU over its line items."""
    wanted: dict[str, int] = {}
    for line in job.details["lines"]:
        wanted[line["sku"]] = wanted.get(line["sku"], 0) + int(line["quantity"])
    result = []
    for fulfillment_order in (state.get("fulfillmentOrders") or {}).get("nodes") or []:
        if fulfillment_order.get("status") not in OPEN:
            continue
        items = []
        for item in (fulfillment_order.get("lineItems") or {}).get("nodes") or []:
            sku = _our_sku(job, item)
            take = min(wanted.get(sku, 0), int(item.get("remainingQuantity") or 0))
            if take > 0:
                items.append({"id": item["id"], "quantity": take})
                wanted[sku] -= take
        if items:
            result.append(
                {"fulfillmentOrderId": fulfillment_order["id"], "fulfillmentOrderLineItems": items}
            )
    if not result:
        raise PermanentChannelError("no open fulfillment order at Shopify holds the shipped lines")
    return result


def _our_sku(job: Job, item: dict[str, Any]) -> str:
    """Our SKU of a fulfillment order line: by its order line item, else by its channel SKU
    (orders taken in without line refs name our SKUs)."""
    refs = job.refs.get("lines") or []
    line_gid = (item.get("lineItem") or {}).get("id")
    for ref in refs:
        if line_gid and ref.get("line_id") and _line_gid(ref["line_id"]) == line_gid:
            return str(ref.get("sku"))
    for ref in refs:
        if item.get("sku") and ref.get("channel_sku") == item.get("sku"):
            return str(ref.get("sku"))
    return str(item.get("sku"))


def _line_gid(line_id: Any) -> str:
    return (
        str(line_id) if str(line_id).startswith("gid://") else f"gid://shopify/LineItem/{line_id}"
    )


def _raise_user_errors(operation: str, errors: Any) -> None:
    if errors:
        message = "; ".join(str(e.get("message")) for e in errors)
        raise PermanentChannelError(f"Shopify {operation}: {message}")
