"""Deliveries (news pushed to channels) and CSV imports, as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.channel_gateway.application.canonical import Channel, Edge
from services.channel_gateway.domain import ChannelOrderStatus, DeliveryAction, DeliveryStatus
from shared.runtime.api import Page


class DeliveryPublic(BaseModel):
    """One piece of news for a channel and how its delivery went."""

    delivery_id: UUID
    order_id: UUID
    channel: str
    external_id: str
    action: DeliveryAction
    status: DeliveryStatus
    attempts: int
    due_at: datetime | None
    last_error: str | None
    outcome: str | None
    details: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class DeliveriesPublic(Page[DeliveryPublic]):
    """A page of deliveries."""


class DeliveryRetried(BaseModel):
    """A delivery put back in line for another round of attempts."""

    delivery_id: UUID
    status: DeliveryStatus


class ImportRow(Edge):
    """A CSV row with its line number in the file (the header is line 1)."""

    line: int = Field(ge=1, le=1_000_000)
    fields: dict[str, Annotated[str, Field(max_length=500)]]


class ImportRequest(Edge):
    """Rows of a phone or mail order file, whole orders per request."""

    channel: Channel
    rows: list[ImportRow] = Field(min_length=1, max_length=5000)


class ImportedOrder(BaseModel):
    """What became of one order_ref of the file."""

    order_ref: str
    lines: list[int]
    # What intake made of it, or that it was there before, or that a row of it was bad.
    status: ChannelOrderStatus | Literal["duplicate", "rejected"]
    order_id: UUID | None = None
    reasons: list[str] = []


class RowProblem(BaseModel):
    """A row that was not imported, and why."""

    line: int
    reason: str


class ImportResult(BaseModel):
    """The outcome of an import request, per order and per bad row."""

    orders: list[ImportedOrder]
    errors: list[RowProblem]


class WebhookAccepted(BaseModel):
    """What the gateway did with a webhook (channels only look at the 2xx)."""

    status: str
    order_id: UUID | None = None
    duplicate: bool = False
    # News of an order never taken in: the record it is kept in (GET /v1/channel-changes/{id}).
    change_id: UUID | None = Field(None, exclude_if=lambda value: value is None)
