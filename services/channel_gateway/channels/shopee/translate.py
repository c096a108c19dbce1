"""Shopee v2 push messages and get_order_detail -> canonical order; request signing; pure."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, ValidationError

from services.channel_gateway.application import Translation
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
)
from shared import money
from shared.payments import PaymentState
from shared.signing import any_matches, hex_signature

ORDER_STATUS_PUSH = 3  # push code of order status updates
PLACEABLE = "READY_TO_SHIP"  # paid, address known: the order can be fulfilled
DETAIL_FIELDS = "buyer_user_id,buyer_username,recipient_address,item_list,total_amount"
CANCELLED = "CANCELLED"
IN_CANCEL = "IN_CANCEL"  # the buyer asked to cancel: the seller accepts or refuses
BUYER_ASKED = "the buyer asked Shopee to cancel"
# Statuses an order reaches only once the buyer paid; IN_CANCEL is a cancellation asked for,
# not granted, and TO_RETURN a return of a paid order: the payment still stands.
PAID_STATUSES = frozenset(
    {
        "READY_TO_SHIP",
        "PROCESSED",
        "RETRY_SHIP",
        "SHIPPED",
        "TO_CONFIRM_RECEIVE",
        "COMPLETED",
        "IN_CANCEL",
        "TO_RETURN",
    }
)


class PushData(ChannelPayload):
    """The data of an order status push."""

    ordersn: str = Field(min_length=1)
    status: str
    update_time: int | None = None


class PushMessage(ChannelPayload):
    """A push notification: which shop, which kind (code), and its data."""

    shop_id: int
    code: int
    timestamp: int | None = None
    data: dict[str, Any]


class RecipientAddress(ChannelPayload):
    """Where the order goes; region is the ISO country code."""

    name: str | None = None
    phone: str | None = None
    town: str | None = None
    district: str | None = None
    city: str | None = None
    state: str | None = None
    region: str | None = None
    zipcode: str | None = None
    full_address: str | None = None


class Item(ChannelPayload):
    """An item (model) of the order; prices are numbers in the order's currency."""

    item_id: int
    item_name: str | None = None
    item_sku: str | None = None
    model_id: int | None = None
    model_sku: str | None = None
    model_quantity_purchased: int = Field(gt=0)
    model_discounted_price: float | int | str
    order_item_id: int | None = None


class ShopeeOrder(ChannelPayload):
    """One order of get_order_detail's order_list."""

    order_sn: str
    currency: str = Field(min_length=3, max_length=3)
    order_status: str
    cod: bool | None = None  # a basic field of get_order_detail: the buyer pays the carrier
    buyer_user_id: int | None = None
    buyer_username: str | None = None
    recipient_address: RecipientAddress | None = None
    item_list: list[Item] = Field(min_length=1)
    message_to_seller: str | None = None  # the buyer's note (a basic field)
    # What the buyer paid: items, the shipping the buyer bore, less Shopee's vouchers and coins
    # (returned once the buyer has paid).
    total_amount: float | int | str | None = None


def push_signature_valid(url: str, body: bytes, header: str | None, partner_key: str) -> bool:
    """The Authorization header is hex HMAC-SHA256 of `<callback url>|<raw body>`."""
    return any_matches(header, [hex_signature(partner_key, url.encode() + b"|" + body)])


def request_reference(data: PushData) -> str:
    """Our id of a buyer's cancellation request: the push's status and its time, so Shopee's
    retries of one push are one request and a later request is another."""
    return f"{IN_CANCEL}:{data.update_time}" if data.update_time else IN_CANCEL


def sign(
    partner_key: str, partner_id: int, path: str, timestamp: int, token: str, shop: int
) -> str:
    """The `sign` of a shop-level API call: HMAC over partner id, path, time, token, shop id."""
    return hex_signature(partner_key, f"{partner_id}{path}{timestamp}{token}{shop}".encode())


def parse_push(payload: Any) -> tuple[PushMessage, PushData | None]:
    """The push and, for order status pushes, its order data; MalformedPayloadError if neither."""
    try:
        message = PushMessage.model_validate(payload)
        data = PushData.model_validate(message.data) if message.code == ORDER_STATUS_PUSH else None
    except ValidationError as error:
        raise MalformedPayloadError(describe(error)) from None
    return message, data


