"""Shopify Admin GraphQL: fulfillmentCreate with trackingInfo, fulfillmentEventCreate with the
carrier's news of a parcel, orderCancel, refundCreate, and
order editing (orderEditBegin, orderEditSetQuantity, orderEditAddCustomItem/AddVariant,
orderEditCommit).

Idempotent at Shopify: a fulfillment is created only when no fulfillment of the order carries
the tracking number yet (checked right before creating; a shipment whose numbers are withheld
goes without tracking info, and is there when Shopify counts its units fulfilled), a cancel
only when the order is not cancelled, and refundCreate carries @idempotent(key: <refund id>).

A paid order's cancel refunds it: orderCancel with `refundMethod: {originalPaymentMethodsRefund:
true}` (its `refund` argument is deprecated since 2025-07), so Shopify refunds what is left of the
payment, by its own books, with the cancel; an unpaid one is cancelled without a refund (an
authorisation is released by the cancel either way).

An edit of the order's lines made in the OMS is one order edit at Shopify, committed without
notifying the customer and with our revision and reason as its staff note. Order editing never
moves money: what was paid for cancelled units goes back as the returns service's refund (its own
delivery, refundCreate). Order edits take no idempotency key, so the edit is checked against the
order first: a line already at its new quantity is not set again, and an added line is there when
a line item Shopify did not have when the order came (not one of its channel lines) has its title
or SKU; with nothing left to do, nothing is begun.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from services.channel_gateway.channels.http import (
    Job,
    PermanentChannelError,
    TransientChannelError,
    call,
    json_of,
    lines_to_cut,
)
from services.channel_gateway.channels.stock import NotListedError, StockPush
from shared import money

API_VERSION = "2026-04"

ORDER_STATE = """query OmsOrderState($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
    fulfillments(first: 50) {
      id trackingInfo { number } events(first: 50) { nodes { status happenedAt } }
    }
    fulfillmentOrders(first: 20) {
      nodes {
        id status
        lineItems(first: 100) {
          nodes { id totalQuantity remainingQuantity sku lineItem { id } }
        }
      }
    }
    transactions(first: 20) { id kind status gateway }
    lineItems(first: 250) { nodes { id title sku currentQuantity } }
  }
}"""

FULFILLMENT_CREATE = """mutation OmsFulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}"""

FULFILLMENT_EVENT_CREATE = """mutation OmsFulfillmentEventCreate($event: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $event) {
    fulfillmentEvent { id status }
    userErrors { field message }
  }
}"""
# Our tracking statuses as Shopify's FulfillmentEventStatus.
FULFILLMENT_EVENT_STATUS = {
    "in_transit": "IN_TRANSIT",
    "out_for_delivery": "OUT_FOR_DELIVERY",
    "delivered": "DELIVERED",
    "exception": "FAILURE",
}
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

EDIT_BEGIN = """mutation OmsOrderEditBegin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder { id }
    userErrors { field message }
  }
}"""

EDIT_SET_QUANTITY = """mutation OmsOrderEditSetQuantity($id: ID!, $lineItemId: ID!, $quantity: Int!,
    $restock: Boolean) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: $restock) {
    calculatedLineItem { id quantity }
    userErrors { field message }
  }
}"""

EDIT_ADD_CUSTOM_ITEM = """mutation OmsOrderEditAddCustomItem($id: ID!, $title: String!,
    $price: MoneyInput!, $quantity: Int!, $requiresShipping: Boolean, $taxable: Boolean) {
  orderEditAddCustomItem(id: $id, title: $title, price: $price, quantity: $quantity,
      requiresShipping: $requiresShipping, taxable: $taxable) {
    calculatedLineItem { id }
    userErrors { field message }
  }
}"""

EDIT_ADD_VARIANT = """mutation OmsOrderEditAddVariant($id: ID!, $variantId: ID!, $quantity: Int!,
    $allowDuplicates: Boolean) {
  orderEditAddVariant(id: $id, variantId: $variantId, quantity: $quantity,
      allowDuplicates: $allowDuplicates) {
    calculatedLineItem { id }
    userErrors { field message }
  }
}"""

EDIT_COMMIT = """mutation OmsOrderEditCommit($id: ID!, $notifyCustomer: Boolean,
    $staffNote: String) {
  orderEditCommit(id: $id, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    order { id }
    userErrors { field message }
  }
}"""

# Stock sync: we are the source of truth for what Shopify may sell, so the compare-and-swap is
# opted out of per quantity (changeFromQuantity: null, required from 2026-04, as the
# idempotency key is).
STOCK_SET = """mutation OmsStockSet($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}"""

INVENTORY_ITEM = """query OmsInventoryItem($query: String!) {
  productVariants(first: 2, query: $query) { nodes { sku inventoryItem { id } } }
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
        # Stock sync: our location -> Shopify location GID, and the inventory items found.
        self.stock_locations: dict[str, str] = dict(config.get("stock_locations") or {})
        self.inventory_items: dict[str, str] = {}

    async def deliver(self, job: Job) -> str:
        """Perform one delivery; returns what happened at Shopify."""
        order_gid = job.refs.get("order_gid") or f"gid://shopify/Order/{job.external_id}"
        state = await self._order(order_gid)
        if job.action == "shipment":
            return await self._fulfill(job, order_gid, state)
        if job.action == "cancellation":
            return await self._cancel(job, order_gid, state)
        if job.action == "edit":
            return await self._edit(job, order_gid, state)
        if job.action == "tracking":
            return await self._track(job, state)
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

    async def set_stock(self, push: StockPush) -> str:
        """inventorySetQuantities of "available" at every mapped location (0 where the
        channel's share has none), for each of the channel's SKUs."""
        if not self.stock_locations:
            raise PermanentChannelError(
                "no stock_locations on the channel (our location -> Shopify location GID)"
            )
        quantities = [
            {
                "inventoryItemId": await self._inventory_item(channel_sku),
                "locationId": gid,
                "quantity": push.share_of(channel_sku)[1].get(location_id, 0),
                "changeFromQuantity": None,
            }
            for channel_sku in push.channel_skus
            for location_id, gid in sorted(self.stock_locations.items())
        ]
        variables = {
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": f"oms://stock-sync/{push.sku}",
                "quantities": quantities,
            },
            "key": push.key,
        }
        data = await self._graphql("OmsStockSet", STOCK_SET, variables)
        result = data.get("inventorySetQuantities") or {}
        _raise_user_errors("inventorySetQuantities", result.get("userErrors"))
        return f"available {push.available} at {len(self.stock_locations)} location(s)"

    async def _inventory_item(self, channel_sku: str) -> str:
        """The inventory item of the variant with this SKU (looked up once)."""
        found = self.inventory_items.get(channel_sku)
        if found is None:
            query = {"query": f'sku:"{channel_sku}"'}
            data = await self._graphql("OmsInventoryItem", INVENTORY_ITEM, query)
            nodes = [
                n
                for n in (data.get("productVariants") or {}).get("nodes") or []
                if n.get("sku") == channel_sku
            ]
            if not nodes:
                raise NotListedError(f"Shopify has no variant with SKU {channel_sku}")
            found = str(nodes[0]["inventoryItem"]["id"])
            self.inventory_items[channel_sku] = found
        return found

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
        if job.tracking_withheld:
            return await self._fulfill_untracked(job, state, job.tracking_withheld)
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

    async def _track(self, job: Job, state: dict[str, Any]) -> str:
        """The carrier's news of a parcel as an event of the fulfillment that carries its
        tracking number, unless that fulfillment has it already (an answer lost on the way)."""
        number, status = job.details["tracking_number"], job.details["status"]
        shopify_status = FULFILLMENT_EVENT_STATUS.get(status)
        if shopify_status is None:
            raise PermanentChannelError(f"Shopify has no fulfillment event for {status!r}")
        fulfillment = next(
            (
                f
                for f in state.get("fulfillments") or []
                if number in {t.get("number") for t in f.get("trackingInfo") or []}
            ),
            None,
        )
        if fulfillment is None:
            raise PermanentChannelError(f"no fulfillment with tracking {number} on Shopify")
        happened_at = job.details["happened_at"]
        for known in (fulfillment.get("events") or {}).get("nodes") or []:
            if known.get("status") == shopify_status and _same_instant(
                known.get("happenedAt"), happened_at
            ):
                return f"{shopify_status} already on fulfillment {fulfillment['id']}"
        event = {
            "fulfillmentId": fulfillment["id"],
            "status": shopify_status,
            "happenedAt": happened_at,
            "message": job.details.get("description") or None,
        }
        data = await self._graphql(
            "OmsFulfillmentEventCreate", FULFILLMENT_EVENT_CREATE, {"event": event}
        )
        result = data.get("fulfillmentEventCreate") or {}
        _raise_user_errors("fulfillmentEventCreate", result.get("userErrors"))
        return f"{shopify_status} on fulfillment {fulfillment['id']}"

    async def _fulfill_untracked(self, job: Job, state: dict[str, Any], withheld: str) -> str:
        """A fulfillment without tracking info (Shopify takes one): with no number to find
        it by, it is there when Shopify counts the shipment's units, and those of the earlier
        shipments, as fulfilled."""
        if _units_fulfilled(job, state):
            return f"already fulfilled; {withheld}"
        fulfillment = {
            "lineItemsByFulfillmentOrder": _fulfillment_lines(job, state),
            "notifyCustomer": True,
        }
        data = await self._graphql(
            "OmsFulfillmentCreate", FULFILLMENT_CREATE, {"fulfillment": fulfillment}
        )
        result = data.get("fulfillmentCreate") or {}
        _raise_user_errors("fulfillmentCreate", result.get("userErrors"))
        return f"fulfillment {(result.get('fulfillment') or {}).get('id')}; {withheld}"

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

    async def _edit(self, job: Job, order_gid: str, state: dict[str, Any]) -> str:
        """One order edit: set the quantities, add the lines, commit; what is done already at
        Shopify (an earlier attempt whose answer was lost) is not done again."""
        revision = job.details["revision"]
        steps = edit_steps(job, state)
        if not steps:
            return f"already edited at Shopify (revision {revision})"
        data = await self._graphql("OmsOrderEditBegin", EDIT_BEGIN, {"id": order_gid})
        begun = data.get("orderEditBegin") or {}
        _raise_user_errors("orderEditBegin", begun.get("userErrors"))
        calculated = (begun.get("calculatedOrder") or {}).get("id")
        if not calculated:
            raise PermanentChannelError("Shopify orderEditBegin gave no calculated order")
        for operation, variables in steps:
            name, query = EDIT_MUTATIONS[operation]
            data = await self._graphql(operation, query, {"id": calculated, **variables})
            result = data.get(name) or {}
            _raise_user_errors(name, result.get("userErrors"))
        note = f"OMS edit {revision}: {job.details['reason']}"[:5000]
        commit = {"id": calculated, "notifyCustomer": False, "staffNote": note}
        data = await self._graphql("OmsOrderEditCommit", EDIT_COMMIT, commit)
        result = data.get("orderEditCommit") or {}
        _raise_user_errors("orderEditCommit", result.get("userErrors"))
        return f"order edited at Shopify (revision {revision}, {len(steps)} changes)"


