"""WooCommerce's order JSON (order.created webhook, REST v3 shape) -> canonical order; pure."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Any

from pydantic import Field, ValidationError

from services.channel_gateway.application import Translation, minor_units
from services.channel_gateway.channels.base import (
    Amounts,
    ChannelLine,
    ChannelPayload,
    ChannelShippingLine,
    Connection,
    MalformedPayloadError,
    OrderFacts,
    decimal,
    describe,
    finish,
    subdivision,
    text,
)
from shared.payments import ASSUMED, PaymentState
from shared.signing import any_matches, base64_signature

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
    phone: str | None = None  # on the shipping block since WooCommerce 5.6


class WooTax(ChannelPayload):
    """A line's (or shipping line's) share of one tax rate: `id` is the rate's id."""

    id: int | None = None
    total: str | float | None = None


class WooLineItem(ChannelPayload):
    """A line item. WooCommerce keeps line amounts without tax, whatever prices_include_tax says:
    `subtotal` before discounts, `total` after them, each with its own tax (`*_tax`)."""

    id: int
    name: str | None = None
    product_id: int | None = None
    variation_id: int | None = None
    sku: str | None = None
    quantity: int = Field(gt=0)
    subtotal: str | None = None
    subtotal_tax: str | None = None
    total: str
    total_tax: str | None = None
    taxes: list[WooTax] = Field(default_factory=list)
    price: Decimal | float | None = None


class WooTaxLine(ChannelPayload):
    """A tax rate of the order, with its name and percentage."""

    rate_id: int | None = None
    label: str | None = None
    rate_percent: float | int | str | None = None


class WooShippingLine(ChannelPayload):
    """A shipping line: its total and tax (without tax, as every WooCommerce amount)."""

    method_title: str | None = None
    total: str
    total_tax: str | None = None
    taxes: list[WooTax] = Field(default_factory=list)


class WooFeeLine(ChannelPayload):
    """A fee (a payment surcharge, say): the OMS keeps none, so an order with one is held."""

    name: str | None = None
    total: str
    total_tax: str | None = None


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
    customer_note: str | None = None
    prices_include_tax: bool = False
    discount_total: str | None = None
    discount_tax: str | None = None
    shipping_total: str | None = None
    shipping_tax: str | None = None
    total: str | None = None
    total_tax: str | None = None
    tax_lines: list[WooTaxLine] = Field(default_factory=list)
    shipping_lines: list[WooShippingLine] = Field(default_factory=list)
    fee_lines: list[WooFeeLine] = Field(default_factory=list)


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


def current_quantities(payload: dict[str, Any]) -> dict[str, int]:
    """Each line item's units now (by its id); a line the store removed is not listed."""
    return {str(item.id): item.quantity for item in parse(payload).line_items}


def translate(connection: Connection, payload: dict[str, Any]) -> Translation:
    """The canonical order of a WooCommerce order, or a hold saying what is missing."""
    order = parse(payload)
    ship = order.shipping if order.shipping.address_1 else None
    currency = order.currency.upper()
    rates = {t.rate_id: t for t in order.tax_lines if t.rate_id is not None}
    gross = order.prices_include_tax
    lines, rounded = [], False
    for index, item in enumerate(order.line_items):
        line = _line(item, index, gross, rates, currency)
        rounded = rounded or line.unit_price * line.quantity != _base(item, index, gross)
        lines.append(line)
    buyer: dict[str, Any] = {
        "name": text(order.billing.first_name, order.billing.last_name)
        or (ship and text(ship.first_name, ship.last_name)),
        "email": order.billing.email,
    }
    if order.billing.phone:
        buyer["phone"] = order.billing.phone
    translation = finish(
        connection,
        str(order.id),
        payload,
        customer=buyer,
        shipping_address=_address(ship) if ship is not None else None,
        lines=lines,
        currency=currency,
        refs={"order_number": order.number},
        amounts=Amounts(taxes_included=gross),
        payment_state=payment_state(order),
        facts=OrderFacts(
            number=order.number,
            billing_address=_address(order.billing) if order.billing.address_1 else None,
            note=order.customer_note,
            shipping_lines=[
                _shipping_line(s, i, gross, rates) for i, s in enumerate(order.shipping_lines)
            ],
            totals=_totals(order, gross, rounded),
        ),
    )
    fees = [f for f in order.fee_lines if decimal(f.total, "fee_lines.total") != 0]
    if fees:
        names = ", ".join(f"{f.name or 'fee'} {f.total}" for f in fees)
        translation.reasons.append(f"fee lines the OMS does not keep: {names} {currency}")
        translation.order = None
    return translation


