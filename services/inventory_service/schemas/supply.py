"""Request and response models of transfers and purchase orders (supply on the way)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from services.inventory_service.domain import (
    Line,
    PurchaseOrder,
    PurchaseOrderStatus,
    Transfer,
    TransferStatus,
)
from services.inventory_service.schemas.fields import LocationId, Quantity, Reason
from shared.events.base import Sku
from shared.runtime.api import Page

SupplyId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: object) -> object:
    """Only an RFC 3339 time with its offset: pydantic alone would read 1.5 as 1970."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 time with an offset, such as 2026-01-31T12:00:00Z")
    return value


_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _plausible(value: datetime) -> datetime:
    """A time in UTC, this century: a year-1 date is a typo (and would not survive UTC)."""
    if not _EARLIEST <= value < _LATEST:
        raise ValueError("must be between 2000-01-01 and 2100-01-01")
    return value.astimezone(UTC)


Time = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(_plausible)]


class SupplyLine(BaseModel):
    """Units of one SKU."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: Quantity


Lines = Annotated[list[SupplyLine], Field(min_length=1, max_length=200)]


def lines_of(lines: list[SupplyLine]) -> list[Line]:
    """The domain's lines of a request's."""
    return [{"sku": line.sku, "quantity": line.quantity} for line in lines]


class TransferCreate(BaseModel):
    """Units leaving one location for another; all of them must be available at the source."""

    model_config = ConfigDict(extra="forbid")

    transfer_id: SupplyId
    from_location: LocationId
    to_location: LocationId
    lines: Lines
    expected_at: Time | None = Field(
        None, description="When the units should arrive; without it no order is promised them"
    )

    @model_validator(mode="after")
    def _two_places(self) -> Self:
        if self.from_location == self.to_location:
            raise ValueError("from_location and to_location must differ")
        return self


class TransferReceipt(BaseModel):
    """Units of a transfer that arrived; a receipt_id (or Idempotency-Key) makes it once."""

    model_config = ConfigDict(extra="forbid")

    receipt_id: SupplyId | None = None
    lines: Lines


class TransferCancel(BaseModel):
    """Why a transfer is called off."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class SupplyLinePublic(BaseModel):
    """Units of one SKU on a transfer or purchase order: sent or ordered, and received."""

    sku: str
    quantity: int
    received: int
    outstanding: int = Field(description="Still in transit, or still on order")


def _lines_public(
    lines: list[Any], received: dict[str, int], closed: bool
) -> list[SupplyLinePublic]:
    merged: dict[str, int] = {}
    for line in lines:
        merged[line["sku"]] = merged.get(line["sku"], 0) + line["quantity"]
    return [
        SupplyLinePublic(
            sku=sku,
            quantity=quantity,
            received=received.get(sku, 0),
            outstanding=0 if closed else quantity - received.get(sku, 0),
        )
        for sku, quantity in sorted(merged.items())
    ]


class TransferPublic(BaseModel):
    """A transfer as ops see it."""

    transfer_id: str
    status: TransferStatus
    from_location: str
    to_location: str
    lines: list[SupplyLinePublic]
    expected_at: datetime | None
    cancel_reason: str | None = None
    shipped_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, transfer: Transfer) -> TransferPublic:
        """The body of a transfer, from its aggregate."""
        status = TransferStatus(transfer.status)
        return cls(
            transfer_id=transfer.transfer_id,
            status=status,
            from_location=transfer.from_location,
            to_location=transfer.to_location,
            lines=_lines_public(
                transfer.lines, transfer.received, status == TransferStatus.CANCELLED
            ),
            expected_at=transfer.expected_at,
            cancel_reason=transfer.cancel_reason,
            shipped_at=transfer.created_on,
            updated_at=transfer.modified_on,
        )

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> TransferPublic:
        """The body of a transfer, from its view row."""
        closed = row["status"] == TransferStatus.CANCELLED
        return cls(**{**row, "lines": _lines_public(row["lines"], row["received"], closed)})


class TransfersPublic(Page[TransferPublic]):
    """A page of transfers, newest first."""


class PurchaseOrderCreate(BaseModel):
    """Units ordered from a supplier for a location, expected then."""

    model_config = ConfigDict(extra="forbid")

    po_id: SupplyId
    location_id: LocationId
    supplier: str = Field(min_length=1, max_length=200)
    lines: Lines
    expected_at: Time


class PurchaseOrderReschedule(BaseModel):
    """The time the supplier now names for what is still on order."""

    model_config = ConfigDict(extra="forbid")

    expected_at: Time


class PurchaseOrderReceipt(BaseModel):
    """Units of a purchase order that arrived, named by the receipt (a repeat records nothing)."""

    model_config = ConfigDict(extra="forbid")

    receipt_id: SupplyId
    lines: Lines


class PurchaseOrderPublic(BaseModel):
    """A purchase order as ops see it."""

    po_id: str
    status: PurchaseOrderStatus
    location_id: str
    supplier: str
    lines: list[SupplyLinePublic]
    expected_at: datetime
    placed_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, order: PurchaseOrder) -> PurchaseOrderPublic:
        """The body of a purchase order, from its aggregate."""
        return cls(
            po_id=order.po_id,
            status=PurchaseOrderStatus(order.status),
            location_id=order.location_id,
            supplier=order.supplier,
            lines=_lines_public(order.lines, order.received, False),
            expected_at=order.expected_at,
            placed_at=order.created_on,
            updated_at=order.modified_on,
        )

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> PurchaseOrderPublic:
        """The body of a purchase order, from its view row."""
        return cls(**{**row, "lines": _lines_public(row["lines"], row["received"], False)})


class PurchaseOrdersPublic(Page[PurchaseOrderPublic]):
    """A page of purchase orders, the soonest expected first."""
