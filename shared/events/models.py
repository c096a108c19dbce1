"""The integration events of every OMS context (v1 contracts)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import (
    Contract,
    CountryCode,
    CurrencyCode,
    DecimalString,
    IntegrationEvent,
    NonNegativeInt,
    PositiveInt,
    Sku,
    UtcTime,
)
from shared.payments import PaymentState

Text = Field(min_length=1, max_length=200)


# -- value objects -------------------------------------------------------------------------


class Customer(Contract):
    """Who ordered; no payment data, ever."""

    name: str = Text
    # The gateway validates addresses fully at the edge; on the wire a light check is enough
    # (a full RFC check on every decode cost ~10% of a consumer's CPU).
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    phone: str | None = Field(None, max_length=50)


class Address(Contract):
    """A postal address to ship to or from."""

    name: str = Text
    line1: str = Text
    line2: str | None = Field(None, max_length=200)
    city: str = Text
    postal_code: str = Field(min_length=1, max_length=20)
    country: CountryCode
    company: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=50)
    state: str | None = Field(None, max_length=100, description="as the channel named it")
    state_code: str | None = Field(
        None, pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$", description="ISO 3166-2, where known"
    )


class TaxLine(Contract):
    """One tax on a line or a shipping line: its name, rate (0.06 is 6 %) and amount."""

    title: str = Text
    rate: DecimalString = Field(ge=0)
    amount: DecimalString = Field(ge=0)


class OrderLine(Contract):
    """One line of the order as the channel sent it: a SKU, its quantity and unit price.

    Lines are never merged: two channel lines of one SKU stay two lines. Amounts are decimal
    strings in the currency's minor units (README, "The money of an order"); `discount` is what
    was allocated to the line (its own and its share of the order's), `paid` what the buyer paid
    for the line (quantity x unit price - discount, + taxes when prices exclude tax). Refunds are
    computed from `paid`. Older events lack the optional fields.
    """

    sku: Sku
    quantity: PositiveInt
    unit_price: DecimalString = Field(ge=0)
    line_id: str | None = Field(None, max_length=100, description="the channel's line id")
    title: str | None = Field(None, max_length=500)
    variant_title: str | None = Field(None, max_length=500)
    discount: DecimalString | None = Field(None, ge=0)
    taxes: list[TaxLine] | None = None
    paid: DecimalString | None = Field(None, ge=0)


class ShippingLine(Contract):
    """A shipping charge of the order: its price, discount and taxes."""

    title: str = Text
    price: DecimalString = Field(ge=0)
    discount: DecimalString = Field(Decimal(0), ge=0)
    taxes: list[TaxLine] = Field(default_factory=list)


class OrderTotals(Contract):
    """What the order came to, in minor units: items (before discounts), discounts, tax,
    shipping (after its discount) and the total paid."""

    items: DecimalString = Field(ge=0)
    discounts: DecimalString = Field(ge=0)
    tax: DecimalString = Field(ge=0)
    shipping: DecimalString = Field(ge=0)
    paid: DecimalString = Field(ge=0)


class ItemQuantity(Contract):
    """A quantity of one SKU."""

    sku: Sku
    quantity: PositiveInt


class Allocation(Contract):
    """Units of a SKU reserved for an order at one location."""

    sku: Sku
    location_id: str = Text
    quantity: PositiveInt


class Shortage(Contract):
    """Why a SKU could not be reserved: requested more than was available."""

    sku: Sku
    requested: PositiveInt
    available: NonNegativeInt


class ShipmentRef(Contract):
    """A shipment that left for an order, with its carrier and tracking number."""

    shipment_id: UUID
    location_id: str = Text
    carrier: str = Text
    tracking_number: str = Text
    lines: list[ItemQuantity] = Field(min_length=1)


class ReturnLine(Contract):
    """Units the customer asks to return, with a reason."""

    sku: Sku
    quantity: PositiveInt
    reason: str = Text


class ReceivedLine(Contract):
    """Units that came back, their condition and the location they came back to."""

    sku: Sku
    quantity: PositiveInt
    condition: str = Field(pattern=r"^(sellable|damaged)$")
    location_id: str = Text


class PackageRef(Contract):
    """A package of a shipment: its SSCC and the carrier's tracking number."""

    package_id: UUID
    sscc: str = Field(pattern=r"^[0-9]{18}$", description="SSCC-18 with its mod-10 check digit")
    tracking_number: str = Text
    weight_grams: PositiveInt | None = None


class PickedLine(Contract):
    """What a picker found for one SKU of a shipment: expected versus picked units."""

    sku: Sku
    bin: str | None = Field(None, max_length=32)
    expected: PositiveInt
    picked: NonNegativeInt


class RefundLine(Contract):
    """Money back for units of one SKU."""

    sku: Sku
    quantity: PositiveInt
    amount: DecimalString = Field(ge=0)


class ShortLine(Contract):
    """Units of an order line that did not ship (a short pick), and what was paid for them.

    `paid` is the line's `paid` minus the `paid` of the line as it shipped, so the two parts add
    up to exactly what was paid for the line (its unit price x quantity on older orders).
    """

    sku: Sku
    quantity: PositiveInt
    paid: DecimalString = Field(ge=0)


class CancelledUnits(Contract):
    """Units an edit took off one order line, and what had been paid for them."""

    line: PositiveInt = Field(description="the line number (1-based) before the edit")
    sku: Sku
    quantity: PositiveInt
    paid: DecimalString = Field(ge=0)


# -- channel gateway ---------------------------------------------------------------------


class ChannelOrderReceived(IntegrationEvent):
    """A channel's order, translated into the canonical order, ready to be placed."""

    topic = topics.CHANNEL
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    customer: Customer
    shipping_address: Address
    lines: list[OrderLine] = Field(min_length=1)
    currency: CurrencyCode
    received_at: UtcTime
    payment_state: PaymentState | None = Field(
        None, description="how far the buyer has paid; absent: paid (orders before payment states)"
    )
    # The order's own facts as the channel told them (absent on orders received before them).
    channel_order_number: str | None = Field(
        None, max_length=100, description="the channel's own number (Shopify #1001)"
    )
    billing_address: Address | None = None
    note: str | None = Field(None, max_length=5000, description="the customer's note")
    shipping_lines: list[ShippingLine] | None = None
    totals: OrderTotals | None = None
    taxes_included: bool | None = Field(
        None, description="unit prices, discounts and shipping include the taxes"
    )


class ChannelPaymentChanged(IntegrationEvent):
    """A channel said the payment of an order it sent before moved on (Shopify orders/paid)."""

    topic = topics.CHANNEL
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    payment_state: PaymentState
    reference: str | None = Field(
        None, max_length=255, description="the channel's id of the news (its webhook event id)"
    )
    changed_at: UtcTime


class ChannelOrderCancelled(IntegrationEvent):
    """The channel cancelled an order it sent before (Shopify orders/cancelled, a Woo order set to
    cancelled, a Shopee CANCELLED push): the OMS cancels it too if nothing of it is under way."""

    topic = topics.CHANNEL
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    reason: str = Text
    reference: str | None = Field(
        None, max_length=255, description="the channel's id of the news (its webhook event id)"
    )
    cancelled_at: UtcTime


class ChannelCancelRequested(IntegrationEvent):
    """The buyer asked the channel to cancel an order it sent before (a Shopee order IN_CANCEL):
    the seller must accept or refuse; the order service answers by its per-channel policy."""

    topic = topics.CHANNEL
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    reason: str = Text
    reference: str | None = Field(
        None, max_length=255, description="the channel's id of the request (status and its time)"
    )
    requested_at: UtcTime


# A channel's shipping document travels inside the event, base64: at most 512 KiB of document,
# well below a Kafka message's default 1 MB limit (an airway bill PDF is some 20-100 KiB).
CHANNEL_DOCUMENT_MAX_BYTES = 512 * 1024
CHANNEL_DOCUMENT_MAX_BASE64 = 4 * ((CHANNEL_DOCUMENT_MAX_BYTES + 2) // 3)


class ChannelShippingArranged(IntegrationEvent):
    """The channel's own logistics took a shipment (Shopee's ship_order with pickup or drop-off):
    its carrier, tracking number and the shipping document (airway bill) the warehouse prints."""

    topic = topics.CHANNEL
    order_id: UUID
    shipment_id: UUID
    channel: str = Text
    external_id: str = Text
    carrier: str = Field(
        min_length=1, max_length=200, description="the carrier as the channel names it"
    )
    tracking_number: str = Field(min_length=1, max_length=100)
    document_type: str = Field(
        min_length=1, max_length=100, description="the channel's kind, e.g. THERMAL_AIR_WAYBILL"
    )
    document_media_type: str = Field(
        min_length=1, max_length=100, description="e.g. application/pdf"
    )
    document_base64: str = Field(
        min_length=4,
        max_length=CHANNEL_DOCUMENT_MAX_BASE64,
        pattern=r"^[A-Za-z0-9+/]+={0,2}$",
        description="the document's bytes, base64 (at most 512 KiB of document)",
    )
    arranged_at: UtcTime


class ChannelLineCut(Contract):
    """Units an edit at the channel took off one of the order's lines."""

    line_id: str = Field(min_length=1, max_length=100, description="the channel's line id")
    sku: Sku
    quantity: PositiveInt = Field(description="the units taken off")


class ChannelLinesCut(IntegrationEvent):
    """An edit at the channel (Shopify's order editing, WooCommerce's order screen) took units
    off the order's lines: the OMS edits the order the same way while it may (OrderLinesChanged
    with source `channel`: the channel, not the OMS, refunds them), else ops see why not."""

    topic = topics.CHANNEL
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    lines: list[ChannelLineCut] = Field(min_length=1)
    reference: str | None = Field(
        None, max_length=255, description="the channel's id of the news (its webhook event id)"
    )
    changed_at: UtcTime


class ChannelShipToChanged(IntegrationEvent):
    """The channel's order ships elsewhere now (Shopify orders/updated, Woo order.updated with
    another shipping address): the OMS changes the order's ship-to while it may, else ops see
    why not. Never sent back to the channel: it is the channel's own news."""

    topic = topics.CHANNEL
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    shipping_address: Address
    reference: str | None = Field(
        None, max_length=255, description="the channel's id of the news (its webhook event id)"
    )
    changed_at: UtcTime


class ChannelRefundDue(IntegrationEvent):
    """A paid order was cancelled and its channel has no API to refund through (the merchant's
    own channels: web shop, phone, mail): the merchant must pay the money back."""

    topic = topics.CHANNEL
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    reason: str = Text
    payment_state: PaymentState
    amount: DecimalString | None = Field(
        None,
        ge=0,
        description="at most this much: what was paid for the order's lines less the refunds"
        " recorded (shipping not included); absent when the lines do not say",
    )
    currency: CurrencyCode | None = None
    due_at: UtcTime


class ChannelRefundRecorded(IntegrationEvent):
    """Money went back at the channel, not through the OMS (a refund made in Shopify's admin):
    the returns service counts it against what is refundable, the order's timeline shows it.
    Our own refunds coming back from the channel are recognised and never published."""

    topic = topics.CHANNEL
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    refund_id: str = Field(min_length=1, max_length=100, description="the channel's refund id")
    amount: DecimalString = Field(ge=0, description="money that went back, in minor units")
    currency: CurrencyCode
    lines: list[RefundLine] = Field(
        default_factory=list, description="units refunded per SKU; empty: money only"
    )
    note: str | None = Field(None, max_length=500, description="the channel's note")
    refunded_at: UtcTime


# -- orders -------------------------------------------------------------------------------


AccessRole = Literal["admin", "ops", "warehouse", "viewer"]


class AccessGranted(IntegrationEvent):
    """An admin gave a user or a machine client an access token: every service accepts it from
    now until it expires or is revoked (only its SHA-256 hash travels, never the token)."""

    topic = topics.CHANNEL
    key_field = "token_id"
    token_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    principal: str = Text
    role: AccessRole
    token_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the token, hex")
    expires_at: UtcTime | None = Field(None, description="absent: valid until revoked")
    granted_by: str = Text
    granted_at: UtcTime


class AccessRevoked(IntegrationEvent):
    """An access token was revoked (by an admin, or with its user's disabling): every service
    refuses it from now on."""

    topic = topics.CHANNEL
    key_field = "token_id"
    token_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    principal: str = Text
    revoked_by: str = Text
    revoked_at: UtcTime


class OrderPlaced(IntegrationEvent):
    """An order entered the OMS and asks for stock."""

    topic = topics.ORDERS
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    customer: Customer
    shipping_address: Address
    lines: list[OrderLine] = Field(min_length=1)
    currency: CurrencyCode
    placed_at: UtcTime
    channel_order_number: str | None = Field(
        None, max_length=100, description="the channel's own number (Shopify #1001)"
    )
    billing_address: Address | None = None
    note: str | None = Field(None, max_length=5000, description="the customer's note")
    shipping_lines: list[ShippingLine] | None = None
    totals: OrderTotals | None = None
    taxes_included: bool | None = None
    payment_state: PaymentState | None = Field(
        None, description="how far the buyer has paid; absent: paid (orders before payment states)"
    )


class OrderConfirmed(IntegrationEvent):
    """All of an order's stock is reserved; it can be fulfilled from the allocations."""

    topic = topics.ORDERS
    order_id: UUID
    customer: Customer
    shipping_address: Address
    lines: list[OrderLine] = Field(min_length=1)
    allocations: list[Allocation] = Field(min_length=1)
    confirmed_at: UtcTime
    # The order's own number and date, so the warehouse's papers need no second event.
    channel: str | None = Field(None, min_length=1, max_length=200)
    external_id: str | None = Field(None, min_length=1, max_length=200)
    placed_at: UtcTime | None = None
    channel_order_number: str | None = Field(
        None, max_length=100, description="the channel's own number (Shopify #1001), for the papers"
    )
    note: str | None = Field(
        None, max_length=5000, description="the customer's note, for the packing slip"
    )
    part: str | None = Field(
        None,
        max_length=200,
        description="a follow-up part of the order (units sourced again after a short pick):"
        " its allocations are only that part's, its shipments come on top of the order's;"
        " absent: the order's own confirmation",
    )


class OrderBackordered(IntegrationEvent):
    """An order was accepted without stock to fill it; it waits for stock."""

    topic = topics.ORDERS
    order_id: UUID
    shortages: list[Shortage] = Field(min_length=1)
    backordered_at: UtcTime


class OrderCancelled(IntegrationEvent):
    """An order was cancelled before it shipped; its stock and shipments are released.

    `payment_state` is the order's when it was cancelled: a paid one is refunded through its
    channel (README, "Deliveries: news back to the channels").
    """

    topic = topics.ORDERS
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    reason: str = Text
    cancelled_at: UtcTime
    payment_state: PaymentState | None = Field(
        None, description="how far the buyer had paid when it was cancelled; absent: not told"
    )


class OrderCancelRequestAnswered(IntegrationEvent):
    """The OMS answered a buyer's cancellation request made at the channel: accepted (the order
    is cancelled, OrderCancelled follows) or refused (it is under way); the gateway tells the
    channel (Shopee handle_buyer_cancellation)."""

    topic = topics.ORDERS
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    accepted: bool
    why: str = Field(min_length=1, max_length=500, description="why accepted or refused")
    reference: str | None = Field(
        None, max_length=255, description="the channel's id of the request answered"
    )
    answered_by: str = Field(
        min_length=1, max_length=200, description="policy, or who of ops decided"
    )
    answered_at: UtcTime


class OrderShipped(IntegrationEvent):
    """Every unit of an order has shipped or was short; lines carry what can be returned and at
    what price, `short_lines` the units that did not ship and what was paid for them."""

    topic = topics.ORDERS
    order_id: UUID
    currency: CurrencyCode
    lines: list[OrderLine] = Field(min_length=1)
    shipments: list[ShipmentRef] = Field(min_length=1)
    shipped_at: UtcTime
    short_lines: list[ShortLine] | None = Field(
        None, description="units short-picked, per order line; absent: none (or an older event)"
    )
    shipping_paid: DecimalString | None = Field(
        None,
        ge=0,
        description="what the buyer paid for shipping (after its discounts, with its taxes);"
        " absent: the channel told no shipping lines",
    )


class OrderUnitsRequested(IntegrationEvent):
    """Units a picker did not find are asked for again (the short-pick policy `source_again`):
    inventory reserves them anywhere they are available, all or nothing, and answers with
    StockReserved or StockReservationFailed carrying the same `request_id`."""

    topic = topics.ORDERS
    order_id: UUID
    request_id: str = Field(min_length=1, max_length=200)
    lines: list[ItemQuantity] = Field(min_length=1)
    country: CountryCode | None = None
    requested_at: UtcTime


class OrderShipToChanged(IntegrationEvent):
    """An order's ship-to changed before any of it was picked; its open shipments take it.

    A shipment already being picked keeps its address, and fulfillment says so with
    ShipToChangeRefused. The stock reservation stays where it was routed.
    """

    topic = topics.ORDERS
    order_id: UUID
    shipping_address: Address
    changed_at: UtcTime


class OrderLinesChanged(IntegrationEvent):
    """An order's lines were edited before any of it was picked: units cancelled, lines added.

    `lines` are the order's lines after the edit and `revision` counts the edits. Inventory
    reserves the order again for the new lines (StockReserved and StockReservationFailed carry
    the revision they answer), fulfillment drops the order's open shipments and waits for the
    new OrderConfirmed, returns refunds what was paid for cancelled units of a paid order, and
    the gateway tells the channel (unless the edit came from it, `source` "channel").
    """

    topic = topics.ORDERS
    order_id: UUID
    channel: str = Text
    external_id: str = Text
    revision: PositiveInt
    lines: list[OrderLine] = Field(min_length=1)
    cancelled: list[CancelledUnits] = Field(default_factory=list)
    added: list[OrderLine] = Field(default_factory=list)
    currency: CurrencyCode
    payment_state: PaymentState | None = None
    reason: str = Text
    source: str = Field("ops", pattern=r"^(ops|channel)$")
    changed_at: UtcTime


# -- inventory ----------------------------------------------------------------------------


class RoutingCandidate(Contract):
    """A location routing looked at: lost_on names the rule it lost on (absent: chosen)."""

    location_id: str = Text
    priority: int
    country: str = Field(max_length=2)
    distance_km: NonNegativeInt | None = None
    lost_on: str | None = Field(None, max_length=50)
    why: str = Field(max_length=500)


class RoutingExplanation(Contract):
    """Why an order went where it went: the rules in order, the one that decided, candidates."""

    rules: list[str]
    decided_by: str = Field(max_length=50)
    search: str = Field(max_length=20, description="single, exact or greedy")
    shipments: NonNegativeInt
    candidates: list[RoutingCandidate]


class StockReserved(IntegrationEvent):
    """All lines of an order are reserved, at the locations given."""

    topic = topics.INVENTORY
    order_id: UUID
    allocations: list[Allocation] = Field(min_length=1)
    reserved_at: UtcTime
    revision: NonNegativeInt = Field(0, description="the order's edit this answers (0: as placed)")
    request_id: str | None = Field(
        None, max_length=200, description="the OrderUnitsRequested this answers; absent: the order"
    )
    routing: RoutingExplanation | None = Field(
        None, description="why routing chose these locations; absent: not explained"
    )
    short: list[Shortage] | None = Field(
        None,
        description="lines held only in part by the channel's partial policy (ship what is there):"
        " the rest is not held and not waited for; absent: every line is held in full",
    )
    rest: list[Shortage] | None = Field(
        None,
        description="lines held only in part by the channel's partial policy (backorder the rest):"
        " the rest waits for stock and is answered by a StockReserved with rest_request_id",
    )
    rest_request_id: str | None = Field(
        None, max_length=200, description="the request id the rest will be reserved under"
    )


class StockReservationFailed(IntegrationEvent):
    """An order could not be reserved in full; nothing was reserved for it."""

    topic = topics.INVENTORY
    order_id: UUID
    shortages: list[Shortage] = Field(min_length=1)
    failed_at: UtcTime
    revision: NonNegativeInt = Field(0, description="the order's edit this answers (0: as placed)")
    request_id: str | None = Field(
        None, max_length=200, description="the OrderUnitsRequested this answers; absent: the order"
    )


class BackorderPromised(IntegrationEvent):
    """A backordered order got a promise date, or its date changed: when the purchase orders
    and transfers on the way are expected to bring its missing units (first come first served
    over the orders waiting for each SKU). `promise_date` absent: nothing expected covers them
    any more. Superseded by StockReserved once the order is filled."""

    topic = topics.INVENTORY
    order_id: UUID
    promise_date: UtcTime | None = Field(
        None, description="when the order's missing units are expected; absent: not known"
    )
    promised_at: UtcTime
    revision: NonNegativeInt = Field(0, description="the order's edit this answers (0: as placed)")


class StockReleased(IntegrationEvent):
    """An order's reservation was given back to available stock."""

    topic = topics.INVENTORY
    order_id: UUID
    allocations: list[Allocation] = Field(min_length=1)
    reason: str = Text
    released_at: UtcTime


class StockLevelChanged(IntegrationEvent):
    """The stock of one SKU at one location changed."""

    topic = topics.INVENTORY
    key_field = "sku"
    sku: Sku
    location_id: str = Text
    on_hand: int
    reserved: NonNegativeInt
    available: int
    reason: str = Text
    changed_at: UtcTime
    bin: str | None = Field(None, max_length=32, description="Where the SKU lives at the location")
    quarantined: NonNegativeInt | None = Field(
        None,
        description="Units in quarantine there after a quarantine change (absent otherwise)",
    )


class LocationStock(Contract):
    """A channel's units at one location (for channels that keep stock per location)."""

    location_id: str = Text
    available: NonNegativeInt


class ChannelStock(Contract):
    """What one channel may sell of a SKU: in all, and split over its locations."""

    channel: str = Field(
        min_length=1, max_length=64, description='A channel id, or "*": any channel not configured'
    )
    available: NonNegativeInt
    locations: list[LocationStock] = Field(
        default_factory=list,
        description="The same units per location serving the channel (they sum to available)",
    )


class ChannelAvailabilityChanged(IntegrationEvent):
    """What channels may sell of a SKU (its ATP per channel) changed; emitted only on change.

    Carries every configured channel and "*" (any other channel), so a reader needs no other
    state; `stock_version` orders the changes of one SKU (latest wins).
    """

    topic = topics.INVENTORY
    key_field = "sku"
    sku: Sku
    stock_version: NonNegativeInt = Field(description="Grows with every change of the SKU's stock")
    channels: list[ChannelStock] = Field(min_length=1)
    changed_at: UtcTime


class BinAssigned(IntegrationEvent):
    """A SKU got its bin (slot) at a location, on receipt or by a put-away/move."""

    topic = topics.INVENTORY
    key_field = "sku"
    sku: Sku
    location_id: str = Text
    bin: str = Field(pattern=r"^[A-Z0-9]+(-[A-Z0-9]+)*$", max_length=32)
    previous_bin: str | None = Field(None, max_length=32)
    assigned_at: UtcTime


class ItemDimensions(Contract):
    """Outer size of one unit in millimetres."""

    length: PositiveInt
    width: PositiveInt
    height: PositiveInt


class ItemChanged(IntegrationEvent):
    """A SKU's catalogue item was created or its details changed (all of them, as they are now)."""

    topic = topics.INVENTORY
    key_field = "sku"
    sku: Sku
    name: str = Text
    variant: str | None = Field(None, min_length=1, max_length=200)
    gtins: list[Annotated[str, Field(pattern=r"^[0-9]{8}([0-9]{4,6})?$")]] = Field(
        default_factory=list, description="GTIN-8/12/13/14 barcodes, check digits verified"
    )
    weight_grams: PositiveInt | None = Field(None, description="weight of one unit")
    dimensions_mm: ItemDimensions | None = None
    hs_code: str | None = Field(None, pattern=r"^[0-9]{6,10}$", description="customs tariff code")
    country_of_origin: CountryCode | None = None
    created: bool = Field(False, description="true for the item's first details")
    changed_at: UtcTime


class LocationAddressChanged(IntegrationEvent):
    """A location's postal address (its ship-from) was set or changed, with its coordinates."""

    topic = topics.INVENTORY
    key_field = "location_id"
    location_id: str = Text
    address: Address
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    changed_at: UtcTime


# -- fulfillment --------------------------------------------------------------------------


class ShipmentCreated(IntegrationEvent):
    """A shipment of an order's lines from one location is ready to be picked."""

    topic = topics.FULFILLMENT
    shipment_id: UUID
    order_id: UUID
    location_id: str = Text
    lines: list[ItemQuantity] = Field(min_length=1)
    ship_to: Address
    created_at: UtcTime


class Shipped(IntegrationEvent):
    """A shipment left its location with a carrier and tracking number."""

    topic = topics.FULFILLMENT
    shipment_id: UUID
    order_id: UUID
    location_id: str = Text
    carrier: str = Text
    tracking_number: str = Text
    lines: list[ItemQuantity] = Field(min_length=1)
    shipped_at: UtcTime
    service: str | None = Field(None, max_length=100, description="Carrier service level")
    packages: list[PackageRef] | None = None
    tracking_shared: bool | None = Field(
        None,
        description=(
            "False: the tracking numbers are the merchant's own (a rate table whose numbers the"
            " merchant did not declare real): do not tell them to channels or customers."
            " Absent (older events) or true: share them."
        ),
    )
    tracking_url: str | None = Field(
        None, max_length=2000, description="Where the customer follows the parcel, if known"
    )


TrackingStatus = Literal["in_transit", "out_for_delivery", "delivered", "exception"]


class ShipmentTracked(IntegrationEvent):
    """The carrier told where a shipment's parcel is: in transit, out for delivery, delivered,
    or an exception (a failed delivery, a return to sender)."""

    topic = topics.FULFILLMENT
    shipment_id: UUID
    order_id: UUID
    carrier: str = Text
    tracking_number: str = Text
    tracking_url: str | None = Field(None, max_length=2000)
    status: TrackingStatus
    happened_at: UtcTime
    description: str = Field(
        min_length=1, max_length=500, description="The carrier's own words for the event"
    )


class ShortPicked(IntegrationEvent):
    """Fewer units were found in a bin than a shipment needs: an exception to resolve."""

    topic = topics.FULFILLMENT
    shipment_id: UUID
    order_id: UUID
    location_id: str = Text
    pick_list_id: UUID
    lines: list[PickedLine] = Field(min_length=1)
    short_at: UtcTime


class ShipmentCancelled(IntegrationEvent):
    """A shipment will not leave (its order was cancelled)."""

    topic = topics.FULFILLMENT
    shipment_id: UUID
    order_id: UUID
    location_id: str = Text
    reason: str = Text
    cancelled_at: UtcTime


class PickingStarted(IntegrationEvent):
    """A shipment went on a pick list: from now on its ship-to no longer changes."""

    topic = topics.FULFILLMENT
    order_id: UUID
    shipment_id: UUID
    pick_list_id: UUID
    location_id: str = Text
    started_at: UtcTime


class PickingReleased(IntegrationEvent):
    """A shipment's pick list was cancelled before it was picked: it is open again."""

    topic = topics.FULFILLMENT
    order_id: UUID
    shipment_id: UUID
    released_at: UtcTime


class ShipToChangeRefused(IntegrationEvent):
    """A shipment kept its ship-to: its picking had started before the order's change came."""

    topic = topics.FULFILLMENT
    order_id: UUID
    shipment_id: UUID
    reason: str = Text
    refused_at: UtcTime


class OrderEditRefused(IntegrationEvent):
    """A shipment kept its lines: its picking had started before the order's edit came, so ops
    must settle it (the edit is on the order; this shipment ships what it was picking)."""

    topic = topics.FULFILLMENT
    order_id: UUID
    shipment_id: UUID
    revision: PositiveInt
    reason: str = Text
    refused_at: UtcTime


# -- returns ------------------------------------------------------------------------------


class ReturnRequested(IntegrationEvent):
    """A return (RMA) was authorised for shipped units."""

    topic = topics.RETURNS
    return_id: UUID
    order_id: UUID
    lines: list[ReturnLine] = Field(min_length=1)
    requested_at: UtcTime


class ReturnReceived(IntegrationEvent):
    """Returned units arrived and were inspected; sellable ones go back to stock."""

    topic = topics.RETURNS
    return_id: UUID
    order_id: UUID
    lines: list[ReceivedLine] = Field(min_length=1)
    received_at: UtcTime


class Refunded(IntegrationEvent):
    """Money went back to the customer: for returned units, or without a return (a short pick,
    a lost parcel, goodwill), never more than was paid for the order.

    A refund without a return has `reason` other than `return` and carries its own refund id
    as `return_id`. With `refund_kind` `amount` no unit is refunded: its lines only spread the
    amount over the SKUs it is counted against (their quantities are those SKUs' units).
    """

    topic = topics.RETURNS
    refund_id: UUID
    return_id: UUID
    order_id: UUID
    amount: DecimalString = Field(ge=0)
    currency: CurrencyCode
    lines: list[RefundLine] = Field(min_length=1)
    refunded_at: UtcTime
    reason: str | None = Field(
        None,
        pattern=r"^[a-z_]{1,50}$",
        description="return, short_pick, lost_parcel, goodwill or other; absent: return",
    )
    refund_kind: Literal["units", "amount"] | None = Field(
        None, description="units: the lines' units are refunded; amount: money only; absent: units"
    )
    shipping: DecimalString | None = Field(
        None,
        ge=0,
        description="the part of `amount` that pays back shipping (a full return, by the"
        " returns service's shipping rule); absent: none",
    )


# -- analytics (the stream jobs) ------------------------------------------------------------


class RevenueAmount(Contract):
    """Revenue in one currency: as a decimal string and in the currency's minor units."""

    currency: CurrencyCode
    amount: DecimalString = Field(ge=0)
    minor_units: NonNegativeInt = Field(description="amount in the currency's smallest unit")


class ChannelKpisComputed(IntegrationEvent):
    """The KPIs of the orders placed on one channel in one UTC hour, as far as they got.

    A snapshot: published again whenever one of the hour's orders moves on (backordered,
    shipped, cancelled); the newest per channel and hour wins, and a snapshot sent twice
    carries the same id.
    """

    topic = topics.ANALYTICS
    key_field = "channel"
    channel: str = Text
    hour: UtcTime = Field(description="start of the UTC hour the orders were placed in")
    orders: NonNegativeInt
    units: NonNegativeInt
    revenue: list[RevenueAmount] = Field(description="what the buyers paid, per currency")
    backordered: NonNegativeInt = Field(description="orders backordered at least once")
    cancelled: NonNegativeInt
    shipped: NonNegativeInt = Field(description="orders whose every unit shipped or was short")
    backorder_rate: DecimalString | None = Field(
        None, ge=0, le=1, description="backordered / orders"
    )
    fill_rate: DecimalString | None = Field(
        None, ge=0, le=1, description="units shipped / units shipped or short, of shipped orders"
    )
    median_placed_to_shipped_seconds: DecimalString | None = Field(
        None, ge=0, description="median time from placing to the last unit shipping"
    )
    computed_at: UtcTime


class LowStockAlerted(IntegrationEvent):
    """A SKU's available stock at a location fell below its reorder point (once per time)."""

    topic = topics.ANALYTICS
    key_field = "sku"
    sku: Sku
    location_id: str = Text
    available: int
    reorder_point: NonNegativeInt
    safety_stock: NonNegativeInt
    daily_demand: DecimalString = Field(ge=0, description="units reserved per day, recently")
    demand_window_days: PositiveInt
    lead_time_days: DecimalString = Field(ge=0)
    alerted_at: UtcTime


class ReorderSuggested(IntegrationEvent):
    """How many units of a SKU to order for a location that went low: enough for the lead
    time, the safety stock and `cover_days` more."""

    topic = topics.ANALYTICS
    key_field = "sku"
    sku: Sku
    location_id: str = Text
    quantity: PositiveInt
    available: int
    reorder_point: NonNegativeInt
    daily_demand: DecimalString = Field(ge=0)
    lead_time_days: DecimalString = Field(ge=0)
    cover_days: DecimalString = Field(ge=0)
    suggested_at: UtcTime


EVENT_CLASSES: tuple[type[IntegrationEvent], ...] = (
    ChannelOrderReceived,
    ChannelPaymentChanged,
    ChannelOrderCancelled,
    ChannelRefundDue,
    ChannelCancelRequested,
    ChannelShippingArranged,
    ChannelRefundRecorded,
    ChannelShipToChanged,
    ChannelLinesCut,
    AccessGranted,
    AccessRevoked,
    OrderPlaced,
    OrderConfirmed,
    OrderBackordered,
    OrderCancelled,
    OrderCancelRequestAnswered,
    OrderShipped,
    OrderShipToChanged,
    OrderLinesChanged,
    OrderUnitsRequested,
    StockReserved,
    StockReservationFailed,
    BackorderPromised,
    StockReleased,
    StockLevelChanged,
    BinAssigned,
    ItemChanged,
    LocationAddressChanged,
    ChannelAvailabilityChanged,
    ShipmentCreated,
    Shipped,
    ShipmentTracked,
    ShortPicked,
    ShipmentCancelled,
    PickingStarted,
    PickingReleased,
    ShipToChangeRefused,
    OrderEditRefused,
    ReturnRequested,
    ReturnReceived,
    Refunded,
    ChannelKpisComputed,
    LowStockAlerted,
    ReorderSuggested,
)

EVENTS_BY_TYPE: dict[str, type[IntegrationEvent]] = {c.event_type(): c for c in EVENT_CLASSES}
