"""Shopify's REST-shaped order JSON (orders/create webhook) -> canonical order; pure."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, ValidationError

from services.channel_gateway.application import ChannelRefund, Translation
from services.channel_gateway.channels.base import (
    Amounts,
    ChannelLine,
    ChannelPayload,
    ChannelShippingLine,
    Connection,
    MalformedPayloadError,
    OrderFacts,
    describe,
    finish,
    subdivision,
    text,
)
from shared.payments import ASSUMED, PaymentState
from shared.signing import any_matches, base64_signature

ORDER_CREATED = "orders/create"
REFUND_CREATED = "refunds/create"
# How our own refunds name themselves at Shopify (transport.py's refundCreate note).
OUR_REFUND = re.compile(r"^OMS refund ([0-9a-fA-F-]{36})\b")

# The order's `financial_status` (REST Order resource); `expired` is an authorisation that was
# never captured (Admin GraphQL's OrderDisplayFinancialStatus): no money will come, as voided.
FINANCIAL_STATUS: dict[str, PaymentState] = {
    "pending": PaymentState.PENDING,
    "authorized": PaymentState.AUTHORIZED,
    "partially_paid": PaymentState.PARTIALLY_PAID,
    "paid": PaymentState.PAID,
    "partially_refunded": PaymentState.PARTIALLY_REFUNDED,
    "refunded": PaymentState.REFUNDED,
    "voided": PaymentState.VOIDED,
    "expired": PaymentState.VOIDED,
}
# Shopify's own cash on delivery method, and the Advanced Cash on Delivery app's gateway.
COD_GATEWAYS = frozenset({"cash on delivery (cod)", "cash_on_delivery"})


class ShopifyAddress(ChannelPayload):
    """A Shopify mailing address."""

    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    zip: str | None = None
    province: str | None = None
    province_code: str | None = None
    country_code: str | None = None
    phone: str | None = None


class ShopifyCustomer(ChannelPayload):
    """The customer block of an order."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None


Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class ShopifyAllocation(ChannelPayload):
    """A discount's share on a line item or shipping line (shop currency)."""

    amount: Amount


class ShopifyTaxLine(ChannelPayload):
    """A tax on a line item or shipping line: `price` is its amount, `rate` 0.06 for 6 %."""

    title: str = "Tax"
    price: Amount
    rate: Amount = Decimal(0)


class ShopifyLineItem(ChannelPayload):
    """A line item: quantity as an integer, price as a decimal string."""

    id: int
    sku: str | None = None
    title: str | None = None
    variant_title: str | None = None
    variant_id: int | None = None
    quantity: int = Field(gt=0)
    # The quantity after removals in order edits (Admin REST 2024-01 on); absent on older bodies.
    current_quantity: int | None = Field(None, ge=0)
    price: Amount
    discount_allocations: list[ShopifyAllocation] = Field(default_factory=list)
    tax_lines: list[ShopifyTaxLine] = Field(default_factory=list)


class ShopifyShippingLine(ChannelPayload):
    """A shipping line: its price, the discounts on it and its taxes."""

    title: str | None = None
    price: Amount
    discount_allocations: list[ShopifyAllocation] = Field(default_factory=list)
    tax_lines: list[ShopifyTaxLine] = Field(default_factory=list)


class ShopifyMoney(ChannelPayload):
    """An amount in one currency of a `*_set` field."""

    amount: Amount


class ShopifyMoneySet(ChannelPayload):
    """An amount in the shop's currency (and the buyer's, which we do not read)."""

    shop_money: ShopifyMoney


class ShopifyOrder(ChannelPayload):
    """The order resource as the orders/create webhook delivers it.

    The `total_*` fields are the order as it was placed, as its `line_items` are; the
    `current_*` ones change with later edits and refunds and are not read (an order is taken in
    as it was placed).
    """

    id: int
    name: str | None = None
    admin_graphql_api_id: str | None = None
    email: str | None = None
    contact_email: str | None = None
    currency: str = Field(min_length=3, max_length=3)
    customer: ShopifyCustomer | None = None
    shipping_address: ShopifyAddress | None = None
    billing_address: ShopifyAddress | None = None
    line_items: list[ShopifyLineItem] = Field(min_length=1)
    phone: str | None = None
    note: str | None = None
    taxes_included: bool = False
    total_discounts: Amount = Decimal(0)
    total_line_items_price: Amount | None = None
    total_tax: Amount | None = None
    total_price: Amount | None = None
    total_shipping_price_set: ShopifyMoneySet | None = None
    shipping_lines: list[ShopifyShippingLine] = Field(default_factory=list)
    financial_status: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None
    payment_gateway_names: list[str] = Field(default_factory=list)
    gateway: str | None = None  # deprecated by Shopify for payment_gateway_names; still sent


