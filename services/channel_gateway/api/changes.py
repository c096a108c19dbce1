"""Channel changes: news of orders never taken in, kept for ops to see, applied or dismissed."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter

from services.channel_gateway.api.deps import AppDep, ViewsDep
from services.channel_gateway.domain import ChannelChangeStatus
from services.channel_gateway.schemas import (
    ChangeDismiss,
    ChannelChangeDismissed,
    ChannelChangePublic,
    ChannelChangesPublic,
)
from shared.runtime.api import PageQuery, Problem, links, page_query, problems

router = APIRouter(prefix="/channel-changes", tags=["channel changes"])
CHANGE_OPERATIONS = (
    "GET /v1/channel-changes/{change_id}",
    "POST /v1/channel-changes/{change_id}/dismiss",
)


@router.get(
    "", response_model=ChannelChangesPublic, responses=links(200, *CHANGE_OPERATIONS, at="/data/0")
)
def list_channel_changes(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query()],
    channel: str | None = None,
    external_id: str | None = None,
    status: ChannelChangeStatus | None = None,
) -> ChannelChangesPublic:
    """News of orders never taken in, latest first, by channel, the channel's order id and status
    (kept: waiting for its order; applied: the order came and took it; dismissed: set aside)."""
    rows, total = views.list_changes(
        channel=channel,
        external_id=external_id,
        status=status,
        limit=page.limit,
        offset=page.offset,
    )
    return ChannelChangesPublic.of(
        [ChannelChangePublic.model_validate(r) for r in rows], total, page
    )


@router.get("/{change_id}", response_model=ChannelChangePublic)
def get_channel_change(change_id: UUID, views: ViewsDep) -> ChannelChangePublic:
    """One record of kept news, with the latest news of each kind."""
    row = views.get_change(change_id)
    if row is None:
        raise Problem(404, "Channel change not found", f"no kept channel news {change_id}")
    return ChannelChangePublic.model_validate(row)


@router.post("/{change_id}/dismiss", response_model=ChannelChangeDismissed, responses=problems(409))
def dismiss_channel_change(
    change_id: UUID, body: ChangeDismiss, app: AppDep
) -> ChannelChangeDismissed:
    """Set kept news aside, with why; dismissed again changes nothing, applied news gets 409.
    Should its order come after all, the news is still applied: it is the channel's word."""
    change = app.changes.dismiss(change_id, body.reason)
    return ChannelChangeDismissed(change_id=change.id, status=change.status)
