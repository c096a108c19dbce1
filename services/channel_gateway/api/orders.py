"""Canonical order intake, channel orders (held ones too) and their release."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.channel_gateway.api.deps import AppDep, BatcherDep, RegistryDep, ViewsDep
from services.channel_gateway.application import IntakeCommand
from services.channel_gateway.channels.translators import default_connection, retranslate
from services.channel_gateway.domain import HELD
from services.channel_gateway.intake import command_of
from services.channel_gateway.schemas import (
    ChannelOrderAccepted,
    ChannelOrderCreate,
    ChannelOrderPublic,
    ChannelOrdersPublic,
)
from shared.runtime.api import Problem
from shared.runtime.application import retry_on_conflict

Status = Literal["accepted", "held", "cancelled"]
intake = APIRouter(prefix="/orders", tags=["intake"])
router = APIRouter(prefix="/channel-orders", tags=["channel orders"])


@intake.post(
    "",
    response_model=ChannelOrderAccepted,
    status_code=202,
    responses={200: {"model": ChannelOrderAccepted, "description": "Already received"}},
)
async def receive_order(
    order: ChannelOrderCreate, batcher: BatcherDep, response: Response
) -> ChannelOrderAccepted:
    """Take in a canonical order: 202 when new, 200 when this channel + external id was seen."""
    # The hot path of intake: the order joins the next group commit, never reads the view.
    fields = order.as_order()
    command = IntakeCommand(
        channel=fields.pop("channel"), external_id=fields.pop("external_id"), order=fields
    )
    result = await batcher.take_in(command)
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
    """Channel orders, newest first, filtered by channel, external id and status (held too)."""
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
    """One channel order with its hold reasons, shipments (tracking), cancellation and refunds."""
    row = views.get_order(order_id)
    if row is None:
        raise Problem(404, "Channel order not found", f"no channel order {order_id}")
    return ChannelOrderPublic.model_validate(row)


@router.post("/{order_id}/release", response_model=ChannelOrderAccepted)
def release_channel_order(
    order_id: UUID, app: AppDep, registry: RegistryDep
) -> ChannelOrderAccepted:
    """Translate a held order again with the channel as connected now; place it if it is whole.

    409 with the remaining reasons when it still cannot be placed (nothing is recorded then).
    """
    order = app.get_order(order_id)
    if order.status != HELD:
        raise Problem(409, "Order not held", f"order {order_id} is {order.status}, not held")
    registry.invalidate(order.channel)  # the mapping was just fixed: read it fresh
    channel = registry.get(order.channel)
    connection = channel.connection if channel else default_connection(order.channel)
    translation = retranslate(connection, order.external_id, order.payload or {})
    if translation.held:
        raise Problem(
            409,
            "Still held",
            "the order still cannot be placed: " + "; ".join(translation.reasons),
            reasons=translation.reasons,
        )
    placed = command_of(translation).order
    assert placed is not None
    result = retry_on_conflict(app.release_order, order_id, placed)
    return ChannelOrderAccepted(order_id=result.order_id, status=result.status)
