"""WooCommerce's order JSON (order.created webhook, REST v3 shape) -> canonical order; pure."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, ValidationError

from services.channel_gateway.application import Translation
from services.channel_gateway.channels.base import (
    ChannelLine,
    ChannelPayload,
    Connection,
    MalformedPayloadError,
    decimal,
    describe,
    finish,
    text,
)
from services.channel_gateway.channels.signing import any_matches, base64_signature
from shared.payments import ASSUMED, PaymentState

ORDER_CREATED = "order.created"

# Order statuses that say what became of the payment whatever the method (COD included).
SETTLED: dict[str, PaymentState] = {
    "refunded": PaymentState.REFUNDED,
    "cancelled": PaymentState.VOIDED,
    "failed": PaymentState.PENDING,  # the payment failed or was declined: nothing was paid
}
# Statuses WooCommerce gives an order once its payment was received.
PAID_STATUSES = frozenset({"processing", "completed"})
COD = "cod"  # the payment_method id of WooCommerce's own cash on delivery gateway


class WooAddress(ChannelPayload):
    """A billing or shipping block."""

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    city: str | None = None
    state: str | None = None
    postcode: str | None = None
    country: str | None = None
    email: str | None = None


class WooLineItem(ChannelPayload):
    """A line item; `total` is what was paid for the line after discounts, as a string."""

    id: int
    name: str | None = None
    product_id: int | None = None
    variation_id: int | None = None
    sku: str | None = None
    quantity: int = Field(gt=0)
    total: str
    price: Decimal | float | None = None


class WooOrder(ChannelPayload):
    """An order as the REST API v3 and the order.created webhook deliver it."""

    id: int
    number: str | None = None
    status: str | None = None
    currency: str = Field(min_length=3, max_length=3)
    payment_method: str | None = None
    date_paid: str | None = None
    date_paid_gmt: str | None = None
    billing: WooAddress = WooAddress()
    shipping: WooAddress = WooAddress()
    line_items: list[WooLineItem] = Field(min_length=1)


def signature_valid(body: bytes, header: str | None, secrets: list[str]) -> bool:
    """X-WC-Webhook-Signature is base64 HMAC-SHA256 of the raw body with the webhook's secret."""
    return any_matches(header, [base64_signature(secret, body) for secret in secrets])


def is_ping(body: bytes, content_type: str | None) -> bool:
    """The request WooCommerce sends once when a webhook is saved: `webhook_id=<n>`, unsigned."""
    return body.startswith(b"webhook_id=") and "json" not in (content_type or "")


def parse(payload: Any) -> WooOrder:
    """The order, or MalformedPayloadError saying what is wrong with it."""
    try:
        return WooOrder.model_validate(payload)
    except ValidationError as error:
        raise MalformedPayloadError(describe(error)) from None


def cancellation(payload: dict[str, Any]) -> tuple[str, str] | None:
    """(order id, reason) when the order's status is cancelled at the store, else None."""
    order = parse(payload)
    if (order.status or "").lower() != "cancelled":
        return None
    return str(order.id), "cancelled in WooCommerce"


def translate(connection: Connection, payload: dict[str, Any]) -> Translation:
    """The canonical order of a WooCommerce order, or a hold saying what is missing."""
    order = parse(payload)
    ship = order.shipping if order.shipping.address_1 else None
    lines = [
        ChannelLine(
            channel_sku=item.sku or None,
            quantity=item.quantity,
            unit_price=decimal(item.total, f"line_items.{i}.total") / item.quantity,
            title=item.name,
            refs={"line_id": item.id, "product_id": item.product_id},
            line_id=str(item.id),
        )
        for i, item in enumerate(order.line_items)
    ]
    return finish(
        connection,
        str(order.id),
        payload,
        customer={
            "name": text(order.billing.first_name, order.billing.last_name)
            or (ship and text(ship.first_name, ship.last_name)),
            "email": order.billing.email,
        },
        shipping_address=_address(ship) if ship is not None else None,
        lines=lines,
        currency=order.currency.upper(),
        refs={"order_number": order.number},
        payment_state=payment_state(order),
    )


def payment_state(order: WooOrder) -> PaymentState:
    """What the order's status, payment method and date paid say of its payment."""
    if order.status is None:
        return ASSUMED  # a payload without a status says nothing: taken as before, paid
    status = order.status.lower()
    if status in SETTLED:
        return SETTLED[status]
    if order.payment_method == COD:
        # WooCommerce moves a COD order to processing (and stamps date_paid) at checkout,
        # though no money has come yet: the carrier collects it.
        return PaymentState.CASH_ON_DELIVERY
    if status in PAID_STATUSES or order.date_paid or order.date_paid_gmt:
        return PaymentState.PAID
    # pending (awaiting payment), on-hold (awaiting confirmation, e.g. a bank transfer), and
    # anything unknown: nothing that may ship.
    return PaymentState.PENDING


def _address(address: WooAddress) -> dict[str, Any]:
    return {
        "name": text(address.first_name, address.last_name) or address.company,
        "line1": address.address_1,
        "line2": address.address_2,
        "city": address.city,
        "postal_code": address.postcode,
        "country": address.country,
    }
