"""Orders: search, one order whole (lines, money, payment, shipments, routing, timeline with
who did what) and what ops do to it (cancel, change the ship-to, cancel units, refund, release)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console.pages.calls import act, or_none
from services.console.pages.deps import CallerDep, FormDep, back, render
from services.console.upstream import UpstreamProblem

router = APIRouter()
STATUSES = (
    "placed",
    "awaiting_payment",
    "confirmed",
    "backordered",
    "partially_shipped",
    "shipped",
    "partially_returned",
    "returned",
    "cancelled",
)
PAYMENT_STATES = (
    "pending",
    "authorized",
    "paid",
    "partially_paid",
    "partially_refunded",
    "refunded",
    "voided",
    "cash_on_delivery",
)
SEARCH_FIELDS = ("q", "email", "sku", "status", "payment_state", "channel", "cursor")
ADDRESS_FIELDS = ("name", "company", "line1", "line2", "city", "postal_code", "state", "country")
REFUND_REASONS = ("goodwill", "lost_parcel", "short_pick", "other")


@router.get("/orders", response_class=HTMLResponse)
async def orders(request: Request, api: CallerDep) -> HTMLResponse:
    """Orders by id, channel number, external id, name or e-mail, SKU, status, payment."""
    asked = {k: request.query_params.get(k, "").strip() for k in SEARCH_FIELDS}
    try:
        page = await api.get("order_service", "/orders", limit=25, **asked)
    except UpstreamProblem as problem:
        page, asked["problem"] = {"data": [], "count": 0}, problem.detail
    return render(
        request,
        "orders.html",
        page=page,
        asked=asked,
        statuses=STATUSES,
        payment_states=PAYMENT_STATES,
    )


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order(request: Request, order_id: UUID, api: CallerDep) -> HTMLResponse:
    """One order: lines, amounts, payment, shipments, routing and its timeline."""
    found = await api.get("order_service", f"/orders/{order_id}")
    reservation, refundable, channel_order = await asyncio.gather(
        or_none(api, "inventory_service", f"/reservations/{order_id}"),
        or_none(api, "returns_service", f"/refundable/{order_id}"),
        or_none(api, "channel_gateway", f"/channel-orders/{order_id}"),
    )
    return render(
        request,
        "order.html",
        order=found,
        reservation=reservation,
        refundable=refundable,
        channel_order=channel_order,
        address_fields=ADDRESS_FIELDS,
        refund_reasons=REFUND_REASONS,
    )


@router.post("/orders/{order_id}/cancel")
async def cancel(order_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """Cancel the order (its stock is released, the channel told)."""
    body = {"reason": fields.get("reason") or "cancelled by operator"}
    return await act(
        api,
        "order_service",
        f"/orders/{order_id}/cancel",
        body,
        back_to=f"/orders/{order_id}",
        done="Cancellation requested.",
    )


@router.post("/orders/{order_id}/ship-to")
async def ship_to(order_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """Send the order's parcels to another address."""
    address = {k: fields[k].strip() for k in ADDRESS_FIELDS if fields.get(k, "").strip()}
    if "country" in address:
        address["country"] = address["country"].upper()
    body = {"shipping_address": address, "reason": fields.get("reason") or None}
    return await act(
        api,
        "order_service",
        f"/orders/{order_id}/ship-to",
        body,
        back_to=f"/orders/{order_id}",
        done="The new address is on its way to the warehouse.",
    )


@router.post("/orders/{order_id}/cancel-line")
async def cancel_line(order_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """Take units off one line."""
    try:
        cut = {"line": int(fields.get("line", "")), "quantity": int(fields.get("quantity", ""))}
    except ValueError:
        return back(f"/orders/{order_id}", problem="The line and the units are whole numbers.")
    body = {"cancel": [cut], "reason": fields.get("reason") or "line cancelled by operator"}
    return await act(
        api,
        "order_service",
        f"/orders/{order_id}/edits",
        body,
        back_to=f"/orders/{order_id}",
        done="Units cancelled; the order is reserved again.",
    )


@router.post("/orders/{order_id}/refund")
async def refund(order_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """Money back without a return: an amount, for a reason."""
    body: dict[str, Any] = {
        "order_id": str(order_id),
        "reason": fields.get("reason", "goodwill"),
        "amount": fields.get("amount", "").strip() or None,
        "note": fields.get("note", "").strip() or None,
    }
    return await act(
        api,
        "returns_service",
        "/refunds",
        body,
        back_to=f"/orders/{order_id}",
        done="Refund recorded.",
    )


@router.post("/orders/{order_id}/release")
async def release(order_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """Release an order the gateway held: it goes on to the OMS."""
    path = f"/channel-orders/{order_id}/release"
    return await act(
        api, "channel_gateway", path, {}, back_to=f"/orders/{order_id}", done="Released."
    )