EDIT_MUTATIONS = {  # operation: (its mutation's field, the document)
    "OmsOrderEditSetQuantity": ("orderEditSetQuantity", EDIT_SET_QUANTITY),
    "OmsOrderEditAddCustomItem": ("orderEditAddCustomItem", EDIT_ADD_CUSTOM_ITEM),
    "OmsOrderEditAddVariant": ("orderEditAddVariant", EDIT_ADD_VARIANT),
}


def edit_steps(job: Job, state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The order edit mutations (operation, variables without the calculated order's id) that
    bring the Shopify order to the OMS's edit, less what the order shows done already."""
    items = {item["id"]: item for item in (state.get("lineItems") or {}).get("nodes") or []}
    steps: list[tuple[str, dict[str, Any]]] = [
        (
            "OmsOrderEditSetQuantity",
            {
                "lineItemId": f"gid://shopify/CalculatedLineItem/{_numeric(line['line_id'])}",
                "quantity": line["quantity"],
                "restock": True,  # never picked: the units go back to Shopify's stock
            },
        )
        for line, _ in lines_to_cut(job, items, _line_gid, "currentQuantity", "Shopify")
    ]
    return steps + _additions(job, items)


def _additions(job: Job, items: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The added lines not yet on the order: a line item Shopify did not have when the order
    came, with the added line's title or SKU, counts as one (lines added by earlier edits
    first)."""
    channel_lines = {
        _line_gid(r["line_id"]) for r in job.refs.get("lines") or [] if r.get("line_id")
    }
    channel_lines |= {_line_gid(c["line_id"]) for c in job.details["changed"] if c.get("line_id")}
    extra = [
        item
        for gid, item in items.items()
        if gid not in channel_lines and int(item.get("currentQuantity") or 0) > 0
    ]
    revision = f"{job.details['revision']}:"
    earlier = [
        r
        for r in job.refs.get("lines") or []
        if r.get("key") and not str(r["key"]).startswith(revision)
    ]
    for ref in earlier:
        _claim(extra, str(ref.get("title")), str(ref.get("sku")))
    currency = str(job.details.get("currency") or job.order.get("currency") or "")
    steps: list[tuple[str, dict[str, Any]]] = []
    for line in job.details["added"]:
        variant = (line.get("product") or {}).get("variant_id")
        for quantity, price in (
            _custom_items(line, currency) if not variant else [(line["quantity"], None)]
        ):
            if _claim(extra, line["title"], line["sku"]):
                continue  # added by an earlier attempt of this edit
            if variant:
                steps.append(
                    (
                        "OmsOrderEditAddVariant",
                        {
                            "variantId": f"gid://shopify/ProductVariant/{_numeric(variant)}",
                            "quantity": quantity,
                            "allowDuplicates": True,
                        },
                    )
                )
                continue
            steps.append(
                (
                    "OmsOrderEditAddCustomItem",
                    {
                        "title": line["title"],
                        "price": {"amount": price, "currencyCode": currency},
                        "quantity": quantity,
                        "requiresShipping": True,
                        "taxable": True,
                    },
                )
            )
    return steps


def _custom_items(line: dict[str, Any], currency: str) -> list[tuple[int, str | None]]:
    """(quantity, unit price) of the custom items an added line becomes: its units at what each
    costs after its discount; when the discount does not divide by the units, the first units
    cost one minor unit more, so the items add up to the line exactly."""
    quantity = int(line["quantity"])
    total = Decimal(line["unit_price"]) * quantity - Decimal(line.get("discount") or 0)
    step = money.step(currency)
    units = int(money.money(total, currency) / step)  # the line in minor units
    base, more = divmod(units, quantity)
    parts = [(more, (base + 1) * step), (quantity - more, base * step)]
    return [(n, format(price, "f")) for n, price in parts if n > 0]


def _claim(items: list[dict[str, Any]], title: str, sku: str) -> bool:
    """Take the first line item with this title or SKU out of `items`; whether there was one."""
    for index, item in enumerate(items):
        if item.get("title") == title or (sku and item.get("sku") == sku):
            del items[index]
            return True
    return False


def _numeric(some_id: Any) -> str:
    """The number of a Shopify id, given as a number or a gid."""
    return str(some_id).rsplit("/", 1)[-1]


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


def _units_fulfilled(job: Job, state: dict[str, Any]) -> bool:
    """Whether Shopify counts every unit of this shipment's SKUs, and of the shipments told
    before it, as fulfilled (total less remaining over the fulfillment orders)."""
    fulfilled: dict[str, int] = {}
    for fulfillment_order in (state.get("fulfillmentOrders") or {}).get("nodes") or []:
        for item in (fulfillment_order.get("lineItems") or {}).get("nodes") or []:
            done = int(item.get("totalQuantity") or 0) - int(item.get("remainingQuantity") or 0)
            sku = _our_sku(job, item)
            fulfilled[sku] = fulfilled.get(sku, 0) + done
    before = job.order.get("units_before") or {}
    wanted: dict[str, int] = {}
    for line in job.details["lines"]:
        wanted[line["sku"]] = wanted.get(line["sku"], 0) + int(line["quantity"])
    return all(
        fulfilled.get(sku, 0) >= int(before.get(sku, 0)) + units for sku, units in wanted.items()
    )


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


def _same_instant(shopify_time: Any, ours: str) -> bool:
    """Whether Shopify's DateTime ('...Z') and ours (RFC 3339) name the same instant."""
    try:
        return datetime.fromisoformat(str(shopify_time)) == datetime.fromisoformat(ours)
    except ValueError:
        return False


def _raise_user_errors(operation: str, errors: Any) -> None:
    if errors:
        message = "; ".join(str(e.get("message")) for e in errors)
        raise PermanentChannelError(f"Shopify {operation}: {message}")
