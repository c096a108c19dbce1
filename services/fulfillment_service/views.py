"""Fulfillment read models: shipments, pick lists, packages, bins (SQL; domain values only)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from services.fulfillment_service.domain import (
    Package,
    PickListStatus,
    ShipmentStatus,
    ShippedPackage,
)
from shared.runtime.projection import ViewStore, jsonb

# Candidates read for a pick list beyond its slots: the view may still show some as open.
CANDIDATE_MARGIN = 50
VIEW_TABLES = ("shipment_view", "pick_list_view", "package_view", "bin_view")
SHIPMENT_COLUMNS = (
    "order_number text",
    "pick_list_id uuid",
    "slot integer",
    "planned_carrier text",
    "service text",
    "picked jsonb",
    "picked_at timestamptz",
    "packages jsonb NOT NULL DEFAULT '[]'",
)


class ShipmentViews(ViewStore):
    """Shipments, pick lists, packages and bins as ops query them."""

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
        # Columns added with picking and packing; databases made before get them here.
        *(f"ALTER TABLE shipment_view ADD COLUMN IF NOT EXISTS {c}" for c in SHIPMENT_COLUMNS),
        "CREATE INDEX IF NOT EXISTS shipment_view_order ON shipment_view (order_id)",
        "CREATE INDEX IF NOT EXISTS shipment_view_status ON shipment_view (status, created_at)",
        "CREATE INDEX IF NOT EXISTS shipment_view_location"
        " ON shipment_view (location_id, status, created_at)",
        """CREATE TABLE IF NOT EXISTS pick_list_view (
            pick_list_id uuid PRIMARY KEY,
            location_id text NOT NULL,
            status text NOT NULL,
            carrier text,
            shipment_count integer NOT NULL,
            line_count integer NOT NULL,
            unit_count integer NOT NULL,
            created_at timestamptz NOT NULL,
            completed_at timestamptz,
            cancelled_at timestamptz,
            updated_at timestamptz NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS pick_list_view_location"
        " ON pick_list_view (location_id, status, created_at)",
        """CREATE TABLE IF NOT EXISTS package_view (
            package_id uuid PRIMARY KEY,
            shipment_id uuid NOT NULL,
            sscc text NOT NULL UNIQUE,
            items jsonb NOT NULL,
            weight_grams integer NOT NULL,
            dimensions_mm jsonb NOT NULL,
            carrier text,
            service text,
            tracking_number text,
            created_at timestamptz NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS package_view_shipment ON package_view (shipment_id)",
        """CREATE TABLE IF NOT EXISTS bin_view (
            location_id text NOT NULL,
            sku text NOT NULL,
            bin text NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (location_id, sku)
        )""",
    )

    # -- writes, inside the projection's transaction ---------------------------------------

    @staticmethod
    def insert_shipment(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A new shipment row."""
        curs.execute(
            "INSERT INTO shipment_view (shipment_id, order_id, location_id, status, lines,"
            " ship_to, order_number, created_at, updated_at) VALUES (%(shipment_id)s,"
            " %(order_id)s, %(location_id)s, %(status)s, %(lines)s, %(ship_to)s,"
            " %(order_number)s, %(at)s, %(at)s) ON CONFLICT (shipment_id) DO NOTHING",
            {**row, "lines": jsonb(row["lines"]), "ship_to": jsonb(row["ship_to"])},
        )

    @staticmethod
    def update_shipment(curs: Cursor[Any], shipment_id: UUID, at: Any, **fields: Any) -> None:
        """Set some fields of a shipment row (field names are the projection's constants)."""
        assignments = ", ".join(f"{name} = %({name})s" for name in fields)
        curs.execute(
            f"UPDATE shipment_view SET {assignments}, updated_at = %(at)s"
            " WHERE shipment_id = %(id)s",
            {**_json_fields(fields), "at": at, "id": shipment_id},
        )

    @staticmethod
    def add_package(curs: Cursor[Any], shipment_id: UUID, package: Package, at: Any) -> None:
        """A package row, and the package on its shipment's row."""
        curs.execute(
            "INSERT INTO package_view (package_id, shipment_id, sscc, items, weight_grams,"
            " dimensions_mm, created_at) VALUES (%(package_id)s, %(shipment_id)s, %(sscc)s,"
            " %(items)s, %(weight_grams)s, %(dimensions_mm)s, %(at)s)"
            " ON CONFLICT (package_id) DO NOTHING",
            {
                **package,
                "shipment_id": shipment_id,
                "items": jsonb(package["items"]),
                "dimensions_mm": jsonb(package["dimensions_mm"]),
                "at": at,
            },
        )
        curs.execute(
            "UPDATE shipment_view SET packages = packages || %s WHERE shipment_id = %s",
            (jsonb([package]), shipment_id),
        )

    @staticmethod
    def remove_package(curs: Cursor[Any], shipment_id: UUID, package_id: str) -> None:
        """A package was unpacked."""
        curs.execute("DELETE FROM package_view WHERE package_id = %s", (package_id,))
        curs.execute(
            "UPDATE shipment_view SET packages = (SELECT coalesce(jsonb_agg(p), '[]')"
            " FROM jsonb_array_elements(packages) p WHERE p->>'package_id' <> %s)"
            " WHERE shipment_id = %s",
            (package_id, shipment_id),
        )

    @staticmethod
    def ship_packages(
        curs: Cursor[Any],
        shipment_id: UUID,
        carrier: str,
        service: str | None,
        packages: list[ShippedPackage],
    ) -> None:
        """Packages got their carrier, service and tracking numbers."""
        tracking = {p["package_id"]: p["tracking_number"] for p in packages}
        curs.execute(
            "UPDATE package_view SET carrier = %s, service = %s,"
            " tracking_number = (%s::jsonb)->>(package_id::text) WHERE shipment_id = %s",
            (carrier, service, jsonb(tracking), shipment_id),
        )
        curs.execute(
            "UPDATE shipment_view SET packages = (SELECT coalesce(jsonb_agg(p ||"
            " jsonb_build_object('tracking_number', (%s::jsonb)->>(p->>'package_id'))), '[]')"
            " FROM jsonb_array_elements(packages) p) WHERE shipment_id = %s",
            (jsonb(tracking), shipment_id),
        )

    @staticmethod
    def insert_pick_list(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A new pick list row."""
        curs.execute(
            "INSERT INTO pick_list_view (pick_list_id, location_id, status, carrier,"
            " shipment_count, line_count, unit_count, created_at, updated_at) VALUES"
            " (%(pick_list_id)s, %(location_id)s, %(status)s, %(carrier)s, %(shipment_count)s,"
            " %(line_count)s, %(unit_count)s, %(at)s, %(at)s) ON CONFLICT DO NOTHING",
            row,
        )

    @staticmethod
    def update_pick_list(curs: Cursor[Any], pick_list_id: UUID, at: Any, **fields: Any) -> None:
        """Set some fields of a pick list row (field names are the projection's constants)."""
        assignments = "".join(f"{name} = %({name})s, " for name in fields)
        curs.execute(
            f"UPDATE pick_list_view SET {assignments}updated_at = %(at)s"
            " WHERE pick_list_id = %(id)s",
            {**fields, "at": at, "id": pick_list_id},
        )

    @staticmethod
    def drop_from_pick_list(curs: Cursor[Any], pick_list_id: UUID, at: Any) -> None:
        """One shipment fewer on the list."""
        curs.execute(
            "UPDATE pick_list_view SET shipment_count = shipment_count - 1, updated_at = %s"
            " WHERE pick_list_id = %s",
            (at, pick_list_id),
        )

    @staticmethod
    def set_bin(curs: Cursor[Any], location_id: str, sku: str, bin: str, at: Any) -> None:
        """Where a SKU lives at a location now."""
        curs.execute(
            "INSERT INTO bin_view VALUES (%s, %s, %s, %s) ON CONFLICT (location_id, sku)"
            " DO UPDATE SET bin = excluded.bin, updated_at = excluded.updated_at",
            (location_id, sku, bin, at),
        )

    # -- queries -----------------------------------------------------------------------------

    def _one(self, sql: str, *params: Any) -> dict[str, Any] | None:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(sql, params)
            row = curs.fetchone()
            return dict(row) if row is not None else None

    def get_shipment(self, shipment_id: UUID) -> dict[str, Any] | None:
        """One shipment, or None."""
        return self._one("SELECT * FROM shipment_view WHERE shipment_id = %s", shipment_id)

    def list_shipments(
        self,
        *,
        order_id: UUID | None,
        status: ShipmentStatus | None,
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

    def pick_candidates(self, location_id: str, slots: int) -> list[UUID]:
        """Open shipments at a location, oldest first, a margin beyond the slots to fill."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "SELECT shipment_id FROM shipment_view WHERE location_id = %s"
                " AND status = %s ORDER BY created_at, shipment_id LIMIT %s",
                (location_id, ShipmentStatus.OPEN, slots + CANDIDATE_MARGIN),
            )
            return [row["shipment_id"] for row in curs.fetchall()]

    def list_pick_lists(
        self,
        *,
        location_id: str | None,
        status: PickListStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of pick lists, newest first."""
        return self.page(
            "pick_list_view",
            order_by="created_at DESC, pick_list_id",
            limit=limit,
            offset=offset,
            location_id=location_id,
            status=status,
        )

    def get_package(self, package_id: UUID) -> dict[str, Any] | None:
        """One package, or None."""
        return self._one("SELECT * FROM package_view WHERE package_id = %s", package_id)

    def bins(self, location_id: str, skus: list[str]) -> dict[str, str]:
        """The bin of each of these SKUs at the location that has one."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "SELECT sku, bin FROM bin_view WHERE location_id = %s AND sku = ANY(%s)",
                (location_id, skus),
            )
            return {row["sku"]: row["bin"] for row in curs.fetchall()}

    def list_bins(
        self, *, location_id: str, sku: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of a location's bins by SKU."""
        return self.page(
            "bin_view",
            order_by="sku",
            limit=limit,
            offset=offset,
            location_id=location_id,
            sku=sku,
        )

    def reset_all(self, projection_name: str) -> None:
        """Empty every view so it is rebuilt from the event log."""
        self.reset(projection_name, VIEW_TABLES)


def _json_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: jsonb(v) if isinstance(v, list | dict) else v for k, v in fields.items()}
