"""What every endpoint gets from the process: the application, views, channels, intake."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.intake import IntakeBatcher
from services.channel_gateway.outbound import Outbound
from services.channel_gateway.registry import ChannelRegistry
from services.channel_gateway.secrets import SecretStore
from services.channel_gateway.settings import Settings
from services.channel_gateway.views import ChannelOrderViews


def get_app(request: Request) -> ChannelOrders:
    """The gateway application of this process."""
    return request.app.state.channel_orders  # type: ignore[no-any-return]


def get_views(request: Request) -> ChannelOrderViews:
    """The read models of this process."""
    return request.app.state.views  # type: ignore[no-any-return]


def get_registry(request: Request) -> ChannelRegistry:
    """Connected channels with their secrets."""
    return request.app.state.registry  # type: ignore[no-any-return]


def get_secrets(request: Request) -> SecretStore:
    """The channel secret store."""
    return request.app.state.secrets  # type: ignore[no-any-return]


def get_batcher(request: Request) -> IntakeBatcher:
    """The group-commit intake."""
    return request.app.state.batcher  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    """The gateway's settings."""
    return request.app.state.settings  # type: ignore[no-any-return]


def get_outbound(request: Request) -> Outbound:
    """Clients of channel APIs."""
    return request.app.state.outbound  # type: ignore[no-any-return]


AppDep = Annotated[ChannelOrders, Depends(get_app)]
ViewsDep = Annotated[ChannelOrderViews, Depends(get_views)]
RegistryDep = Annotated[ChannelRegistry, Depends(get_registry)]
SecretsDep = Annotated[SecretStore, Depends(get_secrets)]
BatcherDep = Annotated[IntakeBatcher, Depends(get_batcher)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
OutboundDep = Annotated[Outbound, Depends(get_outbound)]
