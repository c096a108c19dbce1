"""Connected channels with their secrets, cached briefly so each webhook costs no lookup."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from services.channel_gateway.application import ChannelOrders, Translation
from services.channel_gateway.channels.base import Connection
from services.channel_gateway.channels.translators import default_connection, retranslate
from services.channel_gateway.domain import RawPayload
from services.channel_gateway.views import Secrets, SecretStore, TokenState


@dataclass(frozen=True)
class Channel:
    """A connected channel as adapters use it: its connection and its secrets."""

    connection: Connection
    secrets: Secrets
    own: bool
    cursor: str | None = None
    connected_at: datetime | None = None


class ChannelRegistry:
    """Connections and secrets by channel id, cached for a few seconds per process.

    It is also what the connection and release use cases are given to reach the channels:
    where secrets are kept, which cache forgets a channel, how a payload translates now.
    """

    def __init__(self, app: ChannelOrders, store: SecretStore, ttl: float) -> None:
        self.app = app
        self.store = store
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Channel | None]] = {}
        self._lock = threading.Lock()

    def cached(self, channel_id: str) -> tuple[bool, Channel | None]:
        """(hit, channel) from the cache alone, so the event loop never waits on a miss."""
        entry = self._cache.get(channel_id)
        if entry is not None and entry[0] > time.monotonic():
            return True, entry[1]
        return False, None

    def get(self, channel_id: str) -> Channel | None:
        """The channel, from the cache or freshly loaded (blocking)."""
        hit, channel = self.cached(channel_id)
        if hit:
            return channel
        channel = self.load(channel_id)
        with self._lock:
            self._cache[channel_id] = (time.monotonic() + self.ttl, channel)
        return channel

    def load(self, channel_id: str) -> Channel | None:
        """The channel as stored now, or None when it is not connected."""
        connection = self.app.connections.find(channel_id)
        if connection is None:
            return None
        return Channel(
            connection=Connection(
                channel_id=connection.channel_id,
                kind=connection.kind,
                config=dict(connection.config),
                sku_mapping=dict(connection.sku_mapping),
            ),
            secrets=self.store.get(channel_id),
            own=connection.own,
            cursor=connection.cursor,
            connected_at=connection.created_on,
        )

    def connection(self, channel_id: str) -> Connection:
        """What translators need of the channel; SKUs as written when it is not connected."""
        channel = self.get(channel_id)
        return channel.connection if channel is not None else default_connection(channel_id)

    def tokens(self, channel_id: str) -> TokenState:
        """The channel's stored access token state (expiry, re-authorisation needed)."""
        return self.store.tokens(channel_id)

    def invalidate(self, channel_id: str) -> None:
        """Forget the cached entry after this process changed the channel."""
        with self._lock:
            self._cache.pop(channel_id, None)

    # -- what the use cases are given (ChannelDirectory, Retranslator) ------------------------

    def put_secrets(self, channel_id: str, secrets: dict[str, str]) -> list[str]:
        """Store the given secrets; replaced ones stay valid for the store's grace period."""
        return self.store.put(channel_id, secrets)

    def forget(self, channel_id: str) -> None:
        """Drop the cached channel (its settings or mapping just changed)."""
        self.invalidate(channel_id)

    def retranslate(self, channel: str, external_id: str, payload: RawPayload) -> Translation:
        """Translate a stored payload with the channel as connected now (its mapping just fixed)."""
        self.invalidate(channel)
        return retranslate(self.connection(channel), external_id, payload)
