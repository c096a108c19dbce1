"""WooCommerce REST: Shipment Tracking items, order status, refunds (basic auth with API keys).

Idempotent at the store: tracking numbers already on the order are not added again, a cancelled
order is not cancelled again, and a refund that carries our refund id (in its meta data and its
reason) is not repeated. WooCommerce has no idempotency key: that check, right before creating,
is the store's side; that no two attempts of one delivery run at once is ours (claimed attempts).

Setting an order to cancelled does not give the money back: a paid order's cancel is followed by
a refund of what the store says is left of it (its `total` less its refunds, so never more than
was paid), with `api_refund: true` and our cancel's refund id, once.

An edit of the order's lines made in the OMS is one PUT of the order's `line_items`: a line that
lost units gets its new quantity, its subtotal and total scaled from the store's own figures (0
removes it), an added line comes by product_id when the order has the SKU, else by name, with
its subtotal and total, and carries our edit's key in its meta data. A line already at its new
quantity, or an added line whose key is on the order, is not sent again. The edit moves no money:
a refund of cancelled paid units is the returns service's, its own delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from services.channel_gateway.channels.http import (
    Job,
    PermanentChannelError,
    call,
    json_of,
    lines_to_cut,
)
from services.channel_gateway.channels.stock import NotListedError, StockPush
from shared import money

REFUND_META_KEY = "_oms_refund_id"  # leading underscore: hidden from the store's admin screens
REASON_META_KEY = "_oms_refund_reason"  # return, short_pick, lost_parcel, goodwill, other, cancel
EDIT_META_KEY = "_oms_edit_line"  # "<revision>:<n>": the edit that added the line
PAGE_LIMIT = 100  # the REST API's largest per_page


class WooCommerceClient:
    """Tells one WooCommerce store about shipments, cancellations and refunds."""

    def __init__(self, config: dict[str, Any], secrets: dict[str, str], http: httpx.AsyncClient):
        self.base = str(config["base_url"]).rstrip("/") + "/wp-json"
        self.auth = (secrets.get("consumer_key", ""), secrets.get("consumer_secret", ""))
        self.http = http
        self.products: dict[str, str] = {}  # channel SKU -> product path, found once

    async def deliver(self, job: Job) -> str:
        """Perform one delivery; returns what happened at the store."""
        if job.action == "shipment":
            return await self._track(job)
        if job.action == "cancellation":
            return await self._cancel(job)
        if job.action == "edit":
            return await self._edit(job)
        return await self._refund(job)

    async def orders_page(
        self, modified_after: str, page: int, per_page: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the orders modified after a GMT time, oldest change first, and how many
        pages there are (X-WP-TotalPages)."""
        params = {
            "modified_after": modified_after,
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": min(per_page, PAGE_LIMIT),
            "page": page,
        }
        url = self.base + "/wc/v3/orders"
        response = await call(self.http, "GET", url, params=params, auth=self.auth)
        orders = json_of(response)
        if not isinstance(orders, list):
            raise PermanentChannelError(f"GET {url}: the answer is not a list of orders")
        pages = response.headers.get("X-WP-TotalPages") or "1"
        return [o for o in orders if isinstance(o, dict)], int(pages) if pages.isdigit() else 1

    async def set_stock(self, push: StockPush) -> str:
        """PUT stock_quantity (with manage_stock) on the product or variation of each SKU, each
        its share."""
        for channel_sku in push.channel_skus:
            path = await self._product_path(channel_sku)
            quantity, _ = push.share_of(channel_sku)
            await self._send("PUT", path, {"manage_stock": True, "stock_quantity": quantity})
        return f"stock_quantity {push.available}"

    async def _product_path(self, channel_sku: str) -> str:
        """Where the product (or variation) with this SKU is updated (looked up once)."""
        found = self.products.get(channel_sku)
        if found is None:
            products = await self._get("/wc/v3/products", sku=channel_sku)
            if not isinstance(products, list) or not products:
                raise NotListedError(f"WooCommerce has no product with SKU {channel_sku}")
            product = products[0]
            parent = product.get("parent_id") or 0
            found = (
                f"/wc/v3/products/{parent}/variations/{product['id']}"
                if parent
                else f"/wc/v3/products/{product['id']}"
            )
            self.products[channel_sku] = found
        return found

    async def _get(self, path: str, **params: Any) -> Any:
        return json_of(
            await call(self.http, "GET", self.base + path, params=params, auth=self.auth)
        )

    async def _send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        return json_of(await call(self.http, method, self.base + path, json=body, auth=self.auth))

    async def _track(self, job: Job) -> str:
        path = f"/wc-shipment-tracking/v3/orders/{job.external_id}/shipment-trackings"
        numbers = job.tracking_numbers()
        known = (
            {item.get("tracking_number") for item in await self._get(path) or []}
            if numbers
            else set()
        )
        added = []
        for number in numbers:
            if number in known:
                continue
            await self._send(
                "POST",
                path,
                {
                    "custom_tracking_provider": job.details["carrier"],
                    "tracking_number": number,
                    "date_shipped": job.details["shipped_at"][:10],
                },
            )
            added.append(number)
        completed = bool(job.order.get("fully_shipped"))
        if completed:
            # Completing the order sends the store's e-mail with the tracking links.
            await self._send("PUT", f"/wc/v3/orders/{job.external_id}", {"status": "completed"})
        if job.tracking_withheld:
            done = "order completed" if completed else "nothing told until the order is complete"
            return f"{done}; {job.tracking_withheld}"
        return f"tracking added: {', '.join(added)}" if added else "tracking already on the order"

    async def _cancel(self, job: Job) -> str:
        order = await self._get(f"/wc/v3/orders/{job.external_id}")
        if order.get("status") in ("cancelled", "refunded"):
            done = f"already {order.get('status')}"
        else:
            await self._send("PUT", f"/wc/v3/orders/{job.external_id}", {"status": "cancelled"})
            done = "order cancelled"
        if not job.details.get("refund"):
            return done
        return f"{done}; {await self._refund_rest(job, order)}"

    async def _refund_rest(self, job: Job, order: dict[str, Any]) -> str:
        """Refund what is left of a cancelled order's payment, by the store's own figures."""
        refund_id = f"cancel:{job.delivery_id}"
        marker = f"OMS refund {refund_id}"
        path = f"/wc/v3/orders/{job.external_id}/refunds"
        refunds = await self._get(path, per_page=100) or []
        for refund in refunds:
            if _carries(refund, refund_id, marker):
                return f"already refunded {refund.get('amount')} as refund {refund.get('id')}"
        paid = Decimal(str(order.get("total") or "0"))
        refunded = sum((abs(Decimal(str(r.get("amount") or "0"))) for r in refunds), Decimal(0))
        left = paid - refunded
        if left <= 0:
            return "nothing left to refund"
        body = {
            "amount": format(left, "f"),
            "reason": marker,
            "meta_data": [
                {"key": REFUND_META_KEY, "value": refund_id},
                {"key": REASON_META_KEY, "value": "cancel"},
            ],
            "api_refund": True,  # the store's payment gateway sends the money back
        }
        created = await self._send("POST", path, body)
        return f"refunded {body['amount']} as refund {created.get('id')}"

    async def _refund(self, job: Job) -> str:
        refund_id = str(job.details["refund_id"])
        marker = f"OMS refund {refund_id}"
        path = f"/wc/v3/orders/{job.external_id}/refunds"
        for refund in await self._get(path, per_page=100) or []:
            if _carries(refund, refund_id, marker):
                return f"already refunded as refund {refund.get('id')}"
        body: dict[str, Any] = {
            "amount": job.details["amount"],
            "reason": marker,
            "meta_data": [
                {"key": REFUND_META_KEY, "value": refund_id},
                {"key": REASON_META_KEY, "value": job.details.get("reason") or "return"},
            ],
            # The store's payment gateway sends the money back.
            "api_refund": True,
        }
        if job.details.get("refund_kind") != "amount":  # money only: no line's units refunded
            body["line_items"] = _refund_line_items(job)
        created = await self._send("POST", path, body)
        return f"refund {created.get('id')}"

    async def _edit(self, job: Job) -> str:
        path = f"/wc/v3/orders/{job.external_id}"
        order = await self._get(path)
        items = edit_items(job, order)
        revision = job.details["revision"]
        if not items:
            return f"already edited at the store (revision {revision})"
        await self._send("PUT", path, {"line_items": items})
        return f"order edited at the store (revision {revision}, {len(items)} line items)"


