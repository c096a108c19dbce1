"""Amazon SP-API over HTTP: LWA tokens, searchOrders/getOrder (v2026-01-01), confirmShipment
per package (v0), and feeds for cancellations and refunds.

Idempotent at Amazon: a package whose packageReferenceId the order already lists is not
confirmed again; an order Amazon shows as cancelled is not cancelled again; a refund adjustment
carries our refund id as its MerchantAdjustmentItemID.

A cancel refunds the buyer by itself (Amazon charges only what ships), so a paid order's cancel
needs no refund of ours: the delivery's outcome says so.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import httpx

from services.channel_gateway.channels.http import Job, PermanentChannelError, call, json_of
from services.channel_gateway.channels.stock import StockPush

ORDERS = "/orders/2026-01-01/orders"
FEEDS = "/feeds/2021-06-30"
# Why money went back, as OrderAdjustment's AdjustmentReason; other reasons: GeneralAdjustment.
ADJUSTMENT_REASONS = {"return": "CustomerReturn", "short_pick": "NoInventory"}


class AmazonClient:
    """One seller's SP-API: orders in, shipment confirmations and feeds out."""

    def __init__(self, config: dict[str, Any], secrets: dict[str, str], http: httpx.AsyncClient):
        self.base = str(config.get("base_url") or "https://sellingpartnerapi-eu.amazon.com")
        self.base = self.base.rstrip("/")
        self.token_url = config.get("token_url") or "https://api.amazon.com/auth/o2/token"
        self.client_id = config.get("lwa_client_id", "")
        self.marketplace_id = config.get("marketplace_id", "")
        self.seller_id = config.get("seller_id", "")
        self.secrets = secrets
        self.http = http
        self._token: tuple[str, float] | None = None

    async def _headers(self) -> dict[str, str]:
        if self._token is None or self._token[1] < time.monotonic():
            form = {
                "grant_type": "refresh_token",
                "refresh_token": self.secrets.get("refresh_token", ""),
                "client_id": self.client_id,
                "client_secret": self.secrets.get("lwa_client_secret", ""),
            }
            token = json_of(await call(self.http, "POST", self.token_url, data=form))
            lifetime = float(token.get("expires_in", 3600)) - 60
            self._token = (token["access_token"], time.monotonic() + lifetime)
        return {"x-amz-access-token": self._token[0]}

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = await self._headers()
        return await call(self.http, method, self.base + path, headers=headers, **kwargs)

    # -- orders in -----------------------------------------------------------------------

    async def set_stock(self, push: StockPush) -> str:
        """patchListingsItem: replace fulfillment_availability (merchant-fulfilled, DEFAULT),
        each listing of the SKU its share."""
        for channel_sku in push.channel_skus:
            quantity, _ = push.share_of(channel_sku)
            body = {
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
                    }
                ],
            }
            path = f"/listings/2021-08-01/items/{quote(self.seller_id, safe='')}/" + quote(
                channel_sku, safe=""
            )
            params = {"marketplaceIds": self.marketplace_id}
            answer = json_of(await self._call("PATCH", path, params=params, json=body))
            if answer.get("status") != "ACCEPTED":
                issues = "; ".join(str(i.get("message")) for i in answer.get("issues") or [])
                raise PermanentChannelError(
                    f"Amazon listing {channel_sku}: {answer.get('status')} {issues}".strip()
                )
        return f"quantity {push.available}"

    async def search_orders(self, updated_after: str, token: str | None) -> Any:
        """One page of orders updated since a time and fulfilled by the seller: ready to ship, or
        cancelled (an order taken in before that Amazon cancelled), with their fulfilment."""
        params: dict[str, Any] = {
            "lastUpdatedAfter": updated_after,
            "marketplaceIds": self.marketplace_id,
            "fulfillmentStatuses": "UNSHIPPED,CANCELLED",
            "includedData": "FULFILLMENT",
            "fulfilledBy": "MERCHANT",
            "maxResultsPerPage": 100,
        }
        if token:
            params["paginationToken"] = token
        return json_of(await self._call("GET", ORDERS, params=params))

    async def get_order(
        self, order_id: str, included: str = "BUYER,RECIPIENT,FULFILLMENT,PAYMENT"
    ) -> Any:
        """One order with its items and the datasets asked for."""
        params = {"includedData": included}
        return json_of(await self._call("GET", f"{ORDERS}/{order_id}", params=params))

    # -- news out ------------------------------------------------------------------------

    async def deliver(self, job: Job) -> str:
        """Perform one delivery; returns what happened at Amazon."""
        if job.action == "shipment":
            return await self._confirm(job)
        if job.action == "cancellation":
            return await self._cancel(job)
        return await self._refund(job)

    async def _confirm(self, job: Job) -> str:
        if job.tracking_withheld:
            # confirmShipment requires trackingNumber; Amazon shows it to the buyer as real.
            raise PermanentChannelError(
                f"Amazon's confirmShipment needs a tracking number; {job.tracking_withheld}:"
                " confirm it in Seller Central or declare the numbers real"
            )
        order = (await self.get_order(job.external_id, "PACKAGES")).get("order") or {}
        known = {str(p.get("packageReferenceId")) for p in order.get("packages") or []}
        confirmed = []
        for reference, number, items in _packages(job):
            if reference in known:
                continue
            body = {
                "marketplaceId": job.refs.get("marketplace_id") or self.marketplace_id,
                "packageDetail": {
                    "packageReferenceId": reference,
                    "carrierCode": "Other",
                    "carrierName": job.details["carrier"],
                    "shippingMethod": job.details.get("service") or "Standard",
                    "trackingNumber": number,
                    "shipDate": job.details["shipped_at"],
                    "orderItems": items,
                },
            }
            path = f"/orders/v0/orders/{job.external_id}/shipmentConfirmation"
            await self._call("POST", path, json=body)
            confirmed.append(number)
        return f"confirmed packages {', '.join(confirmed)}" if confirmed else "already confirmed"

    async def _cancel(self, job: Job) -> str:
        order = (await self.get_order(job.external_id, "FULFILLMENT")).get("order") or {}
        if (order.get("fulfillment") or {}).get("fulfillmentStatus") == "CANCELLED":
            return "already cancelled"
        xml = _envelope(
            self.seller_id,
            "OrderAcknowledgement",
            f"<AmazonOrderID>{escape(job.external_id)}</AmazonOrderID>"
            "<StatusCode>Failure</StatusCode>",
        )
        sent = await self._feed("POST_ORDER_ACKNOWLEDGEMENT_DATA", xml)
        if job.details.get("refund"):
            return f"{sent}: Amazon refunds the buyer with the cancel"
        return sent

    async def _refund(self, job: Job) -> str:
        items = "".join(
            _adjusted_item(job, str(part.ref["order_item_id"]), part.amount_text)
            for line in job.details.get("lines") or []
            for part in job.spread(line["sku"], int(line["quantity"]), line["amount"])
            if part.ref.get("order_item_id")
        )
        if not items:
            raise PermanentChannelError("no Amazon order item matches the refunded SKUs")
        xml = _envelope(
            self.seller_id,
            "OrderAdjustment",
            f"<AmazonOrderID>{escape(job.external_id)}</AmazonOrderID>{items}",
        )
        return await self._feed("POST_PAYMENT_ADJUSTMENT_DATA", xml)

    async def _feed(self, feed_type: str, xml: str) -> str:
        content_type = "text/xml; charset=UTF-8"
        document = json_of(
            await self._call("POST", f"{FEEDS}/documents", json={"contentType": content_type})
        )
        await call(
            self.http,
            "PUT",
            document["url"],
            content=xml.encode(),
            headers={"Content-Type": content_type},
        )
        body = {
            "feedType": feed_type,
            "marketplaceIds": [self.marketplace_id],
            "inputFeedDocumentId": document["feedDocumentId"],
        }
        feed = json_of(await self._call("POST", f"{FEEDS}/feeds", json=body))
        return f"feed {feed.get('feedId')} ({feed_type})"


