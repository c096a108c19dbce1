"""HTTP models of pick lists and bins."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.fulfillment_service.domain import PickConfirmation as Confirmed
from services.fulfillment_service.domain import PickList, PickListStatus, description_of
from services.fulfillment_service.schemas.shipments import Carrier, Sku
from shared.runtime.api import Page

LocationId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")
]


class PickListCreate(BaseModel):
    """Batch the oldest open shipments at a location into one walk."""

    model_config = ConfigDict(extra="forbid")

    location_id: LocationId
    max_shipments: int = Field(20, ge=1, le=500, description="Slots (totes) on the cart.")
    carrier: Carrier | None = Field(None, description="The carrier these parcels will go with.")


class PickSlotPublic(BaseModel):
    """Units of a line that go into one slot."""

    slot: int
    shipment_id: UUID
    quantity: int
    picked: int | None = None


class PickLinePublic(BaseModel):
    """One stop on the walk."""

    sku: str
    bin: str | None
    description: str
    quantity: int
    picked: int | None
    slots: list[PickSlotPublic]


class SlotPublic(BaseModel):
    """A slot (tote) on the cart and the shipment it collects for."""

    slot: int
    shipment_id: UUID
    order_id: UUID
    order_number: str | None
    dropped: bool


class PickListPublic(BaseModel):
    """A pick list with its lines in pick-path order."""

    pick_list_id: UUID
    location_id: str
    status: PickListStatus
    carrier: str | None
    slots: list[SlotPublic]
    lines: list[PickLinePublic]
    created_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, pick_list: PickList, labels: Mapping[str, str] | None = None) -> PickListPublic:
        """The pick list as the API shows it, from the aggregate."""
        shares = {
            (shipment_id, pick["sku"]): pick["picked"]
            for shipment_id, picks in pick_list.picks_by_shipment().items()
            for pick in picks
        }
        lines = []
        for line in pick_list.lines:
            sku, confirmed = line["sku"], pick_list.confirmed.get(line["sku"])
            slots = [
                PickSlotPublic(
                    slot=slot["slot"],
                    shipment_id=UUID(slot["shipment_id"]),
                    quantity=slot["quantity"],
                    picked=None if confirmed is None else shares[(slot["shipment_id"], sku)],
                )
                for slot in pick_list.active_slots(line)
            ]
            lines.append(
                PickLinePublic(
                    sku=sku,
                    bin=line["bin"],
                    description=description_of(sku, labels),
                    quantity=pick_list.requested(line),
                    picked=confirmed,
                    slots=slots,
                )
            )
        dropped = set(pick_list.dropped)
        return cls(
            pick_list_id=pick_list.id,
            location_id=pick_list.location_id,
            status=pick_list.status,
            carrier=pick_list.carrier,
            slots=[
                SlotPublic(
                    slot=s["slot"],
                    shipment_id=UUID(s["shipment_id"]),
                    order_id=UUID(s["order_id"]),
                    order_number=s["order_number"],
                    dropped=s["shipment_id"] in dropped,
                )
                for s in pick_list.slots
            ],
            lines=lines,
            created_at=pick_list.created_at,
            completed_at=pick_list.completed_at,
            cancelled_at=pick_list.cancelled_at,
        )


class PickListSummary(BaseModel):
    """A pick list in a list."""

    pick_list_id: UUID
    location_id: str
    status: PickListStatus
    carrier: str | None
    shipment_count: int
    line_count: int
    unit_count: int
    created_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None


class PickListsPublic(Page[PickListSummary]):
    """A page of pick lists."""


class PickConfirmation(BaseModel):
    """Units found for one line."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    picked: int = Field(ge=0, le=1_000_000)


class PickListConfirm(BaseModel):
    """Picked units for some or all lines of a pick list."""

    model_config = ConfigDict(extra="forbid")

    lines: list[PickConfirmation] = Field(min_length=1, max_length=5000)

    def confirmations(self) -> list[Confirmed]:
        """The picks as the domain takes them."""
        return [Confirmed(sku=line.sku, picked=line.picked) for line in self.lines]

    @field_validator("lines")
    @classmethod
    def _each_sku_once(cls, lines: list[PickConfirmation]) -> list[PickConfirmation]:
        skus = [line.sku for line in lines]
        if len(set(skus)) != len(skus):
            raise ValueError("each SKU is confirmed once per request")
        return lines


class PickListCancel(BaseModel):
    """Why the walk will not happen."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field("cancelled by operator", min_length=1, max_length=200)


class BinPublic(BaseModel):
    """Where a SKU lives at a location."""

    location_id: str
    sku: str
    bin: str
    updated_at: datetime


class BinsPublic(Page[BinPublic]):
    """A page of bins."""