def edit_items(job: Job, order: dict[str, Any]) -> list[dict[str, Any]]:
    """The `line_items` of the PUT that brings the store's order to the OMS's edit, less what
    the order shows done already."""
    currency = str(order.get("currency") or job.details.get("currency") or "")
    items = {str(item.get("id")): item for item in order.get("line_items") or []}
    out = [
        _scaled(item, line["quantity"], currency)
        for line, item in lines_to_cut(job, items, str, "quantity", "store")
    ]
    keys = {
        str(meta.get("value"))
        for item in items.values()
        for meta in item.get("meta_data") or []
        if meta.get("key") == EDIT_META_KEY
    }
    out.extend(
        _new_item(line, currency) for line in job.details["added"] if line["key"] not in keys
    )
    return out


def _scaled(item: Mapping[str, Any], quantity: int, currency: str) -> dict[str, Any]:
    """A line item at a new quantity: its subtotal and total in proportion (0: removed)."""
    if quantity == 0:
        return {"id": item["id"], "quantity": 0}  # WooCommerce removes a line item of none
    ratio = Decimal(quantity) / int(item["quantity"])
    return {
        "id": item["id"],
        "quantity": quantity,
        "subtotal": money.text(Decimal(str(item.get("subtotal") or "0")) * ratio, currency),
        "total": money.text(Decimal(str(item.get("total") or "0")) * ratio, currency),
    }


def _new_item(line: dict[str, Any], currency: str) -> dict[str, Any]:
    """An added line: by the store's product when the order has the SKU, else by name."""
    subtotal = Decimal(line["unit_price"]) * int(line["quantity"])
    item: dict[str, Any] = {
        "name": line["title"],
        "quantity": line["quantity"],
        "subtotal": money.text(subtotal, currency),
        "total": money.text(subtotal - Decimal(line.get("discount") or 0), currency),
        "meta_data": [{"key": EDIT_META_KEY, "value": line["key"]}],
    }
    product = (line.get("product") or {}).get("product_id")
    if product:
        item["product_id"] = product
    return item


def _refund_line_items(job: Job) -> list[dict[str, Any]]:
    """The refunded units and money on the line items they were bought on (a product may be
    on several, at different prices): spread over them, the amounts adding up exactly."""
    return [
        {
            "id": part.ref["line_id"],
            "quantity": part.quantity,
            "refund_total": part.amount_text,
        }
        for line in job.details.get("lines") or []
        for part in job.spread(line["sku"], int(line["quantity"]), line["amount"])
        if part.ref.get("line_id")
    ]


def _carries(refund: dict[str, Any], refund_id: str, marker: str) -> bool:
    """Whether a refund at the store is ours: by its meta data, or its reason (older ones)."""
    meta = refund.get("meta_data") or []
    if any(m.get("key") == REFUND_META_KEY and str(m.get("value")) == refund_id for m in meta):
        return True
    return marker in (refund.get("reason") or "")
