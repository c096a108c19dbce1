"""Which client tells which channel: by the connection's kind, e-mail for own channels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import httpx

from services.channel_gateway.channels.amazon.transport import AmazonClient
from services.channel_gateway.channels.email.transport import EmailClient, SmtpServer
from services.channel_gateway.channels.http import Job
from services.channel_gateway.channels.registry import Channel
from services.channel_gateway.channels.shopee.tokens import ShopeeTokens
from services.channel_gateway.channels.shopee.transport import ShopeeClient
from services.channel_gateway.channels.shopify.transport import ShopifyClient
from services.channel_gateway.channels.stock import StockPush
from services.channel_gateway.channels.woocommerce.transport import WooCommerceClient
from services.channel_gateway.domain import (
    OWN_KINDS,
    ChannelConfig,
    ChannelKind,
    ShippingArrangement,
)


class Deliverer(Protocol):
    """Something that can perform a delivery job at a channel."""

    async def deliver(self, job: Job) -> str:
        """Perform the job; returns what happened."""
        ...


@runtime_checkable
class ShippingArranger(Protocol):
    """A channel with logistics of its own: it takes a shipment and gives its tracking number
    and shipping document (Shopee)."""

    async def arrange_shipping(self, job: Job) -> ShippingArrangement:
        """Arrange the job's shipment with the channel's logistics."""
        ...


class ApiClient(Deliverer, Protocol):
    """A marketplace's API client, bound to one HTTP client; it also sets stock."""

    http: httpx.AsyncClient

    async def set_stock(self, push: StockPush) -> str:
        """Set what the channel may sell of a SKU; returns what happened."""
        ...


ClientClass = Callable[[ChannelConfig, dict[str, str], httpx.AsyncClient], ApiClient]

CLIENTS: dict[str, ClientClass] = {
    ChannelKind.SHOPIFY: ShopifyClient,
    ChannelKind.WOOCOMMERCE: WooCommerceClient,
    ChannelKind.AMAZON: AmazonClient,
    ChannelKind.SHOPEE: ShopeeClient,
}


class Outbound:
    """Builds the client for a channel, reusing it while the channel's settings are unchanged."""

    def __init__(
        self, smtp: SmtpServer | None, shop_name: str, shopee_tokens: ShopeeTokens | None = None
    ) -> None:
        self.smtp = smtp
        self.shop_name = shop_name
        self.shopee_tokens = shopee_tokens
        self._clients: dict[str, tuple[Channel, ApiClient]] = {}

    def client_for(
        self, channel_id: str, channel: Channel | None, http: httpx.AsyncClient
    ) -> Deliverer | str:
        """The client for the channel, or why nothing can be delivered there."""
        own = channel.own if channel is not None else channel_id in OWN_KINDS
        if own:
            if self.smtp is None:
                return "no SMTP server is configured (OMS_GATEWAY_SMTP_HOST)"
            return EmailClient(self.smtp, self.shop_name)
        if channel is None:
            return f"no channel {channel_id} is connected (POST /v1/channels, then retry)"
        return self.api_client(channel, http)

    def api_client(self, channel: Channel, http: httpx.AsyncClient) -> ApiClient:
        """The API client of a marketplace channel (kept while its settings are the same)."""
        kept = self._clients.get(channel.connection.channel_id)
        if kept is not None and kept[0] == channel and kept[1].http is http:
            return kept[1]
        connection = channel.connection
        client: ApiClient
        if connection.kind == ChannelKind.SHOPEE:  # its tokens expire: the keeper renews them
            client = shopee_client(channel, http, self.shopee_tokens)
        else:
            client = CLIENTS[connection.kind](connection.config, channel.secrets.current, http)
        self._clients[channel.connection.channel_id] = (channel, client)
        return client

    def stock_client(self, channel: Channel, http: httpx.AsyncClient) -> ApiClient | None:
        """The client that pushes stock to this channel, or None: it is not stock-synced (own
        channels, or `stock_sync: false`)."""
        connection = channel.connection
        if channel.own or connection.kind not in CLIENTS:
            return None
        if connection.config.get("stock_sync") is False:
            return None
        return self.api_client(channel, http)

    def amazon_client(self, channel: Channel, http: httpx.AsyncClient) -> AmazonClient:
        """The SP-API client of an Amazon channel (the one its deliveries use, token and all)."""
        client = self.api_client(channel, http)
        if not isinstance(client, AmazonClient):
            raise ValueError(f"channel {channel.connection.channel_id} is not an Amazon channel")
        return client


def shopee_client(
    channel: Channel, http: httpx.AsyncClient, tokens: ShopeeTokens | None
) -> ShopeeClient:
    """A Shopee shop's client whose tokens the keeper refreshes."""
    connection = channel.connection
    return ShopeeClient(
        connection.config, channel.secrets.current, http, tokens, connection.channel_id
    )
