"""Channel connections: register (secrets never echoed), list, and map SKUs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from services.channel_gateway.api.deps import AppDep, ChannelsDep, ViewsDep
from services.channel_gateway.schemas import (
    ChannelCreate,
    ChannelPublic,
    ChannelsPublic,
    SkuMappingUpdate,
)
from shared.runtime.api import PageQuery, links, page_query, problems

router = APIRouter(prefix="/channels", tags=["channels"])
CHANNEL_OPERATIONS = (
    "GET /v1/channels/{channel_id}",
    "PUT /v1/channels/{channel_id}/sku-mapping",
    "POST /v1/webhooks/shopify/{channel_id}",
    "POST /v1/webhooks/woocommerce/{channel_id}",
    "POST /v1/webhooks/shopee/{channel_id}",
    "GET /v1/stock-sync/{channel_id}",
    "POST /v1/stock-sync/{channel_id}/resync",
)


@router.post(
    "",
    response_model=ChannelPublic,
    status_code=201,
    responses={200: {"model": ChannelPublic, "description": "Channel reconfigured"}}
    | links(200, *CHANNEL_OPERATIONS)
    | links(201, *CHANNEL_OPERATIONS)
    | problems(409, 503),
)
def register_channel(
    channel: Annotated[ChannelCreate, Body()],
    app: AppDep,
    channels: ChannelsDep,
    response: Response,
) -> ChannelPublic:
    """Connect a channel (201), or replace its settings, secrets and mapping (200).

    A replaced webhook secret stays valid for the rotation grace period.
    """
    registration = app.connections.register(channel.registration(), channels)
    if not registration.created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/channels/{channel.channel_id}"
    return ChannelPublic.of(registration.connection).with_tokens(
        channels.tokens(channel.channel_id)
    )


@router.get(
    "",
    response_model=ChannelsPublic,
    responses=links(200, *CHANNEL_OPERATIONS, at="/data/0") | problems(503),
)
def list_channels(
    views: ViewsDep,
    channels: ChannelsDep,
    page: Annotated[PageQuery, page_query()],
    kind: str | None = None,
) -> ChannelsPublic:
    """Connected channels by id (Shopee ones say whether the shop must be authorised again,
    webhook channels how their reconciliation poll fares)."""
    rows, total = views.list_connections(kind=kind, limit=page.limit, offset=page.offset)
    ids = [row["channel_id"] for row in rows]
    tokens, polls = channels.store.authorisations(ids), views.poll_states(ids)
    listed = [
        ChannelPublic.from_row(row)
        .with_tokens(tokens.get(row["channel_id"]))
        .with_poll(polls.get(row["channel_id"]))
        for row in rows
    ]
    return ChannelsPublic.of(listed, total, page)


@router.get("/{channel_id}", response_model=ChannelPublic, responses=problems(503))
def get_channel(
    channel_id: str, app: AppDep, channels: ChannelsDep, views: ViewsDep
) -> ChannelPublic:
    """One connected channel (secrets by name only; for Shopee, whether to re-authorise; for
    webhook channels, how their reconciliation poll fares: cursor, last poll, last error)."""
    public = ChannelPublic.of(app.connections.get(channel_id))
    return public.with_tokens(channels.tokens(channel_id)).with_poll(
        views.poll_states([channel_id]).get(channel_id)
    )


@router.put("/{channel_id}/sku-mapping", response_model=ChannelPublic)
def map_skus(
    channel_id: str, mapping: SkuMappingUpdate, app: AppDep, channels: ChannelsDep
) -> ChannelPublic:
    """Replace the channel's SKU mapping; held orders can then be released."""
    connection = app.connections.map_skus(channel_id, dict(mapping.sku_mapping), channels)
    return ChannelPublic.of(connection).with_tokens(channels.tokens(channel_id))
