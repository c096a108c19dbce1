"""Which adapter sends a message: by the address's kind, through the connection of that chat;
and the record that keeps chats without an idempotency key from showing a message twice."""

from __future__ import annotations

import asyncio

import httpx
import structlog

from services.channel_gateway.application import ChatMessages
from services.channel_gateway.channels.email.transport import SmtpServer
from services.channel_gateway.channels.registry import Channel
from services.channel_gateway.chat.email import EmailMessages
from services.channel_gateway.chat.graph import GraphMessages
from services.channel_gateway.chat.line import LineMessages
from services.channel_gateway.domain import AddressKind, ChatAddress
from services.channel_gateway.views import SentMessages

log = structlog.get_logger()

# The secret each chat's connection keeps its token under (POST /v1/channels).
TOKENS = {
    AddressKind.LINE: "channel_access_token",
    AddressKind.FACEBOOK: "page_access_token",
    AddressKind.INSTAGRAM: "page_access_token",
}


class OnceOnly(ChatMessages):
    """Sends a key's message only when the record has no send under that key, and records it."""

    def __init__(self, inner: ChatMessages, sent: SentMessages, kind: str) -> None:
        self.inner = inner
        self.sent = sent
        self.kind = kind

    async def send(self, to: ChatAddress, text: str, *, key: str) -> str:
        """Send unless sent before; what was sent is recorded right after the chat took it."""
        before = await asyncio.to_thread(self.sent.outcome, key)
        if before is not None:
            return f"sent before, not again: {before}"
        outcome = await self.inner.send(to, text, key=key)
        try:
            await asyncio.to_thread(self.sent.record, key, self.kind, outcome)
        except Exception:  # it was sent: the delivery says so even if the record failed
            log.exception("sent message not recorded", key=key)
        return outcome


class ChatSenders:
    """Builds the sender of each message (none, and why, when it cannot be sent)."""

    def __init__(self, smtp: SmtpServer | None, shop_name: str, sent: SentMessages) -> None:
        self.smtp = smtp
        self.shop_name = shop_name
        self.sent = sent

    def sender_for(
        self,
        to: ChatAddress,
        channel_id: str,
        channel: Channel | None,
        http: httpx.AsyncClient,
    ) -> ChatMessages | str:
        """The sender for this address through this connection, or why there is none."""
        if to.kind == AddressKind.EMAIL:
            if self.smtp is None:
                return "no SMTP server is configured (OMS_GATEWAY_SMTP_HOST)"
            return OnceOnly(EmailMessages(self.smtp, self.shop_name), self.sent, to.kind)
        if to.kind not in TOKENS:
            return f"the gateway has no API for {to.kind} chats: message the customer yourself"
        if channel is None:
            return f"no channel {channel_id} is connected (POST /v1/channels, then retry)"
        kind = channel.connection.kind
        if kind != to.kind:
            return f"channel {channel_id} is a {kind} channel: it cannot message a {to.kind} chat"
        token = channel.secrets.current.get(TOKENS[to.kind])
        if not token:
            return f"channel {channel_id} has no {TOKENS[to.kind]} (POST /v1/channels, then retry)"
        config = channel.connection.config
        if to.kind == AddressKind.LINE:
            return LineMessages(token, http, config.get("base_url"))
        return OnceOnly(GraphMessages(to.kind, config, token, http), self.sent, to.kind)
