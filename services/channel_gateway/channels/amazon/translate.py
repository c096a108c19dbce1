"""Amazon SP-API Orders v2026-01-01 (searchOrders / getOrder) -> canonical order; pure."""

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
    OrderFacts,
    decimal,
    describe,
    finish,
    subdivision,
    text,
)
from shared.payments import ASSUMED, PaymentState

ZERO = Decimal(0)

# fulfillment.fulfillmentStatus (includedData=FULFILLMENT). Amazon: PENDING orders are not ready
# for shipment (payment not yet authorised); CANCELLED ones will not be fulfilled.
FULFILLMENT_STATUS: dict[str, PaymentState] = {
    "PENDING_AVAILABILITY": PaymentState.PENDING,
    "PENDING": PaymentState.PENDING,
    "UNSHIPPED": PaymentState.PAID,
    "PARTIALLY_SHIPPED": PaymentState.PAID,
    "SHIPPED": PaymentState.PAID,
    "CANCELLED": PaymentState.VOIDED,
}
CANCELLED = "CANCELLED"
# payment.paymentExecutions[].paymentMethod (includedData=PAYMENT); "COD" is the v0 spelling.
COD_METHODS = frozenset({"CashOnDelivery", "COD"})


class Money(ChannelPayload):
    """An amount as a decimal string with its currency."""

    amount: str
    currencyCode: str = Field(min_length=3, max_length=3)


class ItemPrice(ChannelPayload):
    """Price of an order item."""

    unitPrice: Money


class ItemProduct(ChannelPayload):
    """What was bought."""

    asin: str | None = None
    title: str | None = None
    sellerSku: str | None = None
    price: ItemPrice | None = None


class OrderItem(ChannelPayload):
    """An order item (getOrder always includes items)."""

    orderItemId: str
    quantityOrdered: int = Field(gt=0)
    product: ItemProduct


class CustomerAddress(ChannelPayload):
    """The recipient's delivery address (includedData=RECIPIENT)."""

    name: str | None = None
    companyName: str | None = None
    addressLine1: str | None = None
    addressLine2: str | None = None
    addressLine3: str | None = None
    city: str | None = None
    stateOrRegion: str | None = None
    postalCode: str | None = None
    countryCode: str | None = None


class Recipient(ChannelPayload):
    """Who receives the order."""

    deliveryAddress: CustomerAddress | None = None


class Buyer(ChannelPayload):
    """Who bought (includedData=BUYER); the e-mail is Amazon's anonymised relay address."""

    buyerName: str | None = None
    buyerEmail: str | None = None


class OrderFulfillment(ChannelPayload):
    """How far the order is in fulfilment (includedData=FULFILLMENT)."""

    fulfillmentStatus: str | None = None


class PaymentExecution(ChannelPayload):
    """One payment of the order."""

    paymentMethod: str | None = None


class OrderPayment(ChannelPayload):
    """How the order is paid (includedData=PAYMENT)."""

    paymentExecutions: list[PaymentExecution] = Field(default_factory=list)


class SalesChannel(ChannelPayload):
    """Where the order was placed."""

    channelName: str
    marketplaceId: str | None = None


class AmazonOrder(ChannelPayload):
    """An order of the Orders API v2026-01-01."""

    orderId: str
    createdTime: str
    lastUpdatedTime: str
    salesChannel: SalesChannel
    buyer: Buyer | None = None
    recipient: Recipient | None = None
    fulfillment: OrderFulfillment | None = None
    payment: OrderPayment | None = None
    orderItems: list[OrderItem] = Field(min_length=1)


class SummaryOrder(ChannelPayload):
    """What the poller needs of a searchOrders result: the id, when it last changed, and
    whether Amazon cancelled it (includedData=FULFILLMENT)."""

    orderId: str
    lastUpdatedTime: str
    fulfillment: OrderFulfillment | None = None

    @property
    def cancelled(self) -> bool:
        """Amazon cancelled the order (the buyer, or Amazon itself)."""
        status = (self.fulfillment.fulfillmentStatus if self.fulfillment else None) or ""
        return status.upper() == CANCELLED


