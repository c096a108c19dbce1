"""Channel connection read model: kind, settings, SKU mapping, poll cursor (never secrets).

Beside it, how the reconciliation poll of each channel fares (channel_poll): written by the
poller, not by the projection, so a rebuild of the views never empties it.
"""

from __future__ import annotations

from datetime import datetime
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
        """CREATE TABLE IF NOT EXISTS channel_poll (
            channel_id text PRIMARY KEY,
            last_poll_at timestamptz NOT NULL,
            last_success_at timestamptz,
            last_error text,
            last_error_at timestamptz,
            failures integer NOT NULL DEFAULT 0,
            orders_taken_in bigint NOT NULL DEFAULT 0,
            next_poll_at timestamptz
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

    def record_poll(
        self,
        channel_id: str,
        at: datetime,
        next_at: datetime,
        taken_in: int = 0,
        error: str | None = None,
    ) -> None:
        """How one poll of a channel went: orders it took in, or why it failed (failures count
        up until a poll succeeds)."""
        failed = error is not None
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO channel_poll (channel_id, last_poll_at, last_success_at, last_error,"
                " last_error_at, failures, orders_taken_in, next_poll_at) VALUES (%(id)s, %(at)s,"
                " %(ok_at)s, %(error)s, %(error_at)s, %(failures)s, %(taken)s, %(next)s)"
                " ON CONFLICT (channel_id) DO UPDATE SET last_poll_at = EXCLUDED.last_poll_at,"
                " last_success_at = COALESCE(EXCLUDED.last_success_at,"
                " channel_poll.last_success_at),"
                " last_error = COALESCE(EXCLUDED.last_error, channel_poll.last_error),"
                " last_error_at = COALESCE(EXCLUDED.last_error_at, channel_poll.last_error_at),"
                " failures = CASE WHEN %(failed)s THEN channel_poll.failures + 1 ELSE 0 END,"
                " orders_taken_in = channel_poll.orders_taken_in + EXCLUDED.orders_taken_in,"
                " next_poll_at = EXCLUDED.next_poll_at",
                {
                    "id": channel_id,
                    "at": at,
                    "ok_at": None if failed else at,
                    "error": error[:1000] if error else None,
                    "error_at": at if failed else None,
                    "failures": 1 if failed else 0,
                    "failed": failed,
                    "taken": taken_in,
                    "next": next_at,
                },
            )

    def poll_states(self, channel_ids: list[str]) -> dict[str, dict[str, Any]]:
        """How the reconciliation poll of these channels fares (those polled at least once)."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM channel_poll WHERE channel_id = ANY(%s)", (channel_ids,))
            return {row["channel_id"]: dict(row) for row in curs.fetchall()}
