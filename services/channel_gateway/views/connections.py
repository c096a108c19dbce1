"""Channel connection read model: kind, settings, SKU mapping, poll cursor (never secrets)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from services.channel_gateway.views.page import Page
from shared.runtime.projection import jsonb

CONNECTION_TABLES = ("channel_connection_view",)


class ConnectionViews:
    """Connected channels as ops and the pollers list them."""

    datastore: Any
    page: Page  # ViewStore.page, for the one class these views are part of

    connection_tables = (
        """CREATE TABLE IF NOT EXISTS channel_connection_view (
            channel_id text PRIMARY KEY,
            connection_id uuid NOT NULL UNIQUE,
            kind text NOT NULL,
            config jsonb NOT NULL,
            sku_mapping jsonb NOT NULL,
            secret_names jsonb NOT NULL,
            cursor text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )""",
    )

    @staticmethod
    def insert_connection(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A newly connected channel."""
        curs.execute(
            "INSERT INTO channel_connection_view (channel_id, connection_id, kind, config,"
            " sku_mapping, secret_names, created_at, updated_at) VALUES (%(channel_id)s,"
            " %(connection_id)s, %(kind)s, %(config)s,"
            " %(sku_mapping)s, %(secret_names)s, %(at)s, %(at)s) ON CONFLICT DO NOTHING",
            {**row, **{k: jsonb(row[k]) for k in ("config", "sku_mapping", "secret_names")}},
        )

    @staticmethod
    def update_connection(curs: Cursor[Any], connection_id: UUID, at: Any, **changes: Any) -> None:
        """Changed settings, mapping or cursor of a channel."""
        columns = {k: jsonb(v) if isinstance(v, dict | list) else v for k, v in changes.items()}
        assignments = ", ".join(f"{column} = %({column})s" for column in columns)  # own names
        curs.execute(
            f"UPDATE channel_connection_view SET {assignments}, updated_at = %(at)s"
            " WHERE connection_id = %(connection_id)s",
            {**columns, "at": at, "connection_id": connection_id},
        )

    def get_connection_row(self, channel_id: str) -> dict[str, Any] | None:
        """One connected channel, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "SELECT * FROM channel_connection_view WHERE channel_id = %s", (channel_id,)
            )
            row = curs.fetchone()
            return dict(row) if row is not None else None

    def list_connections(
        self, *, kind: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of connected channels by channel id."""
        return self.page(
            "channel_connection_view", order_by="channel_id", limit=limit, offset=offset, kind=kind
        )
