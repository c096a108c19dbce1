"""Shopee's own logistics (v2.logistics): arrange a shipment, its tracking number, its airway bill.

As Shopee's order-management guide lays it out: get_shipping_parameter says what ship_order
needs (`info_needed`: pickup wants address_id and pickup_time_id, dropoff a branch_id or
nothing); ship_order arranges it (the order moves READY_TO_SHIP -> PROCESSED);
get_tracking_number then gives the carrier's number (empty for a while after ship_order);
the airway bill is made by create_shipping_document, polled with get_shipping_document_result
until READY (PROCESSING before, FAILED for good) and fetched with download_shipping_document
(the file itself: a PDF for most orders, HTML or a zip for some channels).

Every step can be repeated: an order Shopee already shows PROCESSED, SHIPPED or
TO_CONFIRM_RECEIVE was arranged by an earlier attempt (or has left), so a retry picks up from
the tracking number, and asks get_shipping_document_result before making the airway bill again;
RETRY_SHIP (the pickup failed) is arranged again with ship_order.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from services.channel_gateway.channels.http import PermanentChannelError, TransientChannelError
from services.channel_gateway.domain import ShippingArrangement
from shared.events.models import CHANNEL_DOCUMENT_MAX_BYTES

PARAMETER = "/api/v2/logistics/get_shipping_parameter"
SHIP = "/api/v2/logistics/ship_order"
TRACKING = "/api/v2/logistics/get_tracking_number"
CREATE_DOCUMENT = "/api/v2/logistics/create_shipping_document"
DOCUMENT_RESULT = "/api/v2/logistics/get_shipping_document_result"
DOWNLOAD_DOCUMENT = "/api/v2/logistics/download_shipping_document"
# ship_order arranges these: READY_TO_SHIP, and RETRY_SHIP (Shopee's "the pickup failed,
# arrange the shipment again").
ARRANGEABLE = ("READY_TO_SHIP", "RETRY_SHIP")
# Arranged before (an earlier attempt that did not finish, or the parcel already left):
# carry on from the tracking number and the airway bill.
ARRANGED = ("PROCESSED", "SHIPPED", "TO_CONFIRM_RECEIVE")
DEFAULT_DOCUMENT = "THERMAL_AIR_WAYBILL"
DEFAULT_CARRIER = "Shopee"

Call = Callable[..., Awaitable[dict[str, Any]]]
Download = Callable[[str, dict[str, Any]], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class DocumentPolling:
    """How often and how long one attempt waits for the airway bill to be READY."""

    polls: int = 8
    interval: float = 0.5


@dataclass(frozen=True)
class Arranged:
    """What Shopee's logistics gave for one order: carrier, tracking number and airway bill."""

    carrier: str
    tracking_number: str
    document_type: str
    media_type: str
    document: bytes

    def as_arrangement(self, shipment_id: str) -> ShippingArrangement:
        """The arrangement as the gateway records and publishes it (document in base64)."""
        return ShippingArrangement(
            shipment_id=shipment_id,
            carrier=self.carrier,
            tracking_number=self.tracking_number,
            document_type=self.document_type,
            document_media_type=self.media_type,
            document_base64=base64.b64encode(self.document).decode("ascii"),
            arranged_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        )


def ship_body(order_sn: str, settings: Mapping[str, Any], parameter: Mapping[str, Any]) -> dict:
    """The ship_order body for the shop's mode, from get_shipping_parameter's answer.

    Pickup: the configured address (else the one flagged pickup_address, else the first) and
    its earliest time slot. Dropoff: the configured branch, else the first listed, else none
    (some channels need nothing: `dropoff` is then sent empty, as Shopee asks).
    """
    mode = settings.get("mode")
    needed = (parameter.get("info_needed") or {}).get(mode)
    if needed is None:
        offered = sorted((parameter.get("info_needed") or {}).keys())
        raise PermanentChannelError(
            f"Shopee does not offer {mode} for order {order_sn} (it offers: {offered or 'none'})"
        )
    if mode == "pickup":
        return {"order_sn": order_sn, "pickup": _pickup(order_sn, settings, parameter, needed)}
    return {"order_sn": order_sn, "dropoff": _dropoff(order_sn, settings, parameter, needed)}