def _amount(value: str | float | None, what: str) -> Decimal:
    return Decimal(0) if value is None or value == "" else decimal(value, what)


def _base(item: WooLineItem, index: int, gross: bool) -> Decimal:
    """The line before discounts: its subtotal (with its tax when prices include tax)."""
    where = f"line_items.{index}"
    if item.subtotal is None:  # hand-made payloads: what was paid is all we know
        return _after(item, index, gross)
    tax = _amount(item.subtotal_tax, f"{where}.subtotal_tax") if gross else Decimal(0)
    return max(decimal(item.subtotal, f"{where}.subtotal") + tax, _after(item, index, gross))


def _after(item: WooLineItem, index: int, gross: bool) -> Decimal:
    """The line after discounts: its total (with its tax when prices include tax)."""
    where = f"line_items.{index}"
    tax = _amount(item.total_tax, f"{where}.total_tax") if gross else Decimal(0)
    return decimal(item.total, f"{where}.total") + tax


def _line(
    item: WooLineItem, index: int, gross: bool, rates: dict[int, WooTaxLine], currency: str
) -> ChannelLine:
    """A line item in our terms: the unit price before discounts (rounded up to the currency's
    minor unit where the subtotal does not divide, so the discount, which takes up the rest, is
    never negative), the discount, and the taxes (always what the line's tax came to)."""
    step = Decimal(1).scaleb(-minor_units(currency))
    unit = (_base(item, index, gross) / item.quantity).quantize(step, rounding=ROUND_CEILING)
    return ChannelLine(
        channel_sku=item.sku or None,
        quantity=item.quantity,
        unit_price=unit,
        title=item.name,
        refs={"line_id": item.id, "product_id": item.product_id},
        line_id=str(item.id),
        discount=unit * item.quantity - _after(item, index, gross),
        taxes=_taxes(item.taxes, item.total_tax, rates, f"line_items.{index}"),
    )


def _taxes(
    taxes: list[WooTax], total: str | None, rates: dict[int, WooTaxLine], where: str
) -> list[tuple[str, Decimal, Decimal]]:
    """(title, rate, amount) per tax rate; the whole tax as one when the rates are not given."""
    out = []
    for tax in taxes:
        amount = _amount(tax.total, f"{where}.taxes.total")
        if amount:
            rate = rates.get(tax.id) if tax.id is not None else None
            percent = _amount(rate.rate_percent, "tax_lines.rate_percent") if rate else Decimal(0)
            out.append(((rate.label if rate else None) or "Tax", percent / 100, amount))
    whole = _amount(total, f"{where}.total_tax")
    if not out and whole:
        out.append(("Tax", Decimal(0), whole))
    return out


def _shipping_line(
    line: WooShippingLine, index: int, gross: bool, rates: dict[int, WooTaxLine]
) -> ChannelShippingLine:
    where = f"shipping_lines.{index}"
    tax = _amount(line.total_tax, f"{where}.total_tax")
    return ChannelShippingLine(
        title=line.method_title or "Shipping",
        price=decimal(line.total, f"{where}.total") + (tax if gross else Decimal(0)),
        taxes=_taxes(line.taxes, line.total_tax, rates, where),
    )


def _totals(order: WooOrder, gross: bool, rounded: bool) -> dict[str, Decimal]:
    """What WooCommerce says the order came to, with taxes where prices include them. Its
    discount is not compared when a unit price had to be rounded (the rounding is in the
    lines' discounts)."""
    totals: dict[str, Decimal] = {}
    if order.discount_total is not None and not rounded:
        tax = _amount(order.discount_tax, "discount_tax") if gross else Decimal(0)
        totals["discounts"] = decimal(order.discount_total, "discount_total") + tax
    if order.total_tax is not None:
        totals["tax"] = decimal(order.total_tax, "total_tax")
    if order.shipping_total is not None:
        tax = _amount(order.shipping_tax, "shipping_tax") if gross else Decimal(0)
        totals["shipping"] = decimal(order.shipping_total, "shipping_total") + tax
    if order.total is not None:
        totals["paid"] = decimal(order.total, "total")
    return totals


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
    country = (address.country or "").strip().upper() or None
    state = (address.state or "").strip() or None
    return {
        "name": text(address.first_name, address.last_name) or address.company,
        "line1": address.address_1,
        "line2": address.address_2,
        "city": address.city,
        "postal_code": address.postcode,
        "country": address.country,
        "company": address.company,
        "phone": address.phone,
        "state": state,  # WooCommerce names a state by its code (CA, or BE in Germany)
        "state_code": subdivision(country, state),
    }
