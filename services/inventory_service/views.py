"""Inventory read models: locations, levels and bins per (sku, location), reservations,
discrepancies (SQL only)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from services.inventory_service.domain import DiscrepancyStatus
from shared.runtime.projection import ViewStore, jsonb

INVENTORY_TABLES = (
    "location_view",
    "stock_level_view",
    "reservation_view",
    "bin_view",
    "discrepancy_view",
)


class InventoryViews(ViewStore):
    """What ops query: locations, stock levels, bins in pick-path order, reservations,
    discrepancies."""

    tables = (
        """CREATE TABLE IF NOT EXISTS location_view (
            location_id text PRIMARY KEY,
            name text NOT NULL,
            country text NOT NULL,
            priority int NOT NULL,
            active boolean NOT NULL,
            updated_at timestamptz NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS stock_level_view (
            sku text NOT NULL,
            location_id text NOT NULL,
            on_hand int NOT NULL,
            reserved int NOT NULL,
            available int NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (sku, location_id)
        )""",
        "CREATE INDEX IF NOT EXISTS stock_level_view_location"
        " ON stock_level_view (location_id, sku)",
        # Added with bins and short picks; views of older databases gain the columns.
        "ALTER TABLE stock_level_view ADD COLUMN IF NOT EXISTS missing int NOT NULL DEFAULT 0",
        "ALTER TABLE stock_level_view ADD COLUMN IF NOT EXISTS bin text",
        "ALTER TABLE stock_level_view ADD COLUMN IF NOT EXISTS quarantined int NOT NULL DEFAULT 0",
        """CREATE TABLE IF NOT EXISTS reservation_view (
            order_id uuid PRIMARY KEY,
            status text NOT NULL,
            lines jsonb NOT NULL,
            allocations jsonb NOT NULL DEFAULT '[]',
            shortages jsonb NOT NULL DEFAULT '[]',
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )""",
        # path_key sorts bytewise along the pick path, hence the "C" collation.
        """CREATE TABLE IF NOT EXISTS bin_view (
            location_id text NOT NULL,
            sku text NOT NULL,
            bin text NOT NULL,
            path_key text COLLATE "C" NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (location_id, sku)
        )""",
        "CREATE INDEX IF NOT EXISTS bin_view_path ON bin_view (location_id, path_key, bin, sku)",
        """CREATE TABLE IF NOT EXISTS discrepancy_view (
            discrepancy_id uuid PRIMARY KEY,
            status text NOT NULL,
            sku text NOT NULL,
            location_id text NOT NULL,
            bin text,
            quantity int NOT NULL,
            expected int NOT NULL,
            picked int NOT NULL,
            order_id uuid NOT NULL,
            shipment_id uuid NOT NULL,
            pick_list_id uuid NOT NULL,
            note text,
            proposed_at timestamptz NOT NULL,
            resolved_at timestamptz,
            updated_at timestamptz NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS discrepancy_view_status"
        " ON discrepancy_view (status, location_id, proposed_at)",
    )

    # -- writes, inside the projection's transaction ---------------------------------------

    @staticmethod
    def upsert_location(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A registered location."""
        curs.execute(
            "INSERT INTO location_view VALUES (%(location_id)s, %(name)s, %(country)s,"
            " %(priority)s, %(active)s, %(at)s) ON CONFLICT (location_id) DO UPDATE SET"
            " name = EXCLUDED.name, country = EXCLUDED.country, priority = EXCLUDED.priority,"
            " active = EXCLUDED.active, updated_at = EXCLUDED.updated_at",
            row,
        )

    @staticmethod
    def set_location_active(curs: Cursor[Any], location_id: str, active: bool, at: Any) -> None:
        """A location opened or closed for routing."""
        curs.execute(
            "UPDATE location_view SET active = %s, updated_at = %s WHERE location_id = %s",
            (active, at, location_id),
        )

    @staticmethod
    def upsert_level(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """The stock level of a SKU at a location after a change."""
        curs.execute(
            "INSERT INTO stock_level_view (sku, location_id, on_hand, reserved, available,"
            " missing, bin, updated_at) VALUES (%(sku)s, %(location_id)s, %(on_hand)s,"
            " %(reserved)s, %(available)s, %(missing)s, %(bin)s, %(at)s)"
            " ON CONFLICT (sku, location_id) DO UPDATE SET on_hand = EXCLUDED.on_hand,"
            " reserved = EXCLUDED.reserved, available = EXCLUDED.available,"
            " missing = EXCLUDED.missing, bin = EXCLUDED.bin, updated_at = EXCLUDED.updated_at",
            row,
        )

    @staticmethod
    def set_quarantined(curs: Cursor[Any], sku: str, location_id: str, quarantined: int) -> None:
        """The units in quarantine of a (sku, location) row (its level was upserted first)."""
        curs.execute(
            "UPDATE stock_level_view SET quarantined = %s WHERE sku = %s AND location_id = %s",
            (quarantined, sku, location_id),
        )

    @staticmethod
    def upsert_bin(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A SKU was put away into a bin (or moved to another) at a location."""
        curs.execute(
            "INSERT INTO bin_view VALUES (%(location_id)s, %(sku)s, %(bin)s, %(path_key)s,"
            " %(at)s) ON CONFLICT (location_id, sku) DO UPDATE SET bin = EXCLUDED.bin,"
            " path_key = EXCLUDED.path_key, updated_at = EXCLUDED.updated_at",
            row,
        )
        curs.execute(
            "UPDATE stock_level_view SET bin = %(bin)s WHERE sku = %(sku)s"
            " AND location_id = %(location_id)s",
            row,
        )

    @staticmethod
    def insert_discrepancy(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A short pick proposed a stock adjustment."""
        curs.execute(
            "INSERT INTO discrepancy_view (discrepancy_id, status, sku, location_id, bin,"
            " quantity, expected, picked, order_id, shipment_id, pick_list_id, proposed_at,"
            " updated_at) VALUES (%(discrepancy_id)s, %(status)s, %(sku)s, %(location_id)s,"
            " %(bin)s, %(quantity)s, %(expected)s, %(picked)s, %(order_id)s, %(shipment_id)s,"
            " %(pick_list_id)s, %(at)s, %(at)s) ON CONFLICT (discrepancy_id) DO NOTHING",
            row,
        )

    @staticmethod
    def resolve_discrepancy(
        curs: Cursor[Any],
        discrepancy_id: UUID,
        status: DiscrepancyStatus,
        note: str | None,
        at: Any,
    ) -> None:
        """Ops confirmed or rejected a discrepancy."""
        curs.execute(
            "UPDATE discrepancy_view SET status = %s, note = %s, resolved_at = %s,"
            " updated_at = %s WHERE discrepancy_id = %s",
            (status, note, at, at, discrepancy_id),
        )

    @staticmethod
    def insert_reservation(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """An order's reservation was requested."""
        curs.execute(
            "INSERT INTO reservation_view (order_id, status, lines, created_at, updated_at)"
            " VALUES (%(order_id)s, %(status)s, %(lines)s, %(at)s, %(at)s)"
            " ON CONFLICT (order_id) DO NOTHING",
            {**row, "lines": jsonb(row["lines"])},
        )

    @staticmethod
    def add_reservation_allocations(
        curs: Cursor[Any], order_id: UUID, at: Any, status: str, allocations: list[Any]
    ) -> None:
        """Add units held for a reservation (asked for again) and set its status."""
        curs.execute(
            "UPDATE reservation_view SET allocations = allocations || %(added)s,"
            " status = %(status)s, updated_at = %(at)s WHERE order_id = %(id)s",
            {"added": jsonb(allocations), "status": status, "at": at, "id": order_id},
        )

    @staticmethod
    def update_reservation(curs: Cursor[Any], order_id: UUID, at: Any, **fields: Any) -> None:
        """Set some fields of a reservation row (names are the projection's constants)."""
        values = {k: jsonb(v) if isinstance(v, list | dict) else v for k, v in fields.items()}
        assignments = ", ".join(f"{name} = %({name})s" for name in values)
        curs.execute(
            f"UPDATE reservation_view SET {assignments}, updated_at = %(at)s"
            " WHERE order_id = %(id)s",
            {**values, "at": at, "id": order_id},
        )

    # -- queries -----------------------------------------------------------------------------

    def list_locations(self) -> list[dict[str, Any]]:
        """Every location, preferred (lowest priority number) first."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM location_view ORDER BY priority, location_id")
            return [dict(row) for row in curs.fetchall()]

    def list_levels(
        self, *, location_id: str | None, sku: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of stock levels by SKU and location, and how many match in total."""
        return self.page(
            "stock_level_view",
            order_by="sku, location_id",
            limit=limit,
            offset=offset,
            location_id=location_id,
            sku=sku,
        )

    def skus(self, location_id: str | None = None) -> list[str]:
        """Every SKU with a level (at this location, if given), in order."""
        where, args = ("WHERE location_id = %s", (location_id,)) if location_id else ("", ())
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(f"SELECT DISTINCT sku FROM stock_level_view {where} ORDER BY sku", args)
            return [row["sku"] for row in curs.fetchall()]

    def location_exists(self, location_id: str) -> bool:
        """Whether a location is registered."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT 1 FROM location_view WHERE location_id = %s", (location_id,))
            return curs.fetchone() is not None

    def list_bins(
        self, location_id: str, *, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int] | None:
        """A page of a location's SKUs with their bins, along the pick path; None when no such
        location is registered (an empty page would not tell it from a location without bins).
        """
        if not self.location_exists(location_id):
            return None
        return self.page(
            "bin_view",
            order_by="path_key, bin, sku",
            limit=limit,
            offset=offset,
            location_id=location_id,
        )

    def list_discrepancies(
        self,
        *,
        status: DiscrepancyStatus | None,
        location_id: str | None,
        sku: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of discrepancies, oldest first (the queue ops work through)."""
        return self.page(
            "discrepancy_view",
            order_by="proposed_at, discrepancy_id",
            limit=limit,
            offset=offset,
            status=status,
            location_id=location_id,
            sku=sku,
        )

    def get_reservation(self, order_id: UUID) -> dict[str, Any] | None:
        """An order's reservation, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM reservation_view WHERE order_id = %s", (order_id,))
            row = curs.fetchone()
            return dict(row) if row else None

    def reset_all(self, projection_name: str) -> None:
        """Empty the inventory views so they are rebuilt from the event log."""
        self.reset(projection_name, INVENTORY_TABLES)
