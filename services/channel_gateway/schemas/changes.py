"""News kept of channel orders never taken in, as ops see and dismiss it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from services.channel_gateway.application.canonical import Edge
from services.channel_gateway.domain import ChannelChangeStatus
from shared.runtime.api import Page


class ChannelNewsPublic(BaseModel):
    """One piece of the channel's news: a payment state, a cancellation or a new ship-to."""

    kind: str = Field(description="payment, cancellation or ship_to")
    reference: str | None = Field(description="the channel's id of the news (its webhook event id)")
    received_at: datetime
    payment_state: str | None = None
    reason: str | None = Field(None, description="a cancellation's, as the channel gave it")
    shipping_address: dict[str, Any] | None = None


class ChannelChangePublic(BaseModel):
    """News of one channel order the gateway never took in: the latest of each kind, kept until
    the order comes (then applied to it) or ops dismiss it."""

    change_id: UUID
    order_id: UUID = Field(description="the id the order gets when it is taken in")
    channel: str
    external_id: str
    status: ChannelChangeStatus
    reason: str = Field(description="why it was kept rather than applied")
    news: dict[str, ChannelNewsPublic] = Field(description="by kind, the latest of each")
    applied: list[str] | None = Field(None, description="the kinds that changed the order")
    applied_at: datetime | None = None
    dismiss_reason: str | None = None
    dismissed_at: datetime | None = None
    kept_at: datetime
    updated_at: datetime


class ChannelChangesPublic(Page[ChannelChangePublic]):
    """A page of kept channel news."""


class ChangeDismiss(Edge):
    """Why the kept news needs nothing (e.g. an order from before the channel was connected)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ChannelChangeDismissed(BaseModel):
    """The kept news as it stands after the dismissal."""

    change_id: UUID
    status: ChannelChangeStatus