class ShopifyRefundLineItem(ChannelPayload):
    """A refunded line item: units of the order's line and the money for them."""

    line_item_id: int
    quantity: int = Field(ge=0)
    subtotal: Amount = Decimal(0)
    total_tax: Amount = Decimal(0)


class ShopifyTransaction(ChannelPayload):
    """A transaction of a refund (kind `refund` is money back)."""

    kind: str
    status: str | None = None
    amount: Amount
    currency: str | None = Field(None, min_length=3, max_length=3)


class ShopifyRefund(ChannelPayload):
    """The refund resource as the refunds/create webhook delivers it."""

    id: int
    order_id: int
    note: str | None = None
    created_at: str | None = None
    refund_line_items: list[ShopifyRefundLineItem] = Field(default_factory=list)
    transactions: list[ShopifyTransaction] = Field(default_factory=list)


def refund(connection: Connection, payload: Any, received_at: str) -> ChannelRefund:
    """A refunds/create body as a channel refund; MalformedPayloadError when it is not one.

    The money is what its successful `refund` transactions paid back; per line, its subtotal
    (taxes are in it when the order's prices include them; otherwise they, like shipping, count
    as money of the order). A refund whose note names one of ours (OMS refund <id>) is ours,
    told back.
    """
    try:
        body = ShopifyRefund.model_validate(payload)
    except ValidationError as error:
        raise MalformedPayloadError(describe(error)) from None
    paid = [t for t in body.transactions if t.kind == "refund" and t.status in (None, "success")]
    ours = OUR_REFUND.match(body.note or "")
    currencies = {t.currency.upper() for t in paid if t.currency}
    return ChannelRefund(
        channel=connection.channel_id,
        external_id=str(body.order_id),
        refund_id=str(body.id),
        amount=sum((t.amount for t in paid), Decimal(0)),
        currency=currencies.pop() if len(currencies) == 1 else None,
        refunded_at=body.created_at or received_at,
        lines=[
            (str(item.line_item_id), item.quantity, item.subtotal)
            for item in body.refund_line_items
        ],
        note=(body.note or "").strip()[:500] or None,
        ours=ours.group(1).lower() if ours else None,
    )


def signature_valid(body: bytes, header: str | None, secrets: list[str]) -> bool:
    """X-Shopify-Hmac-Sha256 is base64 HMAC-SHA256 of the raw body with the app's secret."""
    return any_matches(header, [base64_signature(secret, body) for secret in secrets])


def parse(payload: Any) -> ShopifyOrder:
    """The order, or MalformedPayloadError saying what is wrong with it."""
    try:
        return ShopifyOrder.model_validate(payload)
    except ValidationError as error:
        raise MalformedPayloadError(describe(error)) from None


def cancellation(payload: dict[str, Any]) -> tuple[str, str] | None:
    """(order id, reason) when the order was cancelled at Shopify (`cancelled_at` set), else None.

    Shopify's reasons: customer, fraud, inventory, declined, staff, other.
    """
    order = parse(payload)
    if order.cancelled_at is None:
        return None
    return str(order.id), order.cancel_reason or "other"


def current_quantities(payload: dict[str, Any]) -> dict[str, int]:
    """Each line item's units now (by its id): what an order edit at Shopify left of it."""
    return {
        str(item.id): item.quantity if item.current_quantity is None else item.current_quantity
        for item in parse(payload).line_items
    }


