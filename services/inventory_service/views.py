"""Inventory read models: locations, levels and bins per (sku, location), reservations,
discrepancies (SQL only)."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from services.inventory_service.domain import DiscrepancyStatus, ItemDetails, gtin14
from shared.runtime.projection import ViewStore, jsonb

INVENTORY_TABLES = (
    "location_view",
    "stock_level_view",
    "reservation_view",
    "bin_view",
    "discrepancy_view",
    "item_view",
    "transfer_view",
    "purchase_order_view",
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
        # Added with routing rules: a location's address and an order's routing explanation.
        "ALTER TABLE location_view ADD COLUMN IF NOT EXISTS address jsonb",
        "ALTER TABLE location_view ADD COLUMN IF NOT EXISTS latitude double precision",
        "ALTER TABLE location_view ADD COLUMN IF NOT EXISTS longitude double precision",
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
        "ALTER TABLE reservation_view ADD COLUMN IF NOT EXISTS explanation jsonb",
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
        # The catalogue; gtin14s holds each barcode padded to 14 digits, as searches compare.
        """CREATE TABLE IF NOT EXISTS item_view (
            sku text PRIMARY KEY,
            name text NOT NULL,
            variant text,
            gtins text[] NOT NULL,
            gtin14s text[] NOT NULL,
            weight_grams int,
            dimensions_mm jsonb,
            hs_code text,
            country_of_origin text,
            version int NOT NULL,
            updated_at timestamptz NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS item_view_gtins ON item_view USING gin (gtin14s)",
        # Added with transfers and purchase orders.
        "ALTER TABLE stock_level_view ADD COLUMN IF NOT EXISTS in_transit int NOT NULL DEFAULT 0",
        "ALTER TABLE stock_level_view ADD COLUMN IF NOT EXISTS on_order int NOT NULL DEFAULT 0",
        "ALTER TABLE reservation_view ADD COLUMN IF NOT EXISTS promise_date timestamptz",
        """CREATE TABLE IF NOT EXISTS transfer_view (
            transfer_id text PRIMARY KEY,
            status text NOT NULL,
            from_location text NOT NULL,
            to_location text NOT NULL,
            lines jsonb NOT NULL,
            received jsonb NOT NULL DEFAULT '{}',
            expected_at timestamptz,
            cancel_reason text,
            shipped_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS transfer_view_status ON transfer_view (status, shipped_at)",
        """CREATE TABLE IF NOT EXISTS purchase_order_view (
            po_id text PRIMARY KEY,
            status text NOT NULL,
            location_id text NOT NULL,
            supplier text NOT NULL,
            lines jsonb NOT NULL,
            received jsonb NOT NULL DEFAULT '{}',
            expected_at timestamptz NOT NULL,
            placed_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS purchase_order_view_status"
        " ON purchase_order_view (status, expected_at)",
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
    def set_location_address(
        curs: Cursor[Any],
        location_id: str,
        address: Any,
        latitude: float | None,
        longitude: float | None,
        at: Any,
    ) -> None:
        """A location's address and coordinates were set."""
        curs.execute(
            "UPDATE location_view SET address = %s, latitude = %s, longitude = %s,"
            " updated_at = %s WHERE location_id = %s",
            (jsonb(address), latitude, longitude, at, location_id),
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
    def set_incoming(
        curs: Cursor[Any], sku: str, location_id: str, column: str, units: int, at: Any
    ) -> None:
        """Units in transit to (or on order for) a location: its row, made if it has none yet.

        column is the projection's constant, in_transit or on_order.
        """
        curs.execute(
            "INSERT INTO stock_level_view (sku, location_id, on_hand, reserved, available,"
            f" {column}, updated_at) VALUES (%s, %s, 0, 0, 0, %s, %s) ON CONFLICT (sku,"
            f" location_id) DO UPDATE SET {column} = EXCLUDED.{column}",
            (sku, location_id, units, at),
        )

    @staticmethod
    def insert_transfer(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A transfer left its source."""
        curs.execute(
            "INSERT INTO transfer_view (transfer_id, status, from_location, to_location, lines,"
            " expected_at, shipped_at, updated_at) VALUES (%(transfer_id)s, %(status)s,"
            " %(from_location)s, %(to_location)s, %(lines)s, %(expected_at)s, %(at)s, %(at)s)"
            " ON CONFLICT (transfer_id) DO NOTHING",
            {**row, "lines": jsonb(row["lines"])},
        )

    @staticmethod
    def insert_purchase_order(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A purchase order was placed."""
        curs.execute(
            "INSERT INTO purchase_order_view (po_id, status, location_id, supplier, lines,"
            " expected_at, placed_at, updated_at) VALUES (%(po_id)s, %(status)s,"
            " %(location_id)s, %(supplier)s, %(lines)s, %(expected_at)s, %(at)s, %(at)s)"
            " ON CONFLICT (po_id) DO NOTHING",
            {**row, "lines": jsonb(row["lines"])},
        )

    @staticmethod
    def update_row(
        curs: Cursor[Any], table: str, key: str, value: Any, at: Any, **fields: Any
    ) -> None:
        """Set some fields of a transfer or purchase order row (names are the projection's
        constants)."""
        values = {k: jsonb(v) if isinstance(v, list | dict) else v for k, v in fields.items()}
        assignments = ", ".join(f"{name} = %({name})s" for name in values)
        curs.execute(
            f"UPDATE {table} SET {assignments}, updated_at = %(at)s WHERE {key} = %(id)s",
            {**values, "at": at, "id": value},
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

    @staticmethod
    def upsert_item(
        curs: Cursor[Any], sku: str, details: ItemDetails, version: int, at: Any
    ) -> None:
        """A catalogue item's details as they are now."""
        size = details["dimensions_mm"]
        curs.execute(
            "INSERT INTO item_view VALUES (%(sku)s, %(name)s, %(variant)s, %(gtins)s,"
            " %(gtin14s)s, %(weight_grams)s, %(dimensions_mm)s, %(hs_code)s,"
            " %(country_of_origin)s, %(version)s, %(at)s) ON CONFLICT (sku) DO UPDATE SET"
            " name = EXCLUDED.name, variant = EXCLUDED.variant, gtins = EXCLUDED.gtins,"
            " gtin14s = EXCLUDED.gtin14s, weight_grams = EXCLUDED.weight_grams,"
            " dimensions_mm = EXCLUDED.dimensions_mm, hs_code = EXCLUDED.hs_code,"
            " country_of_origin = EXCLUDED.country_of_origin, version = EXCLUDED.version,"
            " updated_at = EXCLUDED.updated_at",
            {
                **details,
                "sku": sku,
                "gtin14s": [gtin14(g) for g in details["gtins"]],
                "dimensions_mm": jsonb(size) if size else None,
                "version": version,
                "at": at,
            },
        )

    # -- queries -----------------------------------------------------------------------------

    def search_items(
        self, search: str | None, *, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of items by SKU whose name, variant or SKU contains the text, or that have it as
        a GTIN (any length: padded to 14 digits as scanners read it); all items without a text."""
        where, params = "TRUE", {}
        if search:
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", search) + "%"
            params = {"pattern": pattern, "gtin": gtin14(search) if search.isdigit() else None}
            where = (
                "(sku ILIKE %(pattern)s OR name ILIKE %(pattern)s OR variant ILIKE %(pattern)s"
                " OR %(gtin)s = ANY(gtin14s))"
            )
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(f"SELECT count(*) AS n FROM item_view WHERE {where}", params)
            counted = curs.fetchone()
            curs.execute(
                f"SELECT * FROM item_view WHERE {where} ORDER BY sku"
                " LIMIT %(limit)s OFFSET %(offset)s",
                {**params, "limit": limit, "offset": offset},
            )
            return [dict(row) for row in curs.fetchall()], counted["n"] if counted else 0

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

    def list_transfers(
        self,
        *,
        status: str | None,
        from_location: str | None,
        to_location: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of transfers, newest first."""
        return self.page(
            "transfer_view",
            order_by="shipped_at DESC, transfer_id",
            limit=limit,
            offset=offset,
            status=status,
            from_location=from_location,
            to_location=to_location,
        )

    def list_purchase_orders(
        self,
        *,
        status: str | None,
        location_id: str | None,
        supplier: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of purchase orders, the soonest expected first."""
        return self.page(
            "purchase_order_view",
            order_by="expected_at, po_id",
            limit=limit,
            offset=offset,
            status=status,
            location_id=location_id,
            supplier=supplier,
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
