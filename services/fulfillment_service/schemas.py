"""HTTP request and response models of the fulfillment API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints

Carrier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
TrackingNumber = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$"
    ),
]


class ShipmentLinePublic(BaseModel):
    """Units of one SKU in a shipment."""

    sku: str
    quantity: int


class AddressPublic(BaseModel):
    """Where a shipment goes."""

    name: str
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    country: str


class ShipmentPublic(BaseModel):
    """A shipment as ops see it."""

    model_config = ConfigDict(from_attributes=True)

    shipment_id: UUID
    order_id: UUID
    location_id: str
    status: str
    lines: list[ShipmentLinePublic]
    ship_to: AddressPublic
    carrier: str | None
    tracking_number: str | None
    created_at: datetime
    shipped_at: datetime | None
    cancelled_at: datetime | None


class ShipmentsPublic(BaseModel):
    """A page of shipments."""

    data: list[ShipmentPublic]
    count: int
    limit: int
    offset: int


class ShipmentShip(BaseModel):
    """The carrier that took the shipment and its tracking number."""

    model_config = ConfigDict(extra="forbid")

    carrier: Carrier
    tracking_number: TrackingNumber
