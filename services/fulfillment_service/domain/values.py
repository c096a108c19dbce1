"""Value objects of the warehouse: plain dicts at run time, typed for the reader and mypy.

TypedDicts rather than classes so that stored events keep the JSON they always had and the
hot path pays nothing (docs/architecture.md, The rooms of a service).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict
from uuid import UUID


class Address(TypedDict):
    """A postal address parcels go to or leave from.

    A ship-to keeps the company, phone and state where the order had them (the carrier needs a
    US state, and a phone number to call); older shipments' addresses lack the keys.
    """

    name: str
    line1: str
    line2: NotRequired[str | None]
    city: str
    postal_code: str
    country: str
    company: NotRequired[str | None]
    phone: NotRequired[str | None]
    state: NotRequired[str | None]  # as the channel named it
    state_code: NotRequired[str | None]  # ISO 3166-2 where known (US-KY)


class ItemLine(TypedDict):
    """Units of one SKU: a shipment line, a package item, an ordered line (never a price)."""

    sku: str
    quantity: int


class Allocation(TypedDict):
    """Units of a SKU the order reserved at one location."""

    sku: str
    location_id: str
    quantity: int


class OrderRef(TypedDict, total=False):
    """The order as the customer knows it: channel, number and when it was placed (ISO), the
    channel's own number (#1001) and the customer's note where the order has them."""

    channel: str
    external_id: str
    placed_at: str
    channel_order_number: str
    note: str


class CashOnDelivery(TypedDict):
    """What the buyer pays the carrier on delivery: a decimal string in the currency's minor
    units, and the currency."""

    amount: str
    currency: str


class OrderSummary(OrderRef, total=False):
    """What the packing slip needs about the whole order: its number, date, ordered lines."""

    lines: list[ItemLine]


class PickedLine(TypedDict):
    """What the picker found for one line of a shipment."""

    sku: str
    bin: str | None
    expected: int
    picked: int


class Dimensions(TypedDict):
    """Outer size of a package in millimetres."""

    length: int
    width: int
    height: int


class Package(TypedDict):
    """A box of a shipment with its SSCC; tracking number and charge once it shipped."""

    package_id: str
    sscc: str
    items: list[ItemLine]
    weight_grams: int
    dimensions_mm: Dimensions
    tracking_number: NotRequired[str | None]
    charge: NotRequired[str | None]


class TrackingAssignment(TypedDict):
    """The tracking number (and charge, "9.50 EUR") a carrier gave one package."""

    package_id: str
    tracking_number: str
    charge: NotRequired[str | None]


class ShippedPackage(TypedDict):
    """A package as the Shipped event carries it."""

    package_id: str
    sscc: str
    tracking_number: str
    weight_grams: int
    charge: str | None


class RateQuote(TypedDict):
    """What a carrier charges for a shipment's packages with one service (a decimal string)."""

    carrier: str
    service: str
    zone: str
    charge: str
    currency: str


class SlotRequest(TypedDict):
    """A shipment as a pick list is planned from."""

    shipment_id: UUID
    order_id: UUID
    order_number: str | None
    lines: list[ItemLine]


class Slot(TypedDict):
    """A slot (tote) on the cart and the shipment it collects for."""

    slot: int
    shipment_id: str
    order_id: str
    order_number: str | None


class SlotShare(TypedDict):
    """Units of a pick line that go into one slot."""

    slot: int
    shipment_id: str
    quantity: int


class PickLine(TypedDict):
    """One stop on the walk: a SKU at its bin, how many units, for which slots."""

    sku: str
    bin: str | None
    quantity: int
    slots: list[SlotShare]


class PickConfirmation(TypedDict):
    """Units the picker found for one line."""

    sku: str
    picked: int


@dataclass(frozen=True)
class ShipFrom:
    """Ship-from addresses: one per location where configured, else the merchant's."""

    default: Address
    per_location: Mapping[str, Address] = field(default_factory=dict)

    def address(self, location_id: str) -> Address:
        """The address a location's parcels leave from."""
        return Address(**self.per_location.get(location_id, self.default))


class ChannelLabel(TypedDict):
    """A label the order's channel made for the shipment (Shopee's airway bill), as it sent it:
    carrier and tracking number by the channel's logistics, the document base64."""

    carrier: str
    tracking_number: str
    document_type: str
    media_type: str
    document_base64: str
