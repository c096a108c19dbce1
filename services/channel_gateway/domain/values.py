"""Value objects of the gateway: TypedDicts, so they stay plain dicts at run time.

The stored events keep the JSON they always had and the intake path pays nothing for the types;
money is a decimal string in the currency's minor units, `Decimal` only in arithmetic.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NotRequired, TypedDict

# -- raw channel data: its shape is the channel's business, not ours ------------------------

RawPayload = dict[str, Any]
"""What a channel sent, kept exactly as it was sent."""
ChannelRefs = dict[str, Any]
"""The channel's own ids of an order and its lines, needed to tell the channel news later."""
ChannelConfig = dict[str, Any]
"""A connection's settings as given for the channel's API (never secrets); shaped per channel."""


# -- the canonical order ---------------------------------------------------------------------


class Customer(TypedDict):
    """Who ordered; no payment data, ever."""

    name: str
    email: str
    phone: NotRequired[str]


class Address(TypedDict):
    """Where the order goes."""

    name: str
    line1: str
    line2: NotRequired[str | None]
    city: str
    postal_code: str
    country: str


class OrderLine(TypedDict):
    """One SKU of the order, its quantity and its unit price (a decimal string)."""

    sku: str
    quantity: int
    unit_price: str


class ShippingLine(TypedDict):
    """A shipping charge: price, discount and tax amounts as decimal strings."""

    title: str
    price: str
    discount: str
    taxes: list[dict[str, str]]


class OrderTotals(TypedDict):
    """What the order came to (decimal strings in minor units; README, "The money of an order")."""

    items: str
    discounts: str
    tax: str
    shipping: str
    paid: str


class CanonicalOrder(TypedDict):
    """The one shape every channel's order is translated into (channel and id aside)."""

    customer: Customer
    shipping_address: Address
    lines: list[OrderLine]
    currency: str
    refs: NotRequired[ChannelRefs]
    payment_state: NotRequired[str]  # a shared.payments.PaymentState value
    # The order's own facts, where the channel told them (absent on older orders).
    channel_order_number: NotRequired[str]
    billing_address: NotRequired[Address]
    note: NotRequired[str]
    shipping_lines: NotRequired[list[ShippingLine]]
    totals: NotRequired[OrderTotals]
    taxes_included: NotRequired[bool]


# -- a held order: translated as far as it goes -----------------------------------------------

DraftCustomer = dict[str, str | None]
"""A customer as far as the channel told us (a field may be missing or None)."""
DraftAddress = dict[str, str | None]
"""An address as far as the channel told us (a field may be missing or None)."""


class DraftLine(TypedDict):
    """A line of a held order: our SKU when it is mapped, and the channel's SKU."""

    sku: str | None
    channel_sku: str | None
    quantity: int
    unit_price: str
    # What the channel told of the line (absent on older drafts and channels that do not say).
    line_id: NotRequired[str]
    title: NotRequired[str]
    variant_title: NotRequired[str]
    discount: NotRequired[str]
    taxes: NotRequired[list[dict[str, str]]]
    paid: NotRequired[str]


class DraftOrder(TypedDict, total=False):
    """What could be translated of an order that cannot be placed yet."""

    customer: DraftCustomer
    shipping_address: DraftAddress
    lines: list[DraftLine]
    currency: str | None
    refs: ChannelRefs
    payment_state: str
    channel_order_number: str | None
    billing_address: DraftAddress | None
    note: str | None
    shipping_lines: list[ShippingLine]
    totals: dict[str, str]  # what the channel said the order came to (checked on placing)
    taxes_included: bool | None


# -- what the OMS reports back -----------------------------------------------------------------


class ShippedLine(TypedDict):
    """Units of one SKU in a shipment."""

    sku: str
    quantity: int


class Package(TypedDict):
    """A package of a shipment with its own tracking number."""

    package_id: str
    sscc: str
    tracking_number: str
    weight_grams: NotRequired[int | None]


class Shipment(TypedDict):
    """A shipment that left, with what the channel needs to tell the customer."""

    shipment_id: str
    carrier: str
    tracking_number: str
    location_id: str
    lines: list[ShippedLine]
    shipped_at: str
    # Shipments recorded before these fields existed lack them.
    service: NotRequired[str | None]
    packages: NotRequired[list[Package]]
    # False: the numbers are the merchant's own (a rate table's, not declared real) and reach
    # no channel or customer; absent (older shipments): shared. The carrier's tracking page.
    tracking_shared: NotRequired[bool]
    tracking_url: NotRequired[str | None]