def _packages(job: Job) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(packageReferenceId, tracking number, order items) per package of the shipment.

    The Shipped contract does not say which units went into which package: every package gets
    at least one unit, the rest travel with the first, and every unit is confirmed once.
    """
    numbers = job.tracking_numbers()
    units = [
        part.ref.get("order_item_id") or line["sku"]
        for line in job.details["lines"]
        for part in job.spread(line["sku"], int(line["quantity"]))
        for _ in range(part.quantity)
    ]
    per_package: list[dict[str, int]] = [{} for _ in numbers]
    for index, unit in enumerate(units):
        target = per_package[index if 0 < index < len(numbers) else 0]
        target[unit] = target.get(unit, 0) + 1
    shipment = job.details["shipment_id"]
    result = []
    for index, (number, items) in enumerate(zip(numbers, per_package, strict=True)):
        if not items:
            continue
        digest = hashlib.sha256(f"{shipment}:{index}".encode()).digest()
        reference = str(1 + int.from_bytes(digest[:4], "big"))  # positive numeric, per Amazon
        result.append(
            (reference, number, [{"orderItemId": k, "quantity": v} for k, v in items.items()])
        )
    return result


def _adjustment_reason(job: Job) -> str:
    """Amazon's reason for a refund of ours (a return's: CustomerReturn)."""
    return ADJUSTMENT_REASONS.get(job.details.get("reason") or "return", "GeneralAdjustment")


def _adjusted_item(job: Job, order_item_id: str, amount: str) -> str:
    """One order item's refund in an OrderAdjustment feed (money back for its principal)."""
    return (
        "<AdjustedItem>"
        f"<AmazonOrderItemCode>{escape(order_item_id)}</AmazonOrderItemCode>"
        f"<MerchantAdjustmentItemID>{escape(job.details['refund_id'])}</MerchantAdjustmentItemID>"
        f"<AdjustmentReason>{_adjustment_reason(job)}</AdjustmentReason>"
        "<ItemPriceAdjustments><Component><Type>Principal</Type>"
        f'<Amount currency="{escape(job.details["currency"])}">{amount}</Amount>'
        "</Component></ItemPriceAdjustments></AdjustedItem>"
    )


def _envelope(seller_id: str, message_type: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope><Header>'
        f"<DocumentVersion>1.01</DocumentVersion><MerchantIdentifier>{escape(seller_id)}"
        f"</MerchantIdentifier></Header><MessageType>{message_type}</MessageType><Message>"
        f"<MessageID>1</MessageID><{message_type}>{body}</{message_type}></Message>"
        "</AmazonEnvelope>"
    )
