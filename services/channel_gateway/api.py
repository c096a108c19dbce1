"""Gateway HTTP API: canonical order intake, and channel orders as the OMS reported back."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from services.channel_gateway import domain
from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.schemas import (
    ChannelOrderAccepted,
    ChannelOrderCreate,
    ChannelOrderPublic,
    ChannelOrdersPublic,
)
from services.channel_gateway.views import ChannelOrderViews
from shared.runtime.api import Problem
from shared.runtime.application import retry_on_conflict

Status = Literal["accepted", "cancelled"]
ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    domain.ChannelOrderNotFoundError: (404, "Channel order not found"),
    domain.InvalidChannelOrderError: (422, "Invalid order"),
}


def get_app(request: Request) -> ChannelOrders:
    """The ChannelOrders application of this process."""
    return request.app.state.channel_orders


def get_views(request: Request) -> ChannelOrderViews:
    """The channel order read model of this process."""
    return request.app.state.views


AppDep = Annotated[ChannelOrders, Depends(get_app)]
ViewsDep = Annotated[ChannelOrderViews, Depends(get_views)]
intake = APIRouter(prefix="/orders", tags=["intake"])
router = APIRouter(prefix="/channel-orders", tags=["channel orders"])


@intake.post(
    "",
    response_model=ChannelOrderAccepted,
    status_code=202,
    responses={200: {"model": ChannelOrderAccepted, "description": "Already received"}},
)
def receive_order(
    order: ChannelOrderCreate, app: AppDep, response: Response
) -> ChannelOrderAccepted:
    """Take in a canonical order: 202 when new, 200 when this channel + external id was seen."""
    # The hot path of intake: one get and one save, never the view.
    result = retry_on_conflict(app.receive_order, **order.as_order())
    response.headers["Location"] = f"/v1/channel-orders/{result.order_id}"
    if not result.created:
        response.status_code = 200
    return ChannelOrderAccepted(order_id=result.order_id, status=result.status)


@router.get("", response_model=ChannelOrdersPublic)
def list_channel_orders(
    views: ViewsDep,
    channel: str | None = None,
    external_id: str | None = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ChannelOrdersPublic:
    """Channel orders, newest first, filtered by channel, external id and status."""
    rows, total = views.list_orders(
        channel=channel, external_id=external_id, status=status, limit=limit, offset=offset
    )
    return ChannelOrdersPublic(
        data=[ChannelOrderPublic.model_validate(r) for r in rows],
        count=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{order_id}", response_model=ChannelOrderPublic)
def get_channel_order(order_id: UUID, views: ViewsDep) -> ChannelOrderPublic:
    """One channel order with its shipments (tracking), cancellation and refunds."""
    row = views.get_order(order_id)
    if row is None:
        raise Problem(404, "Channel order not found", f"no channel order {order_id}")
    return ChannelOrderPublic.model_validate(row)