class Pagination(ChannelPayload):
    """Where the next page starts."""

    nextToken: str | None = None


class SearchOrdersResponse(ChannelPayload):
    """A page of searchOrders."""

    orders: list[SummaryOrder]
    pagination: Pagination | None = None


def parse_search(payload: Any) -> SearchOrdersResponse:
    """A searchOrders page, or MalformedPayloadError."""
    try:
        return SearchOrdersResponse.model_validate(payload)
    except ValidationError as error:
        raise MalformedPayloadError(describe(error)) from None


def parse(payload: Any) -> AmazonOrder:
    """The order of a getOrder response ({"order": ...}), or MalformedPayloadError."""
    try:
        return AmazonOrder.model_validate((payload or {}).get("order"))
    except (ValidationError, AttributeError) as error:
        detail = describe(error) if isinstance(error, ValidationError) else "not an object"
        raise MalformedPayloadError(f"getOrder response: {detail}") from None


def translate(connection: Connection, payload: dict[str, Any]) -> Translation:
    """The canonical order of an Amazon order, or a hold saying what is missing."""
    order = parse(payload)
    address = order.recipient.deliveryAddress if order.recipient else None
    buyer = order.buyer or Buyer()
    lines: list[ChannelLine] = []
    currencies: set[str] = set()
    unpriced = []
    for index, item in enumerate(order.orderItems):
        price = item.product.price.unitPrice if item.product.price else None
        if price is None:
            unpriced.append(item.orderItemId)
        else:
            currencies.add(price.currencyCode.upper())
        lines.append(
            ChannelLine(
                channel_sku=item.product.sellerSku,
                quantity=item.quantityOrdered,
                unit_price=decimal(price.amount, f"orderItems.{index}.price") if price else ZERO,
                title=item.product.title,
                refs={"order_item_id": item.orderItemId, "asin": item.product.asin},
                line_id=item.orderItemId,
            )
        )
    translation = finish(
        connection,
        order.orderId,
        payload,
        customer={
            "name": buyer.buyerName or (address.name if address else None),
            "email": buyer.buyerEmail,
        },
        shipping_address=_address(address) if address is not None else None,
        lines=lines,
        currency=currencies.pop() if len(currencies) == 1 else None,
        refs={"marketplace_id": order.salesChannel.marketplaceId},
        payment_state=payment_state(order),
        # The order id is the number the buyer sees (302-1234567-1234567). The API has no
        # note, and the bill stays with Amazon: the totals are the lines'.
        facts=OrderFacts(number=order.orderId),
    )
    if unpriced:
        translation.reasons.append(f"order items without a price: {', '.join(unpriced)}")
        translation.order = None
    return translation


def payment_state(order: AmazonOrder) -> PaymentState:
    """What the order's fulfilment status and payment method say of its payment."""
    status = order.fulfillment.fulfillmentStatus if order.fulfillment else None
    if status is None:
        # Without includedData=FULFILLMENT there is none; the poller asks only for UNSHIPPED.
        state = ASSUMED
    else:
        state = FULFILLMENT_STATUS.get(status.upper(), PaymentState.PENDING)
    if state is PaymentState.PAID and _cash_on_delivery(order):
        return PaymentState.CASH_ON_DELIVERY  # a PENDING or CANCELLED order stays so, COD or not
    return state


def _cash_on_delivery(order: AmazonOrder) -> bool:
    executions = order.payment.paymentExecutions if order.payment else []
    return any(e.paymentMethod in COD_METHODS for e in executions)


def _address(address: CustomerAddress) -> dict[str, Any]:
    country = (address.countryCode or "").strip().upper() or None
    state = (address.stateOrRegion or "").strip() or None
    return {
        "name": address.name,
        "line1": address.addressLine1,
        "line2": text(address.addressLine2, address.addressLine3),
        "city": address.city,
        "postal_code": address.postalCode,
        "country": address.countryCode,
        "company": address.companyName,
        "state": state,
        # A US or Canadian state comes as its code (KY); elsewhere a name (Bayern): no code then.
        "state_code": subdivision(country, state) if country in ("US", "CA") else None,
    }
