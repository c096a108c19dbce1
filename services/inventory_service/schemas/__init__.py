"""HTTP request and response models of the inventory API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

from services.inventory_service.domain import Incoming, Level, ReservationStatus, Stock
from services.inventory_service.schemas.fields import BinCode, LocationId, Quantity, Reason
from services.inventory_service.schemas.warehouse import (
    BinAssign,
    BinAssignmentPublic,
    BinRow,
    BinsPublic,
    DiscrepanciesPublic,
    DiscrepancyPublic,
    DiscrepancyResolve,
    DiscrepancyStatus,
    discrepancy_public,
)
from shared.events.base import CountryCode, Sku
from shared.runtime.api import Page

__all__ = [
    "AddressFields",
    "AdjustmentCreate",
    "AdjustmentPublic",
    "AllocationPublic",
    "BinAssign",
    "BinAssignmentPublic",
    "BinCode",
    "BinRow",
    "BinsPublic",
    "DiscrepanciesPublic",
    "DiscrepancyPublic",
    "DiscrepancyResolve",
    "DiscrepancyStatus",
    "ItemQuantity",
    "LocationAddressSet",
    "LocationCreate",
    "LocationPublic",
    "LocationsPublic",
    "MovementPublic",
    "MovementsPublic",
    "QuarantineCreate",
    "QuarantinePublic",
    "QuarantineRelease",
    "ReceiptCreate",
    "ReceiptPublic",
    "ReservationPublic",
    "ShortagePublic",
    "StockLevel",
    "StockLevelRow",
    "StockLevelsPublic",
    "StockPublic",
    "StockTotals",
    "discrepancy_public",
    "stock_public",
]


def _not_zero(value: int) -> int:
    if value == 0:
        raise ValueError("must not be 0: an adjustment changes on hand")
    return value


class LocationCreate(BaseModel):
    """A place that holds stock; lower priority numbers are preferred when routing."""

    model_config = ConfigDict(extra="forbid")

    location_id: LocationId
    name: str = Field(min_length=1, max_length=200)
    country: CountryCode
    priority: StrictInt = Field(100, ge=0, le=1_000_000)


class AddressFields(BaseModel):
    """A location's postal address: printed as ship-from on its labels."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(None, max_length=200)
    city: str = Field(min_length=1, max_length=200)
    postal_code: str = Field(min_length=1, max_length=20)
    region: str | None = Field(None, max_length=100)
    country: CountryCode


class LocationAddressSet(BaseModel):
    """Where a location is; without coordinates, routing places it by postal code or country."""

    model_config = ConfigDict(extra="forbid")

    address: AddressFields
    latitude: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False, strict=True)
    longitude: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False, strict=True)

    @model_validator(mode="after")
    def _both_or_neither(self) -> LocationAddressSet:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give latitude and longitude together, or neither")
        return self


class LocationPublic(BaseModel):
    """A location as ops see it."""

    model_config = ConfigDict(from_attributes=True)

    location_id: str
    name: str
    country: str
    priority: int
    active: bool
    address: AddressFields | None = None
    latitude: float | None = None
    longitude: float | None = None


class LocationsPublic(BaseModel):
    """Every location, preferred first."""

    data: list[LocationPublic]
    count: int


class ReceiptCreate(BaseModel):
    """Units that arrived at a location."""

    model_config = ConfigDict(extra="forbid")

    location_id: LocationId
    sku: Sku
    quantity: Quantity
    reference: str | None = Field(None, min_length=1, max_length=200)
    bin: BinCode | None = Field(None, description="Put the units away into this bin")


class AdjustmentCreate(BaseModel):
    """A correction of on hand after a count, damage or loss; always with a reason."""

    model_config = ConfigDict(extra="forbid")

    location_id: LocationId
    sku: Sku
    quantity_delta: Annotated[
        StrictInt, Field(ge=-1_000_000, le=1_000_000), AfterValidator(_not_zero)
    ]
    reason: Reason


class StockLevel(BaseModel):
    """Units of one SKU at one location, and its bin there."""

    location_id: str
    on_hand: int
    reserved: int
    available: int
    missing: int = Field(0, description="Reported missing by a short pick, not yet resolved")
    safety_stock: int = Field(0, description="Kept back from channels' ATP (orders may use it)")
    quarantined: int = Field(
        0, description="Damaged or held back: not on hand, never available, until ops decide"
    )
    bin: str | None = None
    active: bool = Field(
        True, description="the location takes orders; a closed one's units are in no total"
    )
    in_transit: int = Field(0, description="Transferred here, not yet received: not on hand")
    on_order: int = Field(0, description="On purchase orders for here, not yet received")


class StockTotals(BaseModel):
    """Units of one SKU over all locations."""

    on_hand: int
    reserved: int
    available: int


class QuarantineCreate(BaseModel):
    """Sellable units at a location put into quarantine by hand; always with a reason."""

    model_config = ConfigDict(extra="forbid")

    location_id: LocationId
    sku: Sku
    quantity: Quantity
    reason: Reason


