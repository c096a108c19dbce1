"""Stock sync: what each channel holds of each SKU, failed pushes, and pushing again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.channel_gateway.api.deps import ViewsDep
from services.channel_gateway.schemas import (
    StockRetry,
    StockSyncForced,
    StockSyncPublic,
    StockSyncsPublic,
)
from services.channel_gateway.schemas.stock_sync import StockSyncStatus
from shared.runtime.api import PageQuery, Problem, page_query, problems

router = APIRouter(prefix="/stock-sync", tags=["stock sync"])
ChannelIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")]


def _known(views: ViewsDep, channel_id: str) -> None:
    if views.get_connection_row(channel_id) is None:
        raise Problem(404, "Channel not found", f"no channel {channel_id}")


@router.get("/{channel_id}", response_model=StockSyncsPublic, responses=problems(404))
def list_stock_sync(
    channel_id: ChannelIdPath,
    views: ViewsDep,
    page: Annotated[PageQuery, page_query()],
    status: StockSyncStatus | None = None,
    sku: str | None = None,
) -> StockSyncsPublic:
    """Every SKU inventory told us about, with what this channel should hold and was told,
    by status (synced, pending, retrying, failed, not_listed); `counts` per status."""
    _known(views, channel_id)
    rows, total = views.stock_sync_page(
        channel_id, status=status, sku=sku, limit=page.limit, offset=page.offset
    )
    data = [StockSyncPublic.model_validate(row) for row in rows]
    return StockSyncsPublic(
        data=data,
        count=total,
        limit=page.limit,
        offset=page.offset,
        counts=views.stock_sync_counts(channel_id),
    )


@router.post(
    "/{channel_id}/retry",
    response_model=StockSyncForced,
    status_code=202,
    responses=problems(404),
)
def retry_stock(channel_id: ChannelIdPath, body: StockRetry, views: ViewsDep) -> StockSyncForced:
    """Push a SKU's latest figure to the channel again now (a failed or not listed one too)."""
    _known(views, channel_id)
    forced = views.force_stock_push(channel_id, body.sku)
    if not forced:
        raise Problem(404, "SKU not found", f"inventory never told us about {body.sku}")
    return StockSyncForced(channel_id=channel_id, skus=forced)


@router.post(
    "/{channel_id}/resync",
    response_model=StockSyncForced,
    status_code=202,
    responses=problems(404),
)
def resync_stock(channel_id: ChannelIdPath, views: ViewsDep) -> StockSyncForced:
    """Push every SKU's latest figure to the channel again, at the channel's rate."""
    _known(views, channel_id)
    return StockSyncForced(channel_id=channel_id, skus=views.force_stock_push(channel_id, None))
