"""Use cases of channel connections: register or reconfigure, map SKUs, move the poll cursor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol

from eventsourcing.application import AggregateNotFoundError

from services.channel_gateway.domain import (
    ChannelConfig,
    ChannelConnection,
    ChannelKind,
    ChannelNotFoundError,
    connection_id_for,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    from services.channel_gateway.application import ChannelOrders


@dataclass(frozen=True)
class ChannelRegistration:
    """A channel to connect (or reconnect): its kind, settings, SKU mapping and secrets."""

    channel_id: str
    kind: ChannelKind
    config: ChannelConfig
    sku_mapping: dict[str, str]
    secrets: dict[str, str] = field(repr=False)  # never in a log line


class Registration(NamedTuple):
    """A connection after registering, and whether it was new."""

    connection: ChannelConnection
    created: bool


class ChannelDirectory(Protocol):
    """Where channel secrets are kept (outside the event log), and what caches connections."""

    def put_secrets(self, channel_id: str, secrets: dict[str, str]) -> list[str]:
        """Store the given secrets (others stay); the names of all the channel now has."""
        ...

    def forget(self, channel_id: str) -> None:
        """Drop what this process cached of the channel, so its next use reads it fresh."""
        ...


class Connections(UseCases["ChannelOrders"]):
    """The channels the merchant connected, their SKU mappings and poll cursors."""

    app: ChannelOrders  # the application composing this group (for the type checker)

    @use_case
    def register(
        self, registration: ChannelRegistration, channels: ChannelDirectory
    ) -> Registration:
        """Connect a channel, or replace the settings, secrets and mapping of one connected before.

        A channel connected as another kind is refused before any secret is stored.
        """
        channel_id = registration.channel_id
        with self.app.unit_of_work() as uow:
            existing = uow.find(connection_id_for(channel_id), ChannelConnection)
            if existing is not None:
                existing.ensure_kind(registration.kind)
            names = channels.put_secrets(channel_id, registration.secrets)
            if existing is not None:
                existing.reconfigure(
                    registration.kind, registration.config, registration.sku_mapping, names
                )
                result = Registration(existing, created=False)
            else:
                connection = ChannelConnection(
                    channel_id=channel_id,
                    kind=registration.kind,
                    config=registration.config,
                    sku_mapping=registration.sku_mapping,
                    secret_names=names,
                )
                uow.add(connection)
                result = Registration(connection, created=True)
        channels.forget(channel_id)  # after the commit, so no one caches the old settings again
        return result

    @use_case
    def map_skus(
        self, channel_id: str, sku_mapping: dict[str, str], channels: ChannelDirectory
    ) -> ChannelConnection:
        """Replace the channel's SKU mapping (channel SKU -> our SKU)."""
        with self.app.unit_of_work() as uow:
            connection = _connection(uow, channel_id)
            connection.map_skus(sku_mapping)
        channels.forget(channel_id)
        return connection

    @use_case
    def advance_cursor(self, channel_id: str, cursor: str, uow: UnitOfWork | None = None) -> None:
        """Save how far a poller has read the channel."""
        with self.app.unit_of_work(uow) as work:
            _connection(work, channel_id).advance_cursor(cursor)

    def find(self, channel_id: str) -> ChannelConnection | None:
        """The connection, or None when the channel is not connected."""
        try:
            found: object = self.app.repository.get(connection_id_for(channel_id))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, ChannelConnection) else None

    def get(self, channel_id: str) -> ChannelConnection:
        """The connection; ChannelNotFoundError when the channel is not connected."""
        connection = self.find(channel_id)
        if connection is None:
            raise ChannelNotFoundError(f"no channel {channel_id} is connected")
        return connection


def _connection(uow: UnitOfWork, channel_id: str) -> ChannelConnection:
    connection = uow.find(connection_id_for(channel_id), ChannelConnection)
    if connection is None:
        raise ChannelNotFoundError(f"no channel {channel_id} is connected")
    return connection
