"""Use cases of channel connections: register or reconfigure, map SKUs, move the poll cursor."""

from __future__ import annotations

from typing import Any, NamedTuple

from eventsourcing.application import AggregateNotFoundError

from services.channel_gateway.domain import (
    ChannelConnection,
    ChannelNotFoundError,
    connection_id_for,
)
from shared.runtime.application import UnitOfWork


class Registration(NamedTuple):
    """A connection after registering, and whether it was new."""

    connection: ChannelConnection
    created: bool


class ConnectionCases:
    """Channel connection use cases (mixed into the gateway application)."""

    def register_channel(
        self,
        channel_id: str,
        kind: str,
        config: dict[str, Any],
        sku_mapping: dict[str, str],
        secret_names: list[str],
    ) -> Registration:
        """Connect a channel, or replace the settings of one connected before."""
        with self.unit_of_work() as uow:  # type: ignore[attr-defined]
            existing = uow.find(connection_id_for(channel_id), ChannelConnection)
            if existing is not None:
                existing.reconfigure(kind, config, sku_mapping, secret_names)
                return Registration(existing, created=False)
            connection = ChannelConnection(
                channel_id=channel_id,
                kind=kind,
                config=config,
                sku_mapping=sku_mapping,
                secret_names=secret_names,
            )
            uow.add(connection)
            return Registration(connection, created=True)

    def map_skus(self, channel_id: str, sku_mapping: dict[str, str]) -> ChannelConnection:
        """Replace the channel's SKU mapping (channel SKU -> our SKU)."""
        with self.unit_of_work() as uow:  # type: ignore[attr-defined]
            connection = self._connection(uow, channel_id)
            connection.map_skus(sku_mapping)
            return connection

    def advance_cursor(self, channel_id: str, cursor: str, uow: UnitOfWork | None = None) -> None:
        """Save how far a poller has read the channel."""
        with self.unit_of_work(uow) as work:  # type: ignore[attr-defined]
            self._connection(work, channel_id).advance_cursor(cursor)

    def find_connection(self, channel_id: str) -> ChannelConnection | None:
        """The connection, or None when the channel is not connected."""
        try:
            found = self.repository.get(connection_id_for(channel_id))  # type: ignore[attr-defined]
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, ChannelConnection) else None

    def get_connection(self, channel_id: str) -> ChannelConnection:
        """The connection; ChannelNotFoundError when the channel is not connected."""
        connection = self.find_connection(channel_id)
        if connection is None:
            raise ChannelNotFoundError(f"no channel {channel_id} is connected")
        return connection

    @staticmethod
    def _connection(uow: UnitOfWork, channel_id: str) -> ChannelConnection:
        connection = uow.find(connection_id_for(channel_id), ChannelConnection)
        if connection is None:
            raise ChannelNotFoundError(f"no channel {channel_id} is connected")
        return connection
