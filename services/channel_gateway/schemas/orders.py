"""Channel orders over HTTP: the canonical order taken in, channel orders as ops see them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from services.channel_gateway.application.canonical import CanonicalOrderModel, Edge
from services.channel_gateway.domain import ChannelOrderStatus
from shared.runtime.api import Page

TrackingStatus = Literal["in_transit", "out_for_delivery", "delivered", "exception"]


class ChannelOrderCreate(CanonicalOrderModel):
    """The canonical order: the one shape every channel's order is translated into."""


class ChannelOrderAccepted(Edge):
    """The id under which the OMS handles the order, and what became of it."""

    order_id: UUID
    status: ChannelOrderStatus


class OrderLinePublic(BaseModel):
    """An ordered line (on a held order the SKU may still be unmapped)."""

    sku: str | None
    quantity: int
    unit_price: Decimal
    # Shown on held orders, where the channel's SKU is what still needs a mapping.
    channel_sku: str | None = Field(None, exclude_if=lambda value: value is None)


class PackagePublic(BaseModel):
    """A package of a shipment with its own tracking number."""

    package_id: UUID
    sscc: str
    tracking_number: str
    weight_grams: int | None = None


class ShipmentPublic(BaseModel):
    """A shipment that left, with what the channel needs to tell the customer."""

    shipment_id: UUID
    carrier: str
    tracking_number: str
    location_id: str
    lines: list[dict[str, Any]]
    shipped_at: datetime
    service: str | None = None
    packages: list[PackagePublic] = []
    # False: the numbers are the merchant's own (a rate table's), told to no channel or
    # customer; the carrier's tracking page when it gave one.
    tracking_shared: bool = True
    tracking_url: str | None = None


class TrackingPublic(BaseModel):
    """The carrier's latest word on one shipment's parcel."""

    shipment_id: UUID
    carrier: str
    tracking_number: str
    tracking_url: str | None = None
    status: TrackingStatus
    happened_at: datetime
    description: str


class RefundPublic(BaseModel):
    """Money that went back to the customer."""

    refund_id: UUID
    amount: Decimal
    currency: str
    refunded_at: datetime


class LineEditPublic(BaseModel):
    """An edit of the order's lines made in the OMS, and whether (or why not) the channel was
    told: "told: ..." schedules a delivery (see /v1/deliveries), "not told: ..." says why the
    channel's order still has the old lines (ops settle it at the channel)."""

    revision: int
    source: str
    reason: str
    changed_at: datetime
    changed: list[dict[str, Any]]
    added: list[dict[str, Any]]
    told: str


class ChannelOrderPublic(BaseModel):
    """A channel order as received (or held, with why), and what the OMS has done since."""

    order_id: UUID
    channel: str
    external_id: str
    status: ChannelOrderStatus
    currency: str | None
    customer: dict[str, Any]
    shipping_address: dict[str, Any]
    lines: list[OrderLinePublic]
    hold_reasons: list[str] = []
    shipments: list[ShipmentPublic]
    cancelled: bool
    cancel_reason: str | None
    cancelled_at: datetime | None
    refunds: list[RefundPublic]
    refunded_total: Decimal
    edits: list[LineEditPublic] = []
    tracking_status: TrackingStatus | None = Field(
        None,
        description="The carrier's latest word on the order's parcels (the newest of any"
        " shipment): in_transit, out_for_delivery, delivered or exception; null until a"
        " carrier tracks one",
    )
    tracking_at: datetime | None = Field(None, description="When the carrier said it")
    tracking: list[TrackingPublic] = Field([], description="The carrier's latest word per shipment")
    received_at: datetime
    released_at: datetime | None = None
    updated_at: datetime

    @field_validator("tracking", mode="before")
    @classmethod
    def _per_shipment(cls, value: Any) -> Any:
        """The view keeps them by shipment id; the API lists them."""
        return list(value.values()) if isinstance(value, dict) else value


class ChannelOrdersPublic(Page[ChannelOrderPublic]):
    """A page of channel orders."""
