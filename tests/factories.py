"""Test data the way the outside world sends it: customers, addresses, orders and their events.

Every builder gives a valid default and takes keyword overrides, so a test states only what
matters to it (`order_placed(lines=lines({"MUG": 3}))`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from shared import events as ev
from shared.events import now_utc

AT = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
UNIT_PRICE = "24.90"


def customer(**overrides: Any) -> dict[str, Any]:
    """Who ordered (never any payment data)."""
    return {"name": "Ann Example", "email": "ann@example.com", **overrides}


def address(**overrides: Any) -> dict[str, Any]:
    """A German ship-to address."""
    return {
        "name": "Ann Example",
        "line1": "Main St 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
        **overrides,
    }


def thai_address(**overrides: Any) -> dict[str, Any]:
    """A ship-to in Thai script, as chat and Shopee orders from Thailand arrive."""
    return address(
        name="สมชาย ใจดี",
        line1="99/1 ถนนสุขุมวิท",
        city="กรุงเทพมหานคร",
        postal_code="10110",
        country="TH",
        **overrides,
    )


def lines(quantities: dict[str, int] | None = None, unit_price: str = UNIT_PRICE) -> list[dict]:
    """Order lines: SKU -> quantity, each at `unit_price`."""
    return [
        {"sku": sku, "quantity": quantity, "unit_price": unit_price}
        for sku, quantity in (quantities or {"TEE": 2}).items()
    ]


def allocations(quantities: dict[str, int] | None = None, location_id: str = "WH-1") -> list[dict]:
    """Units reserved at one location, per SKU."""
    return [
        {"sku": sku, "location_id": location_id, "quantity": quantity}
        for sku, quantity in (quantities or {"TEE": 2}).items()
    ]


def item_quantities(quantities: dict[str, int] | None = None) -> list[dict]:
    """SKU and quantity pairs (shipment and return lines)."""
    return [{"sku": sku, "quantity": q} for sku, q in (quantities or {"TEE": 2}).items()]


def channel_order_received(**overrides: Any) -> ev.ChannelOrderReceived:
    """A channel's order as the gateway publishes it."""
    fields: dict[str, Any] = {
        "order_id": uuid4(),
        "channel": "web",
        "external_id": f"W-{uuid4().hex[:8]}",
        "customer": customer(),
        "shipping_address": address(),
        "lines": lines(),
        "currency": "EUR",
        "received_at": now_utc(),
    }
    return ev.ChannelOrderReceived(**(fields | overrides))


def order_placed(**overrides: Any) -> ev.OrderPlaced:
    """An order the order service placed."""
    fields: dict[str, Any] = {
        "order_id": uuid4(),
        "channel": "web",
        "external_id": f"W-{uuid4().hex[:8]}",
        "customer": customer(),
        "shipping_address": address(),
        "lines": lines(),
        "currency": "EUR",
        "placed_at": now_utc(),
    }
    return ev.OrderPlaced(**(fields | overrides))


def order_confirmed(
    quantities: dict[str, int] | None = None, **overrides: Any
) -> ev.OrderConfirmed:
    """An order whose stock is reserved, all of it at WH-1 unless `allocations` says otherwise."""
    fields: dict[str, Any] = {
        "order_id": uuid4(),
        "customer": customer(),
        "shipping_address": address(),
        "lines": lines(quantities),
        "allocations": allocations(quantities),
        "confirmed_at": now_utc(),
        "channel": "web",
        "external_id": f"W-{uuid4().hex[:8]}",
        "placed_at": AT,
    }
    return ev.OrderConfirmed(**(fields | overrides))


def order_cancelled(order_id: UUID, **overrides: Any) -> ev.OrderCancelled:
    """An order cancelled before it shipped."""
    fields: dict[str, Any] = {
        "order_id": order_id,
        "channel": "web",
        "external_id": "W-1",
        "reason": "customer changed their mind",
        "cancelled_at": now_utc(),
    }
    return ev.OrderCancelled(**(fields | overrides))


def shipped(
    order_id: UUID, quantities: dict[str, int] | None = None, **overrides: Any
) -> ev.Shipped:
    """A shipment of `quantities` left WH-1 with a tracking number."""
    fields: dict[str, Any] = {
        "shipment_id": uuid4(),
        "order_id": order_id,
        "location_id": "WH-1",
        "carrier": "oms-parcel",
        "tracking_number": f"TRK{uuid4().hex[:10].upper()}",
        "lines": item_quantities(quantities),
        "shipped_at": now_utc(),
    }
    return ev.Shipped(**(fields | overrides))


def order_shipped(
    order_id: UUID | None = None,
    quantities: dict[str, int] | None = None,
    unit_price: str = UNIT_PRICE,
    currency: str = "EUR",
    **overrides: Any,
) -> ev.OrderShipped:
    """An order that shipped in full in one shipment: what the returns service can take back."""
    order_id = order_id or uuid4()
    shipment = {
        "shipment_id": uuid4(),
        "location_id": "WH-1",
        "carrier": "oms-parcel",
        "tracking_number": "TRK0001",
        "lines": item_quantities(quantities),
    }
    fields: dict[str, Any] = {
        "order_id": order_id,
        "currency": currency,
        "lines": lines(quantities, unit_price),
        "shipments": [shipment],
        "shipped_at": now_utc(),
    }
    return ev.OrderShipped(**(fields | overrides))
