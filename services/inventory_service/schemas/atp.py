"""Request and response models of safety stock and ATP (available to promise)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from services.inventory_service.schemas.fields import LocationId, Quantity
from shared.events.base import CountryCode, Sku

ChannelName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]


class SafetyStockSet(BaseModel):
    """Units of a SKU kept back at a location from what channels are told; 0 clears it."""

    model_config = ConfigDict(extra="forbid")

    location_id: LocationId
    quantity: StrictInt = Field(ge=0, le=1_000_000)


class LocationAtp(BaseModel):
    """What one open location may promise: available less safety stock, never below 0."""

    location_id: str
    atp: int


class AtpPublic(BaseModel):
    """A SKU's ATP per open location and in total, and what the channel may sell if asked."""

    sku: str
    locations: list[LocationAtp]
    total: int
    channel: str | None = None
    channel_atp: int | None = Field(
        None, description="What the channel may sell: its locations, less buffer, capped"
    )


class AtpRetell(BaseModel):
    """Which SKUs channels are told about again (none named: every SKU with stock)."""

    model_config = ConfigDict(extra="forbid")

    skus: list[Sku] | None = Field(None, max_length=10_000)


class AtpRetold(BaseModel):
    """How many SKUs were looked at, and for how many channels were told something new."""

    skus: int
    changed: int


class CheckLine(BaseModel):
    """Units of one SKU in a basket."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: Quantity


class ShipTo(BaseModel):
    """Where the basket would go (routing places it by postal code, else its country)."""

    model_config = ConfigDict(extra="forbid")

    country: CountryCode
    postal_code: str | None = Field(None, min_length=1, max_length=20)


class AtpCheck(BaseModel):
    """A basket to check against ATP; nothing is reserved."""

    model_config = ConfigDict(extra="forbid")

    lines: list[CheckLine] = Field(min_length=1, max_length=200)
    ship_to: ShipTo | None = None
    channel: ChannelName | None = None


class CheckAllocation(BaseModel):
    """Units of one SKU that would ship from one location."""

    sku: str
    location_id: str
    quantity: int


class CheckShortage(BaseModel):
    """A line the ATP (of the channel) cannot fill."""

    sku: str
    requested: int
    available: int


class AtpCheckPublic(BaseModel):
    """Whether the basket can ship, from where, and whether it splits; or its short lines."""

    available: bool
    split: bool = Field(description="It would ship from more than one location")
    locations: list[str] = Field(description="Where it would ship from, preferred first")
    allocations: list[CheckAllocation]
    shortages: list[CheckShortage]
