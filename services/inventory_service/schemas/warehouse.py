"""HTTP request and response models of bins (put-away, moves) and stock discrepancies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.inventory_service.domain import Discrepancy, DiscrepancyStatus
from services.inventory_service.schemas.fields import BinCode, LocationId
from shared.events.base import Sku
from shared.runtime.api import Page

Note = Annotated[str, Field(min_length=1, max_length=500)]


class BinAssign(BaseModel):
    """Put a SKU away into a bin at a location, or move it there from its old bin."""

    model_config = ConfigDict(extra="forbid")

    location_id: LocationId
    sku: Sku
    bin: BinCode


class BinAssignmentPublic(BaseModel):
    """A SKU's bin at a location after a put-away or move."""

    location_id: str
    sku: str
    bin: str
    previous_bin: str | None
    moved: bool = Field(description="False when the SKU was already in this bin")


class BinRow(BaseModel):
    """One SKU and its bin."""

    sku: str
    bin: str


class BinsPublic(Page[BinRow]):
    """A page of a location's SKUs with their bins, in pick-path order."""

    location_id: str


class DiscrepancyResolve(BaseModel):
    """What ops found when they checked the bin."""

    model_config = ConfigDict(extra="forbid")

    note: Note | None = None


class DiscrepancyPublic(BaseModel):
    """Units a picker did not find: a stock adjustment proposed to ops, and their decision."""

    discrepancy_id: UUID
    status: DiscrepancyStatus
    sku: str
    location_id: str
    bin: str | None
    quantity: int = Field(description="Units missing (expected minus picked)")
    expected: int
    picked: int
    order_id: UUID
    shipment_id: UUID
    pick_list_id: UUID
    note: str | None
    proposed_at: datetime
    resolved_at: datetime | None


class DiscrepanciesPublic(Page[DiscrepancyPublic]):
    """A page of discrepancies, oldest first."""


def discrepancy_public(discrepancy: Discrepancy) -> DiscrepancyPublic:
    """The response body of a discrepancy, from the aggregate."""
    resolved = discrepancy.status != DiscrepancyStatus.PROPOSED
    return DiscrepancyPublic(
        discrepancy_id=discrepancy.id,
        status=discrepancy.status,
        sku=discrepancy.sku,
        location_id=discrepancy.location_id,
        bin=discrepancy.bin,
        quantity=discrepancy.quantity,
        expected=discrepancy.expected,
        picked=discrepancy.picked,
        order_id=discrepancy.order_id,
        shipment_id=discrepancy.shipment_id,
        pick_list_id=discrepancy.pick_list_id,
        note=discrepancy.note,
        proposed_at=discrepancy.created_on,
        resolved_at=discrepancy.modified_on if resolved else None,
    )
