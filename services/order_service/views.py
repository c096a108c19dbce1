"""Order read model: one row per order plus its timeline (SQL; only the status type is domain)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from services.order_service.domain import NOT_YET_SHIPPING, OrderStatus
from shared.runtime.projection import ViewStore, jsonb

ORDER_TABLES = ("order_view", "order_timeline")


class OrderViews(ViewStore):
    """Orders as ops query them: by id, or filtered by status and channel."""

    tables = (
        """CREATE TABLE IF NOT EXISTS order_view (
            order_id uuid PRIMARY KEY,
            channel text NOT NULL,
            external_id text NOT NULL,
            status text NOT NULL,
            currency text NOT NULL,
            customer jsonb NOT NULL,
            shipping_address jsonb NOT NULL,
            lines jsonb NOT NULL,
            allocations jsonb NOT NULL DEFAULT '[]',
            shipments jsonb NOT NULL DEFAULT '[]',
            returned jsonb NOT NULL DEFAULT '{}',
            refunded_total numeric NOT NULL DEFAULT 0,
            placed_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )""",
        # Added with short picks; views of older databases gain the column.
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS short jsonb NOT NULL DEFAULT '{}'",
        # Added with payment states: orders before them were paid.
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS payment_state text"
        " NOT NULL DEFAULT 'paid'",
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS payment_due_at timestamptz",
        "CREATE INDEX IF NOT EXISTS order_view_payment_due ON order_view (payment_due_at)"
        " WHERE payment_due_at IS NOT NULL",
        # Added with ship-to changes: the shipments being picked (shipment -> pick list).
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS picking jsonb NOT NULL DEFAULT '{}'",
        # Added with the order's own facts (number at the channel, note, totals): null before.
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS channel_order_number text",
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS billing_address jsonb",
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS note text",
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS shipping_lines jsonb",
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS totals jsonb",
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS taxes_included boolean",
        # Added with line edits: how often the lines were edited (0 before).
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS revision integer NOT NULL DEFAULT 0",
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS promise_date timestamptz",
        "CREATE INDEX IF NOT EXISTS order_view_status ON order_view (status, placed_at)",
        "CREATE INDEX IF NOT EXISTS order_view_channel ON order_view (channel, placed_at)",
        """CREATE TABLE IF NOT EXISTS order_timeline (
            order_id uuid NOT NULL,
            version int NOT NULL,
            at timestamptz NOT NULL,
            event text NOT NULL,
            detail jsonb NOT NULL,
            PRIMARY KEY (order_id, version)
        )""",
    )

    # -- writes, inside the projection's transaction ---------------------------------------

    @staticmethod
    def insert_order(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A new order row (the order's own facts may be None: older orders lack them)."""
        documents = ("customer", "shipping_address", "lines")
        facts = ("billing_address", "shipping_lines", "totals")
        curs.execute(
            "INSERT INTO order_view (order_id, channel, external_id, status, currency, customer,"
            " shipping_address, lines, payment_state, payment_due_at, placed_at, updated_at,"
            " channel_order_number, billing_address, note, shipping_lines, totals,"
            " taxes_included)"
            " VALUES (%(order_id)s, %(channel)s, %(external_id)s, %(status)s, %(currency)s,"
            " %(customer)s, %(shipping_address)s, %(lines)s, %(payment_state)s,"
            " %(payment_due_at)s, %(at)s, %(at)s, %(channel_order_number)s,"
            " %(billing_address)s, %(note)s, %(shipping_lines)s, %(totals)s,"
            " %(taxes_included)s) ON CONFLICT (order_id) DO NOTHING",
            {
                "channel_order_number": None,
                "note": None,
                "taxes_included": None,
                **row,
                **{k: jsonb(row[k]) for k in documents},
                **{k: None if row.get(k) is None else jsonb(row[k]) for k in facts},
            },
        )

    @staticmethod
    def update_order(curs: Cursor[Any], order_id: UUID, at: Any, **fields: Any) -> None:
        """Set some fields (none: only updated_at) of an order row (field names are the
        projection's constants)."""
        values = {k: jsonb(v) if isinstance(v, list | dict) else v for k, v in fields.items()}
        assignments = "".join(f"{name} = %({name})s, " for name in values)
        curs.execute(
            f"UPDATE order_view SET {assignments}updated_at = %(at)s WHERE order_id = %(id)s",
            {**values, "at": at, "id": order_id},
        )

    @staticmethod
    def append_shipment(curs: Cursor[Any], order_id: UUID, shipment: Mapping[str, object]) -> None:
        """Add a shipment that left to the order's list."""
        curs.execute(
            "UPDATE order_view SET shipments = shipments || %s WHERE order_id = %s",
            (jsonb([shipment]), order_id),
        )

    @staticmethod
    def add_returned(
        curs: Cursor[Any], order_id: UUID, at: Any, lines: Sequence[Mapping[str, Any]], status: str
    ) -> None:
        """Add units that came back to the order's returned count per SKU; set its status."""
        added: dict[str, int] = {}
        for line in lines:
            added[line["sku"]] = added.get(line["sku"], 0) + int(line["quantity"])
        curs.execute(
            "UPDATE order_view SET status = %(status)s, updated_at = %(at)s, returned = ("
            " SELECT coalesce(jsonb_object_agg(sku, units), '{}'::jsonb) FROM ("
            "  SELECT key AS sku, sum(value::int) AS units FROM ("
            "   SELECT key, value FROM jsonb_each_text(order_view.returned)"
            "   UNION ALL SELECT key, value FROM jsonb_each_text(%(added)s)"
            "  ) parts GROUP BY key) sums)"
            " WHERE order_id = %(id)s",
            {"status": status, "at": at, "added": jsonb(added), "id": order_id},
        )

    @staticmethod
    def add_refund(curs: Cursor[Any], order_id: UUID, at: Any, amount: Decimal) -> None:
        """Add a refund to the order's refunded total."""
        curs.execute(
            "UPDATE order_view SET refunded_total = refunded_total + %s, updated_at = %s"
            " WHERE order_id = %s",
            (amount, at, order_id),
        )

    @staticmethod
    def add_timeline(
        curs: Cursor[Any], order_id: UUID, version: int, at: Any, event: str, detail: dict[str, Any]
    ) -> None:
        """Record one thing that happened to an order."""
        curs.execute(
            "INSERT INTO order_timeline VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (order_id, version, at, event, jsonb(detail)),
        )

    # -- queries -----------------------------------------------------------------------------

    def get_order(self, order_id: UUID) -> dict[str, Any] | None:
        """One order with its timeline, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM order_view WHERE order_id = %s", (order_id,))
            order = curs.fetchone()
            if order is None:
                return None
            curs.execute(
                "SELECT at, event, detail FROM order_timeline WHERE order_id = %s ORDER BY version",
                (order_id,),
            )
            order["timeline"] = curs.fetchall()
            return dict(order)

    def list_orders(
        self,
        *,
        status: OrderStatus | None,
        channel: str | None,
        limit: int,
        offset: int,
        payment_state: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of orders, newest first, and how many match in total."""
        return self.page(
            "order_view",
            order_by="placed_at DESC, order_id",
            limit=limit,
            offset=offset,
            status=status,
            channel=channel,
            payment_state=payment_state,
        )

    def overdue_unpaid(self, now: datetime, limit: int) -> list[UUID]:
        """Orders whose payment deadline has passed and that are not on their way yet."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "SELECT order_id FROM order_view WHERE payment_due_at <= %s AND status = ANY(%s)"
                " ORDER BY payment_due_at LIMIT %s",
                (now, [s.value for s in NOT_YET_SHIPPING], limit),
            )
            return [row["order_id"] for row in curs.fetchall()]

    def reset_all(self, projection_name: str) -> None:
        """Empty the order views so they are rebuilt from the event log."""
        self.reset(projection_name, ORDER_TABLES)
