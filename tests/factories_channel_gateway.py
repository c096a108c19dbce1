"""Test data only the channel gateway's tests need: canonical orders as channels post them,
and the refunds the returns service reports back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from shared import events as ev
from shared.events import now_utc
from tests import factories


def canonical_order(**overrides: Any) -> dict[str, Any]:
    """The body of POST /v1/orders: a Shopify order of two lines to Berlin."""
    order: dict[str, Any] = {
        "channel": "shopify",
        "external_id": "5829104713893",
        "customer": factories.customer(name="Lena Hoffmann", email="lena.hoffmann@example.de"),
        "shipping_address": factories.address(
            name="Lena Hoffmann",
            line1="Bergmannstraße 42",
            line2="Hinterhaus, 3. OG",
            city="Berlin",
            postal_code="10961",
        ),
        "lines": [
            {"sku": "TEE-ORG-BLK-M", "quantity": 2, "unit_price": "24.90"},
            {"sku": "MUG-ENM-350-WHT", "quantity": 1, "unit_price": "14.50"},
        ],
        "currency": "EUR",
    }
    return order | overrides


def refunded(
    order_id: UUID,
    sku: str = "TEE",
    amount: str = factories.UNIT_PRICE,
    currency: str = "EUR",
    **overrides: Any,
) -> ev.Refunded:
    """Money back for one unit of `sku`, as the returns service reports it."""
    fields: dict[str, Any] = {
        "refund_id": uuid4(),
        "return_id": uuid4(),
        "order_id": order_id,
        "amount": Decimal(amount),
        "currency": currency,
        "lines": [ev.RefundLine(sku=sku, quantity=1, amount=Decimal(amount))],
        "refunded_at": now_utc(),
    }
    return ev.Refunded(**(fields | overrides))