def parse_detail(payload: Any) -> ShopeeOrder:
    """The one order of a get_order_detail response, or MalformedPayloadError."""
    if not isinstance(payload, dict):
        raise MalformedPayloadError("get_order_detail: not an object")
    if payload.get("error"):
        raise MalformedPayloadError(
            f"get_order_detail: {payload['error']} {payload.get('message')}"
        )
    orders = (payload.get("response") or {}).get("order_list") or []
    if len(orders) != 1:
        raise MalformedPayloadError(f"get_order_detail: expected one order, got {len(orders)}")
    try:
        return ShopeeOrder.model_validate(orders[0])
    except ValidationError as error:
        raise MalformedPayloadError(f"get_order_detail: {describe(error)}") from None


def translate(connection: Connection, payload: dict[str, Any]) -> Translation:
    """The canonical order of a Shopee order, or a hold saying what is missing."""
    order = parse_detail(payload)
    address = order.recipient_address
    lines = [
        ChannelLine(
            channel_sku=item.model_sku or item.item_sku or None,
            quantity=item.model_quantity_purchased,
            unit_price=decimal(
                item.model_discounted_price, f"item_list.{i}.model_discounted_price"
            ),
            title=item.item_name,
            refs={"item_id": item.item_id, "model_id": item.model_id},
        )
        for i, item in enumerate(order.item_list)
    ]
    currency = order.currency.upper()
    shipping, discount, paid = _money(order, lines, currency)
    translation = finish(
        connection,
        order.order_sn,
        payload,
        # Shopee never shares the buyer's e-mail: a recognisable placeholder stands in.
        customer={
            "name": (address.name if address else None) or order.buyer_username,
            "email": f"{order.buyer_user_id or order.order_sn}@buyer.shopee",
        },
        shipping_address=_address(address) if address is not None else None,
        lines=lines,
        currency=currency,
        refs={"buyer_username": order.buyer_username},
        amounts=Amounts(taxes_included=None, discount=discount) if discount else None,
        payment_state=payment_state(order),
        facts=OrderFacts(
            number=order.order_sn,
            note=order.message_to_seller,
            shipping_lines=shipping,
            totals={} if paid is None else {"paid": paid},
        ),
    )
    if order.order_status != PLACEABLE:
        translation.reasons.append(f"Shopee order status is {order.order_status}")
        translation.order = None
    return translation


def _money(
    order: ShopeeOrder, lines: list[ChannelLine], currency: str
) -> tuple[list[ChannelShippingLine], Decimal, Decimal | None]:
    """Shipping line, order discount and what was paid, from `total_amount`.

    get_order_detail does not say what the buyer paid for shipping, nor how much Shopee's
    vouchers and coins took off (get_escrow_detail does); its estimated and actual shipping fees
    are what the courier charges, not the buyer. So what the buyer paid above the items is one
    shipping line, and what is below them a discount spread over the lines: the order adds up to
    what the buyer paid.
    """
    if order.total_amount is None or currency not in money.MINOR_UNITS:
        return [], Decimal(0), None
    paid = money.money(decimal(order.total_amount, "total_amount"), currency)
    items = sum((money.money(x.unit_price * x.quantity, currency) for x in lines), Decimal(0))
    if paid >= items:
        extra = paid - items
        shipping = [ChannelShippingLine("Shipping (Shopee)", extra)] if extra else []
        return shipping, Decimal(0), paid
    return [], items - paid, paid


def payment_state(order: ShopeeOrder) -> PaymentState:
    """What the order's status and its cod flag say of its payment."""
    status = order.order_status.upper()
    if status == CANCELLED:
        return PaymentState.VOIDED
    if order.cod:
        return PaymentState.CASH_ON_DELIVERY  # nothing is paid before delivery: nothing to await
    if status in PAID_STATUSES:
        return PaymentState.PAID
    return PaymentState.PENDING  # UNPAID, or a status we do not know: nothing that may ship


def _address(address: RecipientAddress) -> dict[str, Any]:
    street = address.full_address
    return {
        "name": address.name,
        "line1": street,
        "line2": ", ".join(p for p in (address.district, address.town) if p) or None,
        "city": address.city or address.state,
        "postal_code": address.zipcode,
        "country": address.region,
        "phone": address.phone,
        "state": address.state,
    }
