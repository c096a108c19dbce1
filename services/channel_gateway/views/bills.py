"""Bills read model (one row per bill, by status) and the payment slips customers upload.

Slips are files, kept in a table of their own beside the views and not in the event log (the log
records each slip's hash, type and size), so a slip is never copied into every rebuild.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from services.channel_gateway.domain import BillStatus
from services.channel_gateway.views.page import Page
from shared.runtime.projection import jsonb

BILL_TABLES = ("bill_view",)


class BillViews:
    """Bills as sellers list them, and the slips of their transfers."""

    datastore: Any
    page: Page  # ViewStore.page, for the one class these views are part of

    bill_tables = (
        """CREATE TABLE IF NOT EXISTS bill_view (
            bill_id uuid PRIMARY KEY,
            number text NOT NULL,
            status text NOT NULL,
            chat text NOT NULL,
            handle text NOT NULL,
            customer_name text NOT NULL,
            currency text NOT NULL,
            lines jsonb NOT NULL,
            shipping_fee numeric NOT NULL,
            discount numeric NOT NULL,
            total numeric NOT NULL,
            note text,
            expires_at timestamptz NOT NULL,
            created_by text NOT NULL,
            confirmation jsonb,
            order_id uuid,
            payment_method text,
            slip jsonb,
            payment jsonb,
            shipments jsonb NOT NULL DEFAULT '[]',
            closed_reason text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS bill_view_status ON bill_view (status, created_at)",
        "CREATE INDEX IF NOT EXISTS bill_view_due ON bill_view (expires_at)"
        " WHERE status = 'unpaid'",
        # Files, not derived from the log: never emptied by a rebuild.
        """CREATE TABLE IF NOT EXISTS bill_slip (
            bill_id uuid NOT NULL,
            sha256 text NOT NULL,
            content_type text NOT NULL,
            content bytea NOT NULL,
            uploaded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (bill_id, sha256)
        )""",
    )

    @staticmethod
    def insert_bill(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A new bill."""
        curs.execute(
            "INSERT INTO bill_view (bill_id, number, status, chat, handle, customer_name,"
            " currency, lines, shipping_fee, discount, total, note, expires_at, created_by,"
            " created_at, updated_at) VALUES (%(bill_id)s, %(number)s, %(status)s, %(chat)s,"
            " %(handle)s, %(customer_name)s, %(currency)s, %(lines)s, %(shipping_fee)s,"
            " %(discount)s, %(total)s, %(note)s, %(expires_at)s, %(created_by)s, %(at)s, %(at)s)"
            " ON CONFLICT DO NOTHING",
            {**row, "lines": jsonb(row["lines"])},
        )

    @staticmethod
    def update_bill(curs: Cursor[Any], bill_id: UUID, at: Any, **changes: Any) -> None:
        """Columns of the bill changed (names are the projection's constants)."""
        columns = {k: jsonb(v) if isinstance(v, list | dict) else v for k, v in changes.items()}
        assignments = "".join(f"{column} = %({column})s, " for column in columns)
        curs.execute(
            f"UPDATE bill_view SET {assignments}updated_at = %(at)s WHERE bill_id = %(bill_id)s",
            {**columns, "at": at, "bill_id": bill_id},
        )

    @staticmethod
    def add_bill_shipment(curs: Cursor[Any], bill_id: UUID, at: Any, shipment: Any) -> None:
        """A shipment of the bill's order left."""
        curs.execute(
            "UPDATE bill_view SET shipments = shipments || %s, status = %s, updated_at = %s"
            " WHERE bill_id = %s",
            (jsonb([shipment]), BillStatus.SHIPPED, at, bill_id),
        )

    def get_bill(self, bill_id: UUID) -> dict[str, Any] | None:
        """One bill, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM bill_view WHERE bill_id = %s", (bill_id,))
            row = curs.fetchone()
            return dict(row) if row is not None else None

    def list_bills(
        self, *, status: BillStatus | None, chat: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of bills, newest first, and how many match."""
        return self.page(
            "bill_view",
            order_by="created_at DESC, bill_id",
            limit=limit,
            offset=offset,
            status=status,
            chat=chat,
        )

    def due_bills(self, now: Any, limit: int = 100) -> list[UUID]:
        """Unpaid bills past their time (cash on delivery ones never expire)."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "SELECT bill_id FROM bill_view WHERE status = 'unpaid' AND expires_at <= %s"
                " AND payment_method IS DISTINCT FROM 'cod' ORDER BY expires_at LIMIT %s",
                (now, limit),
            )
            return [row["bill_id"] for row in curs.fetchall()]

    def store_slip(self, bill_id: UUID, sha256: str, content_type: str, content: bytes) -> None:
        """Keep a slip's file (the same file again is kept once)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO bill_slip (bill_id, sha256, content_type, content)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (bill_id, sha256, content_type, content),
            )

    def slip(self, bill_id: UUID, sha256: str) -> tuple[str, bytes] | None:
        """A slip's type and file, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "SELECT content_type, content FROM bill_slip WHERE bill_id = %s AND sha256 = %s",
                (bill_id, sha256),
            )
            row = curs.fetchone()
            return (row["content_type"], bytes(row["content"])) if row else None