def _pickup(
    order_sn: str, settings: Mapping[str, Any], parameter: Mapping[str, Any], needed: list[str]
) -> dict[str, Any]:
    if not needed:
        return {}
    addresses = (parameter.get("pickup") or {}).get("address_list") or []
    wanted = settings.get("address_id")
    if wanted is not None:
        chosen = [a for a in addresses if a.get("address_id") == wanted]
    else:
        flagged = [a for a in addresses if "pickup_address" in (a.get("address_flag") or [])]
        chosen = flagged or addresses
    if not chosen:
        which = f"address {wanted}" if wanted is not None else "pickup address"
        raise PermanentChannelError(f"Shopee lists no {which} for order {order_sn}")
    address = chosen[0]
    slots = sorted(address.get("time_slot_list") or [], key=lambda slot: slot.get("date", 0))
    if "pickup_time_id" in needed and not slots:
        # Shopee's FAQ: no slot when the order shipped already or its ship-by day passed.
        raise PermanentChannelError(
            f"Shopee offers no pickup time at address {address.get('address_id')} for {order_sn}"
        )
    body: dict[str, Any] = {"address_id": address["address_id"]}
    if slots:
        body["pickup_time_id"] = str(slots[0]["pickup_time_id"])
    return body


def _dropoff(
    order_sn: str, settings: Mapping[str, Any], parameter: Mapping[str, Any], needed: list[str]
) -> dict[str, Any]:
    if "branch_id" not in needed:
        return {}  # Shopee needs nothing more for this channel's drop-off
    branches = (parameter.get("dropoff") or {}).get("branch_list") or []
    wanted = settings.get("branch_id")
    ids = [b.get("branch_id") for b in branches]
    if wanted is not None and wanted not in ids:
        raise PermanentChannelError(f"Shopee lists no branch {wanted} for order {order_sn}")
    if wanted is None and not ids:
        raise PermanentChannelError(f"Shopee lists no drop-off branch for order {order_sn}")
    return {"branch_id": wanted if wanted is not None else ids[0]}


