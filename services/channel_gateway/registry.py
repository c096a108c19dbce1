"""Connected channels with their secrets, cached briefly so each webhook costs no lookup."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.channels.base import Connection
from services.channel_gateway.secrets import Secrets, SecretStore


@dataclass(frozen=True)
class Channel:
    """A connected channel as adapters use it: its connection and its secrets."""

    connection: Connection
    secrets: Secrets
    own: bool
    cursor: str | None = None


class ChannelRegistry:
    """Connections and secrets by channel id, cached for a few seconds per process."""

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
        connection = self.app.find_connection(channel_id)
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
        )

    def invalidate(self, channel_id: str) -> None:
        """Forget the cached entry after this process changed the channel."""
        with self._lock:
            self._cache.pop(channel_id, None)
