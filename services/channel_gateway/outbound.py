"""Which client tells which channel: by the connection's kind, e-mail for own channels."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from services.channel_gateway.channels.amazon.transport import AmazonClient
from services.channel_gateway.channels.email.transport import EmailClient, SmtpServer
from services.channel_gateway.channels.http import Job
from services.channel_gateway.channels.shopee.transport import ShopeeClient
from services.channel_gateway.channels.shopify.transport import ShopifyClient
from services.channel_gateway.channels.woocommerce.transport import WooCommerceClient
from services.channel_gateway.domain import OWN_KINDS
from services.channel_gateway.registry import Channel
from services.channel_gateway.settings import Settings

CLIENTS: dict[str, Any] = {
    "shopify": ShopifyClient,
    "woocommerce": WooCommerceClient,
    "amazon": AmazonClient,
    "shopee": ShopeeClient,
}


class Deliverer(Protocol):
    """Something that can perform a delivery job at a channel."""

    async def deliver(self, job: Job) -> str:
        """Perform the job; returns what happened."""
        ...


class Outbound:
    """Builds the client for a channel, reusing it while the channel's settings are unchanged."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[str, tuple[Channel, Any]] = {}

    def smtp(self) -> SmtpServer | None:
        """The configured SMTP server, if any."""
        s = self.settings
        if not s.smtp_host:
            return None
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        return SmtpServer(
            s.smtp_host, s.smtp_port, s.smtp_sender, s.smtp_username, password, s.smtp_starttls
        )

    def client_for(
        self, channel_id: str, channel: Channel | None, http: httpx.AsyncClient
    ) -> Deliverer | str:
        """The client for the channel, or why nothing can be delivered there."""
        own = channel.own if channel is not None else channel_id in OWN_KINDS
        if own:
            smtp = self.smtp()
            if smtp is None:
                return "no SMTP server is configured (OMS_GATEWAY_SMTP_HOST)"
            return EmailClient(smtp, self.settings.shop_name)
        if channel is None:
            return f"no channel {channel_id} is connected (POST /v1/channels, then retry)"
        return self.api_client(channel, http)

    def api_client(self, channel: Channel, http: httpx.AsyncClient) -> Any:
        """The API client of a marketplace channel (kept while its settings are the same)."""
        kept = self._clients.get(channel.connection.channel_id)
        if kept is not None and kept[0] == channel and kept[1].http is http:
            return kept[1]
        client_class = CLIENTS[channel.connection.kind]
        client = client_class(channel.connection.config, channel.secrets.current, http)
        self._clients[channel.connection.channel_id] = (channel, client)
        return client
