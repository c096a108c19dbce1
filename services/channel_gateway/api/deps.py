"""What endpoints get from the process, by type: the components bootstrap gave the API."""

from __future__ import annotations

from typing import Annotated

from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.channels.registry import ChannelRegistry
from services.channel_gateway.views import ChannelOrderViews, PasswordStore
from shared.runtime.api import provide

AppDep = Annotated[ChannelOrders, provide(ChannelOrders)]
ViewsDep = Annotated[ChannelOrderViews, provide(ChannelOrderViews)]
ChannelsDep = Annotated[ChannelRegistry, provide(ChannelRegistry)]
PasswordsDep = Annotated[PasswordStore, provide(PasswordStore)]