def translate(connection: Connection, payload: dict[str, Any]) -> Translation:
    """The canonical order of a Shopify order, or a hold saying what is missing."""
    order = parse(payload)
    ship = order.shipping_address
    customer = order.customer or ShopifyCustomer()
    email = order.email or order.contact_email or customer.email
    name = text(customer.first_name, customer.last_name) or (ship and _name(ship))
    lines = [
        ChannelLine(
            channel_sku=item.sku or None,
            quantity=item.quantity,
            unit_price=item.price,
            title=item.title,
            refs={"line_id": item.id, "variant_id": item.variant_id},
            line_id=str(item.id),
            variant_title=item.variant_title,
            discount=sum((a.amount for a in item.discount_allocations), Decimal(0)),
            taxes=[(t.title, t.rate, t.price) for t in item.tax_lines],
        )
        for item in order.line_items
    ]
    # Shopify allocates its discounts to lines and shipping lines; what total_discounts holds
    # beyond those allocations (older orders, hand-made payloads) is spread over the lines.
    shipping_discount = sum(
        (a.amount for s in order.shipping_lines for a in s.discount_allocations), Decimal(0)
    )
    allocated = sum((line.discount for line in lines), Decimal(0)) + shipping_discount
    buyer: dict[str, Any] = {"name": name, "email": email}
    if phone := order.phone or customer.phone or (ship and ship.phone):
        buyer["phone"] = phone
    return finish(
        connection,
        str(order.id),
        payload,
        customer=buyer,
        shipping_address=_address(ship) if ship is not None else None,
        lines=lines,
        currency=order.currency.upper(),
        amounts=Amounts(
            taxes_included=order.taxes_included,
            discount=max(order.total_discounts - allocated, Decimal(0)),
        ),
        refs={
            "order_gid": order.admin_graphql_api_id or f"gid://shopify/Order/{order.id}",
            "order_name": order.name,
        },
        payment_state=payment_state(order),
        facts=OrderFacts(
            number=order.name,
            billing_address=_address(order.billing_address) if order.billing_address else None,
            note=order.note,
            shipping_lines=[
                ChannelShippingLine(
                    title=s.title or "Shipping",
                    price=s.price,
                    discount=sum((a.amount for a in s.discount_allocations), Decimal(0)),
                    taxes=[(t.title, t.rate, t.price) for t in s.tax_lines],
                )
                for s in order.shipping_lines
            ],
            totals=_totals(order, shipping_discount),
        ),
    )


def _totals(order: ShopifyOrder, shipping_discount: Decimal) -> dict[str, Decimal]:
    """What Shopify says the order came to, in our terms: its discounts less those on shipping
    (ours counts shipping after its discount), its shipping price (before discounts) less them."""
    totals: dict[str, Decimal] = {}
    if order.total_line_items_price is not None:
        totals["items"] = order.total_line_items_price
    if "total_discounts" in order.model_fields_set and order.total_discounts >= shipping_discount:
        totals["discounts"] = order.total_discounts - shipping_discount
    if order.total_tax is not None:
        totals["tax"] = order.total_tax
    if order.total_shipping_price_set is not None:
        totals["shipping"] = order.total_shipping_price_set.shop_money.amount - shipping_discount
    if order.total_price is not None:
        totals["paid"] = order.total_price
    return totals


def payment_state(order: ShopifyOrder) -> PaymentState:
    """What Shopify says of the order's payment: its financial status, cash on delivery aside."""
    if order.financial_status is None:
        return ASSUMED  # Shopify always sends it; a payload without it is taken as before: paid
    state = FINANCIAL_STATUS.get(order.financial_status.lower(), PaymentState.PENDING)
    if state is PaymentState.PENDING and _cash_on_delivery(order):
        return PaymentState.CASH_ON_DELIVERY  # a COD order stays pending until the cash is in
    return state


def _cash_on_delivery(order: ShopifyOrder) -> bool:
    names = [*order.payment_gateway_names, *([order.gateway] if order.gateway else [])]
    return any(name.strip().lower() in COD_GATEWAYS for name in names)


def _name(address: ShopifyAddress) -> str | None:
    return address.name or text(address.first_name, address.last_name)


def _address(address: ShopifyAddress) -> dict[str, Any]:
    country = (address.country_code or "").strip().upper() or None
    province = (address.province_code or "").strip().upper() or None
    return {
        "name": _name(address),
        "line1": address.address1,
        "line2": address.address2,
        "city": address.city,
        "postal_code": address.zip,
        "country": country,
        "company": address.company,
        "phone": address.phone,
        "state": address.province or province,
        "state_code": subdivision(country, province),
    }
