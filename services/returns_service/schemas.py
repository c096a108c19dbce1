"""HTTP request and response models of the returns API."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.returns_service.domain import (
    Condition,
    ItemQuantity,
    ReceiptLine,
    RefundKind,
    RefundReason,
    ReturnLine,
    ReturnStatus,
)
from shared.events.base import Sku, UtcTime
from shared.money import MINOR_UNITS, money
from shared.runtime.api import Page

Quantity = Field(gt=0, le=100_000)


class ReturnLineCreate(BaseModel):
    """Units of one SKU the customer wants to send back, and why."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Quantity
    reason: str = Field(min_length=1, max_length=200)

    def value(self) -> ReturnLine:
        """The line as the domain takes it."""
        return ReturnLine(sku=self.sku, quantity=self.quantity, reason=self.reason)


class ReturnCreate(BaseModel):
    """A request for a return (RMA) of shipped units of one order."""

    model_config = ConfigDict(extra="forbid")

    order_id: UUID
    lines: list[ReturnLineCreate] = Field(min_length=1, max_length=200)

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[ReturnLineCreate]) -> list[ReturnLineCreate]:
        skus = [line.sku for line in lines]
        duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
        if duplicates:
            raise ValueError(f"one line per SKU; repeated: {', '.join(duplicates)}")
        return lines

    def return_lines(self) -> list[ReturnLine]:
        """The lines as the domain takes them."""
        return [line.value() for line in self.lines]


class ReceiptLineCreate(BaseModel):
    """Units of one SKU that came back, in one condition."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Quantity
    condition: Condition

    def value(self) -> ReceiptLine:
        """The line as the domain takes it."""
        return ReceiptLine(sku=self.sku, quantity=self.quantity, condition=self.condition)


class ReturnReceive(BaseModel):
    """What arrived in a returned parcel, as inspected."""

    model_config = ConfigDict(extra="forbid")

    lines: list[ReceiptLineCreate] = Field(min_length=1, max_length=200)

    def receipt_lines(self) -> list[ReceiptLine]:
        """The lines as the domain takes them."""
        return [line.value() for line in self.lines]


class RefundLineCreate(BaseModel):
    """Units of one SKU to refund without a return."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Quantity

    def value(self) -> ItemQuantity:
        """The line as the domain takes it."""
        return ItemQuantity(sku=self.sku, quantity=self.quantity)


NoReturnReason = Literal["short_pick", "lost_parcel", "goodwill", "other"]


class RefundCreate(BaseModel):
    """Money back without a return: an amount, units (refunded from what was paid for them, as
    a return's are: short-picked units for `short_pick`, shipped ones otherwise), or both (that
    much for those units)."""

    model_config = ConfigDict(extra="forbid")

    order_id: UUID
    reason: NoReturnReason
    amount: Decimal | None = Field(
        None,
        gt=0,
        lt=Decimal("1e12"),
        allow_inf_nan=False,
        description="in the order's currency and its minor units; at most what is left to refund",
    )
    lines: list[RefundLineCreate] | None = Field(None, min_length=1, max_length=200)
    note: str | None = Field(None, min_length=1, max_length=1000)

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(
        cls, lines: list[RefundLineCreate] | None
    ) -> list[RefundLineCreate] | None:
        skus = [line.sku for line in lines or []]
        duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
        if duplicates:
            raise ValueError(f"one line per SKU; repeated: {', '.join(duplicates)}")
        return lines

    @model_validator(mode="after")
    def _amount_or_lines(self) -> RefundCreate:
        if self.amount is None and not self.lines:
            raise ValueError("give an amount, lines, or both")
        return self

    def refund_lines(self) -> list[ItemQuantity] | None:
        """The lines as the domain takes them (None: an amount only)."""
        return [line.value() for line in self.lines] if self.lines else None


class ReturnLinePublic(BaseModel):
    """A requested line with what came back of it so far."""

    sku: str
    reason: str
    requested: int
    received: int
    sellable: int
    damaged: int


class ReceivedLinePublic(BaseModel):
    """Units that came back in one condition, and the location they go back to."""

    sku: str
    quantity: int
    condition: Condition
    location_id: str


class ReceiptPublic(BaseModel):
    """One parcel received against a return."""

    sequence: int
    lines: list[ReceivedLinePublic]
    received_at: UtcTime


def _in_minor_units(value: Decimal, currency: str) -> Decimal:
    """An amount shown with its currency's own places ("0.00" EUR, "2.470" KWD, "2400" JPY)."""
    return money(value, currency) if currency in MINOR_UNITS else value


class RefundLinePublic(BaseModel):
    """Money back for units of one SKU."""

    sku: str
    quantity: int
    amount: Decimal


class RefundPublic(BaseModel):
    """Money back for one receipt of a return, or without a return (no return_id, no sequence);
    capped says it was cut to what was left of what was paid."""

    refund_id: UUID
    return_id: UUID | None
    order_id: UUID
    sequence: int | None
    reason: RefundReason = RefundReason.RETURN
    refund_kind: RefundKind = Field(
        RefundKind.UNITS,
        description="units: the lines' units are refunded; amount: money only, the lines say"
        " which SKUs it is counted against",
    )
    amount: Decimal
    full_amount: Decimal
    capped: bool
    currency: str
    lines: list[RefundLinePublic]
    note: str | None = None
    refunded_at: UtcTime

    @model_validator(mode="after")
    def _currency_places(self) -> RefundPublic:
        self.amount = _in_minor_units(self.amount, self.currency)
        self.full_amount = _in_minor_units(self.full_amount, self.currency)
        for line in self.lines:
            line.amount = _in_minor_units(line.amount, self.currency)
        return self


class RefundsPublic(Page[RefundPublic]):
    """A page of refunds."""


class RefundableLinePublic(BaseModel):
    """A SKU of a shipped order: units shipped and short, and what can still be refunded."""

    sku: str
    shipped: int
    returnable: int = Field(description="shipped units not on a return nor refunded without one")
    short: int
    short_refundable: int = Field(description="short units not refunded yet")
    paid: Decimal = Field(description="what was paid for its shipped and short units")


class RefundablePublic(BaseModel):
    """What an order paid, what went back of it, and what can still be refunded."""

    order_id: UUID
    currency: str
    paid: Decimal
    refunded: Decimal
    refundable: Decimal
    lines: list[RefundableLinePublic]

    @model_validator(mode="after")
    def _currency_places(self) -> RefundablePublic:
        self.paid = _in_minor_units(self.paid, self.currency)
        self.refunded = _in_minor_units(self.refunded, self.currency)
        self.refundable = _in_minor_units(self.refundable, self.currency)
        for line in self.lines:
            line.paid = _in_minor_units(line.paid, self.currency)
        return self


class ReturnPublic(BaseModel):
    """A return (RMA) as ops see it."""

    return_id: UUID
    order_id: UUID
    status: ReturnStatus
    currency: str
    lines: list[ReturnLinePublic]
    receipts: list[ReceiptPublic]
    refunds: list[RefundPublic]
    refunded_total: Decimal
    requested_at: UtcTime
    updated_at: UtcTime

    @model_validator(mode="after")
    def _currency_places(self) -> ReturnPublic:
        self.refunded_total = _in_minor_units(self.refunded_total, self.currency)
        return self


class ReturnsPublic(Page[ReturnPublic]):
    """A page of returns."""