class QuarantineRelease(QuarantineCreate):
    """Ops' decision on quarantined units: back to sellable, or scrapped."""

    to: Literal["sellable", "scrap"]


class QuarantinePublic(BaseModel):
    """A recorded quarantine movement and the SKU's stock after it."""

    movement_id: UUID
    location_id: str
    sku: str
    quantity: int
    reason: str
    to: Literal["quarantine", "sellable", "scrap"]
    stock: StockPublic


class StockPublic(BaseModel):
    """A SKU's stock per location and in total."""

    sku: str
    locations: list[StockLevel]
    total: StockTotals
    in_transit: int = Field(
        0, description="Over the network: between locations, left one, not yet received"
    )
    on_order: int = Field(0, description="Over the network: on purchase orders, not received")


class ReceiptPublic(BaseModel):
    """A recorded receipt and the SKU's stock after it."""

    receipt_id: UUID
    location_id: str
    sku: str
    quantity: int
    reference: str | None
    bin: str | None
    stock: StockPublic


class AdjustmentPublic(BaseModel):
    """A recorded adjustment and the SKU's stock after it."""

    adjustment_id: UUID
    location_id: str
    sku: str
    quantity_delta: int
    reason: str
    stock: StockPublic


class StockLevelRow(StockLevel):
    """One (sku, location) row of the stock-level view."""

    sku: str
    updated_at: datetime


class StockLevelsPublic(Page[StockLevelRow]):
    """A page of stock levels."""


class MovementPublic(BaseModel):
    """One level change of a SKU at a location: what moved, why, and the level after it."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    location_id: str
    kind: str = Field(
        description="receipt, adjustment, reserved, released, shipped, returned, short_pick,"
        " quarantined, quarantine_released, transfer_shipped, transfer_received,"
        " transfer_cancelled or purchase_received"
    )
    quantity: int = Field(description="Units moved; an adjustment's is signed")
    cause: dict[str, str | None] = Field(
        description="Ids of what caused it as the event carries them: receipt_id and"
        " reference, adjustment_id and reason, order_id, shipment_id, return_id,"
        " discrepancy_id, transfer_id with to_location or from_location, po_id"
    )
    on_hand: int
    reserved: int
    missing: int
    available: int
    bin: str | None


class MovementsPublic(Page[MovementPublic]):
    """A page of a SKU's movements, newest first."""


class ItemQuantity(BaseModel):
    """Units of one SKU."""

    sku: str
    quantity: int


class AllocationPublic(ItemQuantity):
    """Units of one SKU held at one location."""

    location_id: str


class ShortagePublic(BaseModel):
    """A SKU that could not be filled."""

    sku: str
    requested: int
    available: int


class ReservationPublic(BaseModel):
    """An order's reservation: what it asked for, what it holds, what it waits for."""

    order_id: UUID
    status: ReservationStatus
    lines: list[ItemQuantity]
    allocations: list[AllocationPublic]
    shortages: list[ShortagePublic]
    explanation: dict[str, Any] | None = Field(
        None, description="why routing chose these locations (README, Routing rules)"
    )
    promise_date: datetime | None = Field(
        None,
        description="Backordered: when the purchase orders and transfers on the way are"
        " expected to bring its missing units (first come first served); absent: not known",
    )
    created_at: datetime
    updated_at: datetime


def stock_public(stock: Stock, inactive: frozenset[str] = frozenset()) -> StockPublic:
    """The response body of a SKU's stock, from its levels and bins per location; the totals
    leave out the `inactive` (closed) locations, whose units no order can get."""
    locations = [
        StockLevel(
            location_id=loc,
            on_hand=level["on_hand"],
            reserved=level["reserved"],
            missing=level["missing"],
            safety_stock=stock.safety_stock(loc),
            quarantined=stock.quarantined(loc),
            available=level["on_hand"] - level["reserved"] - level["missing"],
            bin=stock.bins.get(loc),
            active=loc not in inactive,
            in_transit=stock.in_transit(loc),
            on_order=stock.on_order(loc),
        )
        for loc, level in sorted(_with_bins(stock.levels, stock.bins, stock.incoming()).items())
    ]
    open_ones = [level for level in locations if level.active]
    total = StockTotals(
        on_hand=sum(level.on_hand for level in open_ones),
        reserved=sum(level.reserved for level in open_ones),
        available=sum(level.available for level in open_ones),
    )
    return StockPublic(
        sku=stock.sku,
        locations=locations,
        total=total,
        in_transit=sum(level.in_transit for level in locations),
        on_order=sum(level.on_order for level in locations),
    )


def _with_bins(
    levels: dict[str, Level], bins: dict[str, str], incoming: Mapping[str, Incoming]
) -> dict[str, Level]:
    """Levels per location, plus empty ones where the SKU has a bin or units on the way but
    no stock yet."""
    empty: Level = {"on_hand": 0, "reserved": 0, "missing": 0}
    on_the_way = {supply["location_id"]: empty for supply in incoming.values()}
    return {**on_the_way, **{loc: empty for loc in bins}, **levels}
