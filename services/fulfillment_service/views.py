"""Shipment read model: one row per shipment (SQL only, no domain imports)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from shared.runtime.projection import ViewStore, jsonb

SHIPMENT_TABLES = ("shipment_view",)


class ShipmentViews(ViewStore):
    """Shipments as ops query them: by id, or filtered by order, status and location."""

    tables = (
        """CREATE TABLE IF NOT EXISTS shipment_view (
            shipment_id uuid PRIMARY KEY,
            order_id uuid NOT NULL,
            location_id text NOT NULL,
            status text NOT NULL,
            lines jsonb NOT NULL,
            ship_to jsonb NOT NULL,
            carrier text,
            tracking_number text,
            created_at timestamptz NOT NULL,
            shipped_at timestamptz,
            cancelled_at timestamptz,
            updated_at timestamptz NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS shipment_view_order ON shipment_view (order_id)",
        "CREATE INDEX IF NOT EXISTS shipment_view_status ON shipment_view (status, created_at)",
        "CREATE INDEX IF NOT EXISTS shipment_view_location"
        " ON shipment_view (location_id, status, created_at)",
    )

    # -- writes, inside the projection's transaction ---------------------------------------

    @staticmethod
    def insert_shipment(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A new shipment row."""
        curs.execute(
            "INSERT INTO shipment_view (shipment_id, order_id, location_id, status, lines,"
            " ship_to, created_at, updated_at) VALUES (%(shipment_id)s, %(order_id)s,"
            " %(location_id)s, %(status)s, %(lines)s, %(ship_to)s, %(at)s, %(at)s)"
            " ON CONFLICT (shipment_id) DO NOTHING",
            {**row, "lines": jsonb(row["lines"]), "ship_to": jsonb(row["ship_to"])},
        )

    @staticmethod
    def update_shipment(curs: Cursor[Any], shipment_id: UUID, at: Any, **fields: Any) -> None:
        """Set some fields of a shipment row (field names are the projection's constants)."""
        assignments = ", ".join(f"{name} = %({name})s" for name in fields)
        curs.execute(
            f"UPDATE shipment_view SET {assignments}, updated_at = %(at)s"
            " WHERE shipment_id = %(id)s",
            {**fields, "at": at, "id": shipment_id},
        )

    # -- queries -----------------------------------------------------------------------------

    def get_shipment(self, shipment_id: UUID) -> dict[str, Any] | None:
        """One shipment, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM shipment_view WHERE shipment_id = %s", (shipment_id,))
            row = curs.fetchone()
            return dict(row) if row is not None else None

    def list_shipments(
        self,
        *,
        order_id: UUID | None,
        status: str | None,
        location_id: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of shipments, oldest first (the order a warehouse works them), and the total."""
        return self.page(
            "shipment_view",
            order_by="created_at, shipment_id",
            limit=limit,
            offset=offset,
            order_id=order_id,
            status=status,
            location_id=location_id,
        )

    def reset_all(self, projection_name: str) -> None:
        """Empty the shipment view so it is rebuilt from the event log."""
        self.reset(projection_name, SHIPMENT_TABLES)
