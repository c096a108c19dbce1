"""Delivery read model: every piece of news for a channel, its attempts and state."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from services.channel_gateway.domain import DeliveryAction, DeliveryStatus
from services.channel_gateway.views.page import Page
from shared.runtime.projection import jsonb

DELIVERY_TABLES = ("delivery_view",)


class DeliveryViews:
    """Deliveries as ops query them, and as the worker finds the due ones."""

    datastore: Any
    page: Page  # ViewStore.page, for the one class these views are part of

    delivery_tables = (
        """CREATE TABLE IF NOT EXISTS delivery_view (
            delivery_id uuid PRIMARY KEY,
            order_id uuid NOT NULL,
            channel text NOT NULL,
            external_id text NOT NULL,
            action text NOT NULL,
            status text NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            due_at timestamptz,
            last_error text,
            outcome text,
            details jsonb NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            delivered_at timestamptz
        )""",
        "CREATE INDEX IF NOT EXISTS delivery_view_due ON delivery_view (status, due_at)",
        "CREATE INDEX IF NOT EXISTS delivery_view_order ON delivery_view (order_id)",
    )

    @staticmethod
    def insert_delivery(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A newly scheduled delivery."""
        curs.execute(
            "INSERT INTO delivery_view (delivery_id, order_id, channel, external_id, action,"
            " status, due_at, details, created_at, updated_at) VALUES (%(delivery_id)s,"
            " %(order_id)s, %(channel)s, %(external_id)s, %(action)s, %(status)s, %(due_at)s,"
            " %(details)s, %(at)s, %(at)s) ON CONFLICT DO NOTHING",
            {**row, "details": jsonb(row["details"])},
        )

    @staticmethod
    def update_delivery(curs: Cursor[Any], delivery_id: UUID, at: Any, **changes: Any) -> None:
        """A delivery's attempt, outcome or retry."""
        attempts = changes.pop("attempt", 0)
        assignments = "".join(f", {column} = %({column})s" for column in changes)  # own names
        curs.execute(
            f"UPDATE delivery_view SET attempts = attempts + %(attempt)s{assignments},"
            " updated_at = %(at)s WHERE delivery_id = %(delivery_id)s",
            {**changes, "attempt": attempts, "at": at, "delivery_id": delivery_id},
        )

    def due_deliveries(self, limit: int) -> list[UUID]:
        """Pending deliveries whose time has come, oldest first; a message to a customer only
        once every earlier message to that order's customer is done with (delivered, failed or
        skipped): they read 'paid' after 'confirmed', even when 'confirmed' is being retried."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "SELECT delivery_id FROM delivery_view d WHERE status = 'pending'"
                " AND due_at <= now() AND NOT (action = 'message' AND EXISTS ("
                "  SELECT 1 FROM delivery_view e WHERE e.order_id = d.order_id"
                "  AND e.action = 'message' AND e.status = 'pending'"
                "  AND (e.created_at, e.delivery_id) < (d.created_at, d.delivery_id)))"
                " ORDER BY due_at LIMIT %s",
                (limit,),
            )
            return [row["delivery_id"] for row in curs.fetchall()]

    def get_delivery_row(self, delivery_id: UUID) -> dict[str, Any] | None:
        """One delivery, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM delivery_view WHERE delivery_id = %s", (delivery_id,))
            row = curs.fetchone()
            return dict(row) if row is not None else None

    def list_deliveries(
        self,
        *,
        status: DeliveryStatus | None,
        channel: str | None,
        order_id: UUID | None,
        action: DeliveryAction | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of deliveries, newest first."""
        return self.page(
            "delivery_view",
            order_by="created_at DESC, delivery_id",
            limit=limit,
            offset=offset,
            status=status,
            channel=channel,
            order_id=order_id,
            action=action,
        )
