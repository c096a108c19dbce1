"""Stock sync: what each channel should hold of a SKU, what it was told, how pushes fare."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.channel_gateway.application.canonical import Edge, Sku
from shared.runtime.api import Page

StockSyncStatus = Literal["synced", "pending", "retrying", "failed", "not_listed"]


class ChannelStockFigure(BaseModel):
    """A figure of a SKU for one channel: in all, and per our location (the channel's share)."""

    available: int
    locations: dict[str, int] = {}


class StockSyncPublic(BaseModel):
    """One SKU at one channel."""

    sku: str
    status: StockSyncStatus = Field(
        description="synced: the channel holds the figure; pending: waits for its turn (rate);"
        " retrying: the last push failed and is tried again at next_attempt_at; failed: given"
        " up on this figure (a newer one, or a retry, tries again); not_listed: the channel"
        " does not sell the SKU"
    )
    wanted: ChannelStockFigure
    stock_version: int
    changed_at: datetime
    pushed: ChannelStockFigure | None = None
    pushed_at: datetime | None = None
    attempts: int = 0
    last_attempt_at: datetime | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None


class StockSyncsPublic(Page[StockSyncPublic]):
    """A page of one channel's SKUs, and how many are in each status."""

    counts: dict[str, int] = {}


class StockRetry(Edge):
    """Which SKU to push again now (whatever the channel was told)."""

    sku: Sku


class StockSyncForced(BaseModel):
    """How many SKUs will be pushed again."""

    channel_id: str
    skus: int
