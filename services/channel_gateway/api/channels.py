"""Channel connections: register (secrets never echoed), list, and map SKUs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from services.channel_gateway.api.deps import AppDep, RegistryDep, SecretsDep, SettingsDep, ViewsDep
from services.channel_gateway.domain import ChannelConnection
from services.channel_gateway.schemas import (
    ChannelCreate,
    ChannelPublic,
    ChannelsPublic,
    SkuMappingUpdate,
)
from shared.runtime.api import Problem
from shared.runtime.application import retry_on_conflict

router = APIRouter(prefix="/channels", tags=["channels"])
WEBHOOK_KINDS = ("shopify", "woocommerce", "shopee")


@router.post(
    "",
    response_model=ChannelPublic,
    status_code=201,
    responses={200: {"model": ChannelPublic, "description": "Channel reconfigured"}},
)
def register_channel(
    channel: Annotated[ChannelCreate, Body()],
    app: AppDep,
    secrets: SecretsDep,
    registry: RegistryDep,
    settings: SettingsDep,
    response: Response,
) -> ChannelPublic:
    """Connect a channel (201), or replace its settings, secrets and mapping (200).

    A replaced webhook secret stays valid for the rotation grace period.
    """
    existing = app.find_connection(channel.channel_id)
    if existing is not None and existing.kind != channel.kind:
        raise Problem(
            409,
            "Channel kind conflict",
            f"channel {channel.channel_id} is connected as {existing.kind}, not {channel.kind}",
        )
    config = channel.config()
    if channel.require_sku_mapping is None:
        config.pop("require_sku_mapping", None)
    grace = timedelta(seconds=settings.secret_rotation_grace_seconds)
    names = secrets.put(channel.channel_id, channel.secrets(), grace)
    registration = retry_on_conflict(
        app.register_channel,
        channel.channel_id,
        channel.kind,
        config,
        dict(channel.sku_mapping),
        names,
    )
    registry.invalidate(channel.channel_id)
    if not registration.created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/channels/{channel.channel_id}"
    return public(registration.connection)


@router.get("", response_model=ChannelsPublic)
def list_channels(
    views: ViewsDep,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ChannelsPublic:
    """Connected channels by id."""
    rows, total = views.list_connections(kind=kind, limit=limit, offset=offset)
    return ChannelsPublic(
        data=[_from_row(row) for row in rows], count=total, limit=limit, offset=offset
    )


@router.get("/{channel_id}", response_model=ChannelPublic)
def get_channel(channel_id: str, app: AppDep) -> ChannelPublic:
    """One connected channel (secrets by name only)."""
    return public(app.get_connection(channel_id))


@router.put("/{channel_id}/sku-mapping", response_model=ChannelPublic)
def map_skus(
    channel_id: str, mapping: SkuMappingUpdate, app: AppDep, registry: RegistryDep
) -> ChannelPublic:
    """Replace the channel's SKU mapping; held orders can then be released."""
    connection = retry_on_conflict(app.map_skus, channel_id, dict(mapping.sku_mapping))
    registry.invalidate(channel_id)
    return public(connection)


def public(connection: ChannelConnection) -> ChannelPublic:
    """The public view of a connection, straight from its events."""
    return ChannelPublic(
        channel_id=connection.channel_id,
        kind=connection.kind,
        config=connection.config,
        sku_mapping=connection.sku_mapping,
        secrets_set=connection.secret_names,
        webhook_path=webhook_path(connection.kind, connection.channel_id),
        cursor=connection.cursor,
        created_at=connection.created_on,
        updated_at=connection.modified_on,
    )


def webhook_path(kind: str, channel_id: str) -> str | None:
    """The path to register at the channel, for channels that push."""
    return f"/v1/webhooks/{kind}/{channel_id}" if kind in WEBHOOK_KINDS else None


def _from_row(row: dict[str, Any]) -> ChannelPublic:
    return ChannelPublic(
        channel_id=row["channel_id"],
        kind=row["kind"],
        config=row["config"],
        sku_mapping=row["sku_mapping"],
        secrets_set=row["secret_names"],
        webhook_path=webhook_path(row["kind"], row["channel_id"]),
        cursor=row["cursor"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