class Tracking(TypedDict):
    """The carrier's latest word on one shipment's parcel (from fulfillment's ShipmentTracked)."""

    shipment_id: str
    carrier: str
    tracking_number: str
    tracking_url: str | None
    status: str  # in_transit | out_for_delivery | delivered | exception
    happened_at: str  # UTC RFC 3339, as the carrier dated it
    description: str  # the carrier's own words


class Cancellation(TypedDict):
    """Why and when the OMS cancelled an order, and whether the channel must refund it."""

    reason: str
    cancelled_at: str
    # The order's payment state when cancelled, and whether the buyer's money was taken so the
    # channel's cancel must refund it (absent on cancellations recorded before refunds on cancel).
    payment_state: NotRequired[str | None]
    refund: NotRequired[bool]


class CancelAnswer(TypedDict):
    """The OMS's answer to a buyer's cancellation request, for the channel."""

    accepted: bool
    why: str
    reference: str
    answered_at: str


class ShippingToArrange(TypedDict):
    """A shipment fulfillment created for an order whose channel's own logistics carry it."""

    shipment_id: str
    location_id: str
    created_at: str


class ShippingArrangement(TypedDict):
    """What the channel's logistics gave for a shipment: carrier, tracking, shipping document."""

    shipment_id: str
    carrier: str
    tracking_number: str
    document_type: str
    document_media_type: str
    document_base64: str
    arranged_at: str


class RefundLine(TypedDict):
    """Money back for units of one SKU (amount a decimal string)."""

    sku: str
    quantity: int
    amount: str


class Refund(TypedDict):
    """Money that went back to the customer (amount a decimal string)."""

    refund_id: str
    amount: str
    currency: str
    refunded_at: str
    lines: NotRequired[list[RefundLine]]
    # Why (return, short_pick, lost_parcel, goodwill, other) and whether the lines' units are
    # refunded ("units") or only money ("amount"); absent on older refunds: a return's units.
    reason: NotRequired[str]
    refund_kind: NotRequired[str]
    shipping: NotRequired[str]  # the part of amount that pays back shipping


class EditedLine(TypedDict):
    """A channel line whose units an edit in the OMS took off: its quantity after the edit."""

    line: int  # the line's number (1-based) in the order before the edit
    line_id: str | None  # the channel's line id; None on a line an earlier edit added
    sku: str
    quantity: int  # after the edit; 0: the whole line is gone
    title: NotRequired[str | None]


class AddedLine(TypedDict):
    """A line an edit in the OMS added, as the channel is asked to add it (amounts as decimal
    strings in the currency's minor units)."""

    key: str  # "<revision>:<n>": which edit added it, so a retry finds it at the channel
    sku: str
    quantity: int
    unit_price: str
    discount: str
    title: str
    # The channel's ids of the product where a line of the same SKU on the order has them
    # (Shopify variant_id, WooCommerce product_id); absent: a custom item.
    product: NotRequired[dict[str, Any]]


class LinesEdit(TypedDict):
    """An edit of an order's lines made in the OMS, as a delivery tells it to the channel."""

    revision: int
    reason: str
    changed_at: str
    currency: str | None
    changed: list[EditedLine]
    added: list[AddedLine]


# -- a channel's news of an order ------------------------------------------------------------


class ChangeKind(StrEnum):
    """What a channel's news of an order is about."""

    PAYMENT = "payment"
    CANCELLATION = "cancellation"
    SHIP_TO = "ship_to"
    LINES = "lines"  # the units of the order's lines now: an edit at the channel cut some


class ChannelNews(TypedDict):
    """One piece of a channel's news of an order: its kind, the channel's reference (webhook
    event id) and when it came, and what it says: the payment state, the cancellation's reason or
    the new ship-to (canonical)."""

    kind: str  # a ChangeKind value
    reference: str | None
    received_at: str
    payment_state: NotRequired[str]
    reason: NotRequired[str]
    shipping_address: NotRequired[Address]
    quantities: NotRequired[dict[str, int]]  # the channel's line id -> units now


class LineCutAtChannel(TypedDict):
    """Units an edit at the channel took off one of its lines."""

    line_id: str
    sku: str
    quantity: int  # the units taken off
