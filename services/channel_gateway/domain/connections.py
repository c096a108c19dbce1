"""The ChannelConnection aggregate: one sales channel the merchant connected, and its SKU map."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.channel_gateway.domain.values import ChannelConfig


class ChannelKind(StrEnum):
    """The kinds of channel the gateway speaks to."""

    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    AMAZON = "amazon"
    SHOPEE = "shopee"
    WEB = "web"
    PHONE = "phone"
    MAIL = "mail"
    LINE = "line"  # chat commerce: the customer hears through the chat (services/.../chat)
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"


# Channels whose own API we talk to, and the merchant's own channels (told by e-mail).
MARKETPLACE_KINDS = (
    ChannelKind.SHOPIFY,
    ChannelKind.WOOCOMMERCE,
    ChannelKind.AMAZON,
    ChannelKind.SHOPEE,
)
OWN_KINDS = (ChannelKind.WEB, ChannelKind.PHONE, ChannelKind.MAIL)
# Chats the merchant sells in: like own channels they take no news of cancels, refunds or
# edits through an API; their customers get chat messages (domain/chat.py).
CHAT_KINDS = (ChannelKind.LINE, ChannelKind.FACEBOOK, ChannelKind.INSTAGRAM)
KINDS = MARKETPLACE_KINDS + OWN_KINDS + CHAT_KINDS

CONNECTION_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/channel-connections")


class ChannelConnectionError(Exception):
    """Base of channel connection errors."""


class ChannelNotFoundError(ChannelConnectionError):
    """No channel is connected under this id."""


class ChannelKindError(ChannelConnectionError):
    """A channel id is already connected as another kind, or the kind is unknown."""


def connection_id_for(channel_id: str) -> UUID:
    """The aggregate id of a channel connection, derived from its channel id."""
    return uuid5(CONNECTION_NAMESPACE, channel_id)


class ChannelConnection(Aggregate):
    """A connected channel: its kind, settings (never secrets), SKU mapping and poll cursor."""

    class Registered(Aggregate.Created):
        """A channel was connected."""

        channel_id: str
        kind: str
        config: ChannelConfig
        sku_mapping: dict[str, str]
        secret_names: list[str]

    class Reconfigured(Aggregate.Event):
        """The channel's settings or the names of its secrets changed."""

        config: ChannelConfig
        secret_names: list[str]

    class SkuMappingChanged(Aggregate.Event):
        """The channel SKU -> our SKU mapping was replaced."""

        sku_mapping: dict[str, str]

    class CursorAdvanced(Aggregate.Event):
        """The poller read the channel further."""

        cursor: str

    @event(Registered)
    def __init__(
        self,
        channel_id: str,
        kind: str,
        config: ChannelConfig,
        sku_mapping: dict[str, str],
        secret_names: list[str],
    ) -> None:
        if kind not in KINDS:
            raise ChannelKindError(f"unknown channel kind {kind!r}; one of {', '.join(KINDS)}")
        self.channel_id = channel_id
        self.kind = ChannelKind(kind)
        self.config = config
        self.sku_mapping = sku_mapping
        # Only which secrets are set: their values live outside the event log.
        self.secret_names = secret_names
        self.cursor: str | None = None

    @staticmethod
    def create_id(channel_id: str, **_: Any) -> UUID:
        """The id derives from the channel id, so registering twice finds the first."""
        return connection_id_for(channel_id)

    @property
    def own(self) -> bool:
        """One of the merchant's own channels (web, phone, mail), or a chat it sells in."""
        return self.kind in OWN_KINDS or self.kind in CHAT_KINDS

    @property
    def chat(self) -> bool:
        """A chat the merchant sells in (LINE, Messenger, Instagram)."""
        return self.kind in CHAT_KINDS

    def ensure_kind(self, kind: str) -> None:
        """Raise ChannelKindError when the channel is connected as another kind (never changes)."""
        if kind != self.kind:
            raise ChannelKindError(
                f"channel {self.channel_id} is connected as {self.kind}, not {kind}"
            )

    def reconfigure(
        self,
        kind: str,
        config: ChannelConfig,
        sku_mapping: dict[str, str],
        secret_names: list[str],
    ) -> bool:
        """Replace settings and mapping; the kind of a channel never changes."""
        self.ensure_kind(kind)
        changed = False
        if config != self.config or secret_names != self.secret_names:
            self._reconfigured(config=config, secret_names=secret_names)
            changed = True
        return self.map_skus(sku_mapping) or changed

    @event(Reconfigured)
    def _reconfigured(self, config: ChannelConfig, secret_names: list[str]) -> None:
        self.config = config
        self.secret_names = secret_names

    def map_skus(self, sku_mapping: dict[str, str]) -> bool:
        """Replace the channel SKU -> our SKU mapping; False when nothing changed."""
        if sku_mapping == self.sku_mapping:
            return False
        self._sku_mapping_changed(sku_mapping=sku_mapping)
        return True

    @event(SkuMappingChanged)
    def _sku_mapping_changed(self, sku_mapping: dict[str, str]) -> None:
        self.sku_mapping = sku_mapping

    def advance_cursor(self, cursor: str) -> bool:
        """Remember how far the poller has read; it never moves back."""
        if self.cursor is not None and cursor <= self.cursor:
            return False
        self._cursor_advanced(cursor=cursor)
        return True

    @event(CursorAdvanced)
    def _cursor_advanced(self, cursor: str) -> None:
        self.cursor = cursor
