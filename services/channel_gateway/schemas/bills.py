"""Bills over HTTP: what a seller writes on one, and bills as sellers list them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from services.channel_gateway.application.canonical import (
    Currency,
    Edge,
    OptionalText500,
    Price,
    Quantity,
    Sku,
    Text,
    minor_units,
)
from services.channel_gateway.domain import BillStatus, ChatKind
from shared.runtime.api import Page

Note = Annotated[str | None, Field(None, max_length=2000)]


class BillLineCreate(Edge):
    """One line: a SKU, its units and unit price (in the bill's currency)."""

    sku: Sku
    quantity: Quantity
    unit_price: Price
    title: OptionalText500 = None


class BillCreate(Edge):
    """A bill a seller writes beside a chat; its link goes to the customer."""

    chat: ChatKind
    handle: Text = Field(description="the customer's name or id in the chat (@somchai, a LINE id)")
    customer_name: Text
    currency: Currency  # before the amounts, so they can be checked against it
    lines: list[BillLineCreate] = Field(min_length=1, max_length=200)
    shipping_fee: Price = Decimal(0)
    discount: Price = Decimal(0)
    note: Note = None

    @model_validator(mode="after")
    def _amounts_fit(self) -> BillCreate:
        """Every amount exact in the currency's minor units; the discount within the items."""
        step = Decimal(1).scaleb(-minor_units(self.currency))
        amounts = [("shipping_fee", self.shipping_fee), ("discount", self.discount)] + [
            (f"lines.{i}.unit_price", line.unit_price) for i, line in enumerate(self.lines)
        ]
        for where, amount in amounts:
            if amount != amount.quantize(step):
                raise ValueError(f"{where} {amount} has more places than {self.currency} has")
        items = sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))
        if self.discount > items:
            raise ValueError(f"discount {self.discount} is more than the items ({items})")
        return self


class BillCreated(BaseModel):
    """The new bill and its link: the link is shown once (only its token's hash is kept)."""

    bill_id: UUID
    number: str
    link: str
    total: Decimal
    currency: str
    expires_at: datetime


class BillPaymentConfirm(Edge):
    """The seller saw the money of a transfer or PromptPay payment arrive (its slip checked)."""

    reference: Text = Field(description="the bank's reference of the transfer, or the slip's")


class BillPublic(BaseModel):
    """A bill as the seller sees it."""

    bill_id: UUID
    number: str
    status: BillStatus
    chat: str
    handle: str
    customer_name: str
    currency: str
    lines: list[dict[str, Any]]
    shipping_fee: Decimal
    discount: Decimal
    total: Decimal
    note: str | None
    expires_at: datetime
    created_by: str
    confirmation: dict[str, Any] | None
    order_id: UUID | None
    payment_method: str | None
    slip: dict[str, Any] | None
    payment: dict[str, Any] | None
    shipments: list[dict[str, Any]]
    closed_reason: str | None
    created_at: datetime
    updated_at: datetime


class BillsPublic(Page[BillPublic]):
    """A page of bills."""
