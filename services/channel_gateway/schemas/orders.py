"""Channel orders over HTTP: the canonical order taken in, channel orders as ops see them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from services.channel_gateway.application.canonical import CanonicalOrderModel, Edge
from services.channel_gateway.domain import ChannelOrderStatus
from shared.runtime.api import Page


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
    received_at: datetime
    released_at: datetime | None = None
    updated_at: datetime


class ChannelOrdersPublic(Page[ChannelOrderPublic]):
    """A page of channel orders."""
