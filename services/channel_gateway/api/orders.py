"""Canonical order intake, channel orders (held ones too) and their release."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response

from services.channel_gateway.api.deps import AppDep, ChannelsDep, ViewsDep
from services.channel_gateway.application import IntakeBatcher, Translation
from services.channel_gateway.domain import ChannelOrderStatus
from services.channel_gateway.schemas import (
    ChannelOrderAccepted,
    ChannelOrderCreate,
    ChannelOrderPublic,
    ChannelOrdersPublic,
)
from shared.runtime.api import PageQuery, Problem, component, links, page_query, problems

intake = APIRouter(prefix="/orders", tags=["intake"])
router = APIRouter(prefix="/channel-orders", tags=["channel orders"])
ORDER_OPERATIONS = (
    "GET /v1/channel-orders/{order_id}",
    "POST /v1/channel-orders/{order_id}/release",
)


@intake.post(
    "",
    response_model=ChannelOrderAccepted,
    status_code=202,
    responses={200: {"model": ChannelOrderAccepted, "description": "Already received"}}
    | links(200, *ORDER_OPERATIONS)
    | links(202, *ORDER_OPERATIONS)
    | problems(503),
)
async def receive_order(
    order: ChannelOrderCreate, request: Request, response: Response
) -> ChannelOrderAccepted:
    """Take in a canonical order: 202 when new, 200 when this channel + external id was seen."""
    # The hot path of intake: the order joins the next group commit, never reads the view.
    translation = Translation(order.channel, order.external_id, order=order.canonical())
    result = await component(request, IntakeBatcher).take_in(translation)
    response.headers["Location"] = f"/v1/channel-orders/{result.order_id}"
    if not result.created:
        response.status_code = 200
    return ChannelOrderAccepted(order_id=result.order_id, status=result.status)


@router.get(
    "", response_model=ChannelOrdersPublic, responses=links(200, *ORDER_OPERATIONS, at="/data/0")
)
def list_channel_orders(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query()],
    channel: str | None = None,
    external_id: str | None = None,
    status: ChannelOrderStatus | None = None,
) -> ChannelOrdersPublic:
    """Channel orders, newest first, filtered by channel, external id and status (held too)."""
    rows, total = views.list_orders(
        channel=channel,
        external_id=external_id,
        status=status,
        limit=page.limit,
        offset=page.offset,
    )
    return ChannelOrdersPublic.of([ChannelOrderPublic.model_validate(r) for r in rows], total, page)


@router.get("/{order_id}", response_model=ChannelOrderPublic)
def get_channel_order(order_id: UUID, views: ViewsDep) -> ChannelOrderPublic:
    """One channel order with its hold reasons, shipments (tracking), cancellation and refunds."""
    row = views.get_order(order_id)
    if row is None:
        raise Problem(404, "Channel order not found", f"no channel order {order_id}")
    return ChannelOrderPublic.model_validate(row)


@router.post("/{order_id}/release", response_model=ChannelOrderAccepted, responses=problems(409))
def release_channel_order(
    order_id: UUID, app: AppDep, channels: ChannelsDep
) -> ChannelOrderAccepted:
    """Translate a held order again with the channel as connected now; place it if it is whole.

    409 with the remaining reasons when it still cannot be placed (nothing is recorded then).
    """
    result = app.orders.release(order_id, channels)
    return ChannelOrderAccepted(order_id=result.order_id, status=result.status)
