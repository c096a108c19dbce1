"""Shopee Open Platform v2 over HTTP, every call signed with the partner key.

Access tokens expire (4 hours): with a token keeper (ShopeeTokens) the client refreshes them
before they expire, and once on an expired-token answer, then makes the call again.

Idempotent at Shopee: an order is shipped only while Shopee still shows it READY_TO_SHIP,
cancelled only while it is not cancelled, a buyer's cancellation request answered only while
the order is IN_CANCEL, and a return is confirmed only while it is requested.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from services.channel_gateway.channels.http import (
    Job,
    PermanentChannelError,
    TransientChannelError,
    answered,
    json_of,
)
from services.channel_gateway.channels.shopee.logistics import DocumentPolling, ShopeeLogisticsCalls
from services.channel_gateway.channels.shopee.tokens import Shop, ShopeeTokens, is_expired_answer
from services.channel_gateway.channels.shopee.translate import (
    DETAIL_FIELDS,
    IN_CANCEL,
    PLACEABLE,
    sign,
)
from services.channel_gateway.channels.stock import NotListedError, StockPush
from services.channel_gateway.domain import ShippingArrangement

DETAIL = "/api/v2/order/get_order_detail"
LIST = "/api/v2/order/get_order_list"
LIST_PAGE_LIMIT = 100  # get_order_list's largest page_size
DETAIL_BATCH = 50  # get_order_detail takes at most 50 order_sn
LIST_WINDOW_SECONDS = 15 * 86_400  # time_from..time_to spans at most 15 days
SHIP = "/api/v2/logistics/ship_order"
CANCEL = "/api/v2/order/cancel_order"
ANSWER_CANCEL = "/api/v2/order/handle_buyer_cancellation"
RETURNS = "/api/v2/returns/get_return_list"
CONFIRM_RETURN = "/api/v2/returns/confirm"
RETURN_PAGE_SIZE = 100  # get_return_list's largest page_size
RETURN_PAGES_MAX = 100  # 10,000 return requests read for one confirm at most
TRANSIENT_ERRORS = ("error_server", "error_busy", "error_inner", "error_network")


class ShopeeClient:
    """One Shopee shop, reached through the partner's app."""

    def __init__(
        self,
        config: dict[str, Any],
        secrets: dict[str, str],
        http: httpx.AsyncClient,
        tokens: ShopeeTokens | None = None,
        channel_id: str = "",
    ):
        self.base = str(config.get("base_url") or "https://partner.shopeemobile.com").rstrip("/")
        self.partner_id = int(config["partner_id"])
        self.shop_id = int(config["shop_id"])
        self.partner_key = secrets.get("partner_key", "")
        self.access_token = secrets.get("access_token", "")
        self.http = http
        # Without a keeper (no store) the configured token is used as it is, never refreshed.
        self.tokens = tokens
        self.shop = Shop(channel_id, self.base, self.partner_id, self.partner_key, self.shop_id)
        # Stock sync: channel SKU -> item (and model), our location -> Shopee location id.
        self.stock_items: dict[str, dict[str, int]] = dict(config.get("stock_items") or {})
        self.stock_locations: dict[str, str] = dict(config.get("stock_locations") or {})
        # Shopee's own logistics (mode pickup or dropoff), or None: shipments are told to
        # Shopee with our carrier's tracking number (non_integrated).
        self.logistics: dict[str, Any] | None = config.get("logistics") or None
        self.document_polling = DocumentPolling()

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        token = await self.tokens.access_token(self.shop) if self.tokens else self.access_token
        payload = await self._signed_call(token, method, path, **kwargs)
        if is_expired_answer(payload) and self.tokens is not None:
            # Once: a token refused again right after its refresh is not an expiry problem.
            token = await self.tokens.refresh(self.shop, used=token)
            payload = await self._signed_call(token, method, path, **kwargs)
        error = payload.get("error")
        if error:
            kind = TransientChannelError if error in TRANSIENT_ERRORS else PermanentChannelError
            raise kind(f"Shopee {path}: {error} {payload.get('message', '')}".strip())
        return payload

    async def _signed_request(
        self, token: str, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        timestamp = int(time.time())
        params = {
            **kwargs.get("params", {}),
            "partner_id": self.partner_id,
            "timestamp": timestamp,
            "access_token": token,
            "shop_id": self.shop_id,
            "sign": sign(self.partner_key, self.partner_id, path, timestamp, token, self.shop_id),
        }
        rest = {k: v for k, v in kwargs.items() if k != "params"}
        return await answered(self.http, method, self.base + path, params=params, **rest)

    async def _download(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """A signed POST whose answer is a file (download_shipping_document); an answer in
        JSON is Shopee's error (an expired token is refreshed once, as for any call)."""
        token = await self.tokens.access_token(self.shop) if self.tokens else self.access_token
        response = await self._signed_request(token, "POST", path, json=body)
        expired = _is_json(response) and is_expired_answer(_json_or_none(response))
        if expired and self.tokens is not None:
            token = await self.tokens.refresh(self.shop, used=token)
            response = await self._signed_request(token, "POST", path, json=body)
        payload = _json_or_none(response) if _is_json(response) else None
        if isinstance(payload, dict) and payload.get("error"):
            error = payload["error"]
            kind = TransientChannelError if error in TRANSIENT_ERRORS else PermanentChannelError
            raise kind(f"Shopee {path}: {error} {payload.get('message', '')}".strip())
        if response.status_code >= 400:
            raise PermanentChannelError(f"POST {path}: HTTP {response.status_code}")
        return response

    async def _signed_call(
        self, token: str, method: str, path: str, **kwargs: Any
    ) -> dict[str, Any]:
        response = await self._signed_request(token, method, path, **kwargs)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            if payload is None and response.status_code < 400:
                json_of(response)  # garbage with 2xx: a passing fault (raises)
            raise PermanentChannelError(
                f"{method} {path}: HTTP {response.status_code} {response.text[:300]}"
            )
        if response.status_code >= 400 and not payload.get("error"):
            payload["error"] = f"HTTP {response.status_code}"
        return payload

    async def set_stock(self, push: StockPush) -> str:
        """product/update_stock of each SKU's item and model: seller_stock per mapped location,
        or the whole in one entry for a shop without locations."""
        for channel_sku in push.channel_skus:
            item = self.stock_items.get(channel_sku)
            if item is None:
                raise NotListedError(f"no Shopee item for SKU {channel_sku} (stock_items)")
            available, per_location = push.share_of(channel_sku)
            if self.stock_locations:
                seller_stock: list[dict[str, Any]] = [
                    {"location_id": shopee_location, "stock": per_location.get(location_id, 0)}
                    for location_id, shopee_location in sorted(self.stock_locations.items())
                ]
            else:
                seller_stock = [{"stock": available}]
            body = {
                "item_id": int(item["item_id"]),
                "stock_list": [
                    {"model_id": int(item.get("model_id", 0)), "seller_stock": seller_stock}
                ],
            }
            payload = await self._call("POST", "/api/v2/product/update_stock", json=body)
            failures = (payload.get("response") or {}).get("failure_list") or []
            if failures:
                reasons = "; ".join(str(f.get("failed_reason")) for f in failures)
                raise PermanentChannelError(f"Shopee update_stock {channel_sku}: {reasons}")
        return f"stock {push.available}"

    async def order_detail(self, order_sn: str) -> dict[str, Any]:
        """get_order_detail of one order, as Shopee answers it."""
        params = {"order_sn_list": order_sn, "response_optional_fields": DETAIL_FIELDS}
        return await self._call("GET", DETAIL, params=params)

    async def order_details(self, order_sns: list[str]) -> list[dict[str, Any]]:
        """get_order_detail of these orders, up to 50 a call: the orders Shopee answers."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(order_sns), DETAIL_BATCH):
            batch = ",".join(order_sns[start : start + DETAIL_BATCH])
            params = {"order_sn_list": batch, "response_optional_fields": DETAIL_FIELDS}
            answer = await self._call("GET", DETAIL, params=params)
            orders = (answer.get("response") or {}).get("order_list") or []
            found.extend(o for o in orders if isinstance(o, dict))
        return found

    async def order_list(
        self, time_from: int, time_to: int, page_size: int, cursor: str = ""
    ) -> dict[str, Any]:
        """A page of the orders updated between two times (at most 15 days apart), with their
        status: Shopee's `response` (order_list, more, next_cursor)."""
        params = {
            "time_range_field": "update_time",
            "time_from": time_from,
            "time_to": time_to,
            "page_size": min(page_size, LIST_PAGE_LIMIT),
            "cursor": cursor,
            "response_optional_fields": "order_status",
        }
        answer = await self._call("GET", LIST, params=params)
        return dict(answer.get("response") or {})

    async def _status(self, order_sn: str) -> str:
        detail = await self.order_detail(order_sn)
        orders = (detail.get("response") or {}).get("order_list") or []
        if not orders:
            raise PermanentChannelError(f"Shopee has no order {order_sn}")
        return str(orders[0].get("order_status"))

    async def arrange_shipping(self, job: Job) -> ShippingArrangement:
        """Hand a shipment to Shopee's own logistics: ship_order (pickup or drop-off, by the
        connection's setting), its tracking number and its airway bill."""
        if not self.logistics:
            raise PermanentChannelError("this Shopee channel is not connected with `logistics`")
        calls = ShopeeLogisticsCalls(
            self._call, self._download, self.logistics, self.document_polling
        )
        arranged = await calls.arrange(job.external_id)
        return arranged.as_arrangement(str(job.details["shipment_id"]))

    async def deliver(self, job: Job) -> str:
        """Perform one delivery; returns what happened at Shopee."""
        if job.action == "arrange_shipping":  # not news to tell: the worker arranges it
            raise PermanentChannelError("arranging shipping is not a delivery of news")
        if job.action == "shipment":
            return await self._ship(job)
        if job.action == "cancellation":
            return await self._cancel(job)
        if job.action == "cancel_request":
            return await self._answer_cancel_request(job)
        return await self._confirm_return(job)

    async def _ship(self, job: Job) -> str:
        status = await self._status(job.external_id)
        if self.logistics:
            # Shopee's logistics took it when the shipment was made: ship_order is not sent
            # again (and never with our tracking number, which Shopee's courier does not know).
            if status == PLACEABLE:
                raise TransientChannelError(
                    f"Shopee's logistics have not arranged {job.external_id} yet"
                    " (see its arrange_shipping delivery)"
                )
            return f"shipped with Shopee's logistics (arranged before): Shopee shows {status}"
        if status != PLACEABLE:
            return f"not shipped again: Shopee shows {status}"
        if job.tracking_withheld:
            # A non-integrated ship_order needs the parcel's number; an invented one would send
            # the buyer to a parcel that does not exist.
            raise PermanentChannelError(
                f"Shopee's ship_order needs a tracking number; {job.tracking_withheld}:"
                " ship it in Seller Centre or declare the numbers real"
            )
        number = job.tracking_numbers()[0]
        body = {"order_sn": job.external_id, "non_integrated": {"tracking_number": number}}
        await self._call("POST", SHIP, json=body)
        return f"shipped with tracking {number}"

    async def _cancel(self, job: Job) -> str:
        status = await self._status(job.external_id)
        if status in ("CANCELLED", "IN_CANCEL"):
            return f"already {status.lower()}"
        items = _cancelled_items(job)
        body = {"order_sn": job.external_id, "cancel_reason": "OUT_OF_STOCK", "item_list": items}
        await self._call("POST", CANCEL, json=body)
        if job.details.get("refund"):  # Shopee pays the buyer back for a cancelled order itself
            return "cancelled (OUT_OF_STOCK): Shopee refunds the buyer with the cancel"
        return "cancelled (OUT_OF_STOCK)"

    async def _answer_cancel_request(self, job: Job) -> str:
        # Answered only while Shopee still shows the request: an answer that got through
        # before (or Shopee's own decision, once the request timed out) is not made again.
        status = await self._status(job.external_id)
        if status != IN_CANCEL:
            return f"not answered: Shopee shows {status}"
        operation = "ACCEPT" if job.details.get("accepted") else "REJECT"
        body = {"order_sn": job.external_id, "operation": operation}
        await self._call("POST", ANSWER_CANCEL, json=body)
        return f"buyer's cancellation {operation.lower()}ed: {job.details.get('why')}"

    async def _returns(self) -> list[dict[str, Any]]:
        """Every return request get_return_list has, page after page while it says `more`."""
        found: list[dict[str, Any]] = []
        for page_no in range(RETURN_PAGES_MAX):
            params = {"page_no": page_no, "page_size": RETURN_PAGE_SIZE}
            listed = (await self._call("GET", RETURNS, params=params)).get("response") or {}
            found.extend(r for r in listed.get("return") or [] if isinstance(r, dict))
            if not listed.get("more"):
                return found
        # Never a silent partial read: the delivery fails visibly and is retried.
        raise TransientChannelError(
            f"Shopee get_return_list: more than {RETURN_PAGES_MAX} pages of returns"
        )

    async def _confirm_return(self, job: Job) -> str:
        # Shopee refunds through the buyer's return request: the seller accepts it.
        returns = [r for r in await self._returns() if r.get("order_sn") == job.external_id]
        if not returns:
            raise PermanentChannelError(f"no return request on Shopee for order {job.external_id}")
        done = [r for r in returns if r.get("status") in ("ACCEPTED", "REFUND_PAID", "CLOSED")]
        if done:
            return f"return {done[0]['return_sn']} already {done[0]['status'].lower()}"
        return_sn = returns[0]["return_sn"]
        await self._call("POST", CONFIRM_RETURN, json={"return_sn": return_sn})
        return f"return {return_sn} confirmed"


def _cancelled_items(job: Job) -> list[dict[str, int]]:
    """Each item and model of the order once: a product on two lines is one item to Shopee."""
    items: list[dict[str, int]] = []
    for ref in job.refs.get("lines") or []:
        item = {"item_id": ref.get("item_id") or 0, "model_id": ref.get("model_id") or 0}
        if item["item_id"] and item not in items:
            items.append(item)
    return items


def _is_json(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("application/json")


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
