"""HTTP request and response models of the order API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.order_service.domain import OrderStatus
from shared.runtime.api import Page


class TimelineEntry(BaseModel):
    """One thing that happened to an order."""

    at: datetime
    event: str
    detail: dict[str, Any]


class OrderLinePublic(BaseModel):
    """An ordered line."""

    sku: str
    quantity: int
    unit_price: Decimal


class OrderPublic(BaseModel):
    """An order as ops see it."""

    model_config = ConfigDict(from_attributes=True)

    order_id: UUID
    channel: str
    external_id: str
    status: OrderStatus
    currency: str
    customer: dict[str, Any]
    shipping_address: dict[str, Any]
    lines: list[OrderLinePublic]
    allocations: list[dict[str, Any]]
    shipments: list[dict[str, Any]]
    returned: dict[str, int]
    short: dict[str, int] = Field(
        default_factory=dict,
        description="Units per SKU a picker did not find; they did not ship (partial fulfillment)",
    )
    refunded_total: Decimal
    placed_at: datetime
    updated_at: datetime
    timeline: list[TimelineEntry] = []


class OrdersPublic(Page[OrderPublic]):
    """A page of orders."""


class OrderCancel(BaseModel):
    """Why an order is cancelled."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field("cancelled by operator", min_length=1, max_length=200)


class OrderCancelled(BaseModel):
    """The order's status after a cancel request."""

    order_id: UUID
    status: OrderStatus