class ShopeeLogisticsCalls:
    """The logistics calls of one shop, made through its signed client."""

    def __init__(
        self,
        call: Call,
        download: Download,
        settings: Mapping[str, Any],
        polling: DocumentPolling | None = None,
    ) -> None:
        self.call = call
        self.download = download
        self.settings = settings
        self.polling = polling or DocumentPolling()

    async def arrange(self, order_sn: str) -> Arranged:
        """Arrange the order with Shopee (once), then its tracking number and airway bill."""
        status, carrier = await self._status(order_sn)
        if status in ARRANGEABLE:
            answer = await self.call("GET", PARAMETER, params={"order_sn": order_sn})
            body = ship_body(order_sn, self.settings, answer.get("response") or {})
            await self.call("POST", SHIP, json=body)
        elif status not in ARRANGED:
            raise PermanentChannelError(
                f"Shopee shows order {order_sn} {status}: its shipping cannot be arranged"
            )
        tracking = await self._tracking_number(order_sn)
        document_type = str(self.settings.get("document_type") or DEFAULT_DOCUMENT)
        # Arranged before: an earlier attempt may have asked for the airway bill already (and
        # left it PROCESSING); just arranged (again, after RETRY_SHIP): a new one is made.
        made_before = status in ARRANGED
        media_type, document = await self._airway_bill(
            order_sn, tracking, document_type, made_before
        )
        return Arranged(carrier, tracking, document_type, media_type, document)

    async def _status(self, order_sn: str) -> tuple[str, str]:
        params = {"order_sn_list": order_sn, "response_optional_fields": "shipping_carrier"}
        answer = await self.call("GET", "/api/v2/order/get_order_detail", params=params)
        orders = (answer.get("response") or {}).get("order_list") or []
        if not orders:
            raise PermanentChannelError(f"Shopee has no order {order_sn}")
        order = orders[0]
        return str(order.get("order_status")), str(order.get("shipping_carrier") or DEFAULT_CARRIER)

    async def _tracking_number(self, order_sn: str) -> str:
        answer = await self.call("GET", TRACKING, params={"order_sn": order_sn})
        response = answer.get("response") or {}
        number = str(response.get("tracking_number") or "")
        if not number:
            # Shopee gives it some time after ship_order; the delivery is tried again later.
            hint = response.get("hint") or "not issued yet"
            raise TransientChannelError(f"Shopee has no tracking number for {order_sn}: {hint}")
        return number

    async def _airway_bill(
        self, order_sn: str, tracking: str, document_type: str, made_before: bool
    ) -> tuple[str, bytes]:
        asked = made_before and await self._document_asked_for(order_sn, document_type)
        if not asked:
            entry = {"order_sn": order_sn, "tracking_number": tracking}
            created = await self.call(
                "POST",
                CREATE_DOCUMENT,
                json={"order_list": [{**entry, "shipping_document_type": document_type}]},
            )
            _check_results(created, order_sn, "create_shipping_document")
        await self._until_ready(order_sn, document_type)
        response = await self.download(
            DOWNLOAD_DOCUMENT,
            {"shipping_document_type": document_type, "order_list": [{"order_sn": order_sn}]},
        )
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type == "application/json" or not response.content:
            raise PermanentChannelError(
                f"Shopee download_shipping_document for {order_sn}: {response.text[:300]}"
            )
        if len(response.content) > CHANNEL_DOCUMENT_MAX_BYTES:
            raise PermanentChannelError(
                f"Shopee's airway bill for {order_sn} has {len(response.content)} bytes,"
                f" over the {CHANNEL_DOCUMENT_MAX_BYTES} a shipment's label may have"
            )
        return media_type or "application/octet-stream", response.content

    async def _document_asked_for(self, order_sn: str, document_type: str) -> bool:
        """Whether Shopee is making (PROCESSING) or has made (READY) the airway bill already; a
        document it has not heard of, or one that FAILED, is asked for (again)."""
        body = {"order_list": [{"order_sn": order_sn, "shipping_document_type": document_type}]}
        answer = await self.call("POST", DOCUMENT_RESULT, json=body)
        results = (answer.get("response") or {}).get("result_list") or []
        mine = [r for r in results if r.get("order_sn") == order_sn]
        if not mine or mine[0].get("fail_error"):
            return False  # e.g. logistics.shipping_document_not_found
        return str(mine[0].get("status") or "") in ("READY", "PROCESSING")

    async def _until_ready(self, order_sn: str, document_type: str) -> None:
        """Poll get_shipping_document_result until READY, as Shopee's FAQ advises."""
        body = {"order_list": [{"order_sn": order_sn, "shipping_document_type": document_type}]}
        status = "PROCESSING"
        for poll in range(self.polling.polls):
            if poll:
                await asyncio.sleep(self.polling.interval)
            answer = await self.call("POST", DOCUMENT_RESULT, json=body)
            result = _check_results(answer, order_sn, "get_shipping_document_result")
            status = str(result.get("status") or "PROCESSING")
            if status == "READY":
                return
            if status == "FAILED":
                raise PermanentChannelError(f"Shopee could not make the airway bill of {order_sn}")
        raise TransientChannelError(
            f"Shopee's airway bill of {order_sn} is still {status} after {self.polling.polls} polls"
        )


def _check_results(answer: Mapping[str, Any], order_sn: str, what: str) -> dict[str, Any]:
    """The order's entry of a result_list; PermanentChannelError with Shopee's words on a fail."""
    results = (answer.get("response") or {}).get("result_list") or []
    mine = [r for r in results if r.get("order_sn") == order_sn]
    if not mine:
        raise PermanentChannelError(f"Shopee {what}: no result for order {order_sn}")
    result: dict[str, Any] = mine[0]
    if result.get("fail_error"):
        raise PermanentChannelError(
            f"Shopee {what} {order_sn}: {result['fail_error']} {result.get('fail_message', '')}"
        )
    return result
