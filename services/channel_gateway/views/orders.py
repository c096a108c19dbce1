"""Channel order read model: one row per channel order, held ones with their reasons."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from services.channel_gateway.domain import ChannelOrderStatus
from services.channel_gateway.views.page import Page
from shared.runtime.projection import jsonb

CHANNEL_ORDER_TABLES = ("channel_order_view",)


class OrderViews:
    """Channel orders as ops query them: by id, or by channel, external id and status."""

    datastore: Any
    page: Page  # ViewStore.page, for the one class these views are part of

    order_tables = (
        """CREATE TABLE IF NOT EXISTS channel_order_view (
            order_id uuid PRIMARY KEY,
            channel text NOT NULL,
            external_id text NOT NULL,
            status text NOT NULL,
            currency text,
            customer jsonb NOT NULL,
            shipping_address jsonb NOT NULL,
            lines jsonb NOT NULL,
            shipments jsonb NOT NULL DEFAULT '[]',
            cancelled boolean NOT NULL DEFAULT false,
            cancel_reason text,
            cancelled_at timestamptz,
            refunds jsonb NOT NULL DEFAULT '[]',
            refunded_total numeric NOT NULL DEFAULT 0,
            hold_reasons jsonb NOT NULL DEFAULT '[]',
            released_at timestamptz,
            received_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )""",
        # Databases made before holds existed get the new columns.
        "ALTER TABLE channel_order_view ALTER COLUMN currency DROP NOT NULL",
        "ALTER TABLE channel_order_view ADD COLUMN IF NOT EXISTS hold_reasons jsonb"
        " NOT NULL DEFAULT '[]'",
        "ALTER TABLE channel_order_view ADD COLUMN IF NOT EXISTS released_at timestamptz",
        "ALTER TABLE channel_order_view ADD COLUMN IF NOT EXISTS edits jsonb NOT NULL DEFAULT '[]'",
        # The carrier's latest word per shipment, and on the order as a whole.
        "ALTER TABLE channel_order_view ADD COLUMN IF NOT EXISTS tracking jsonb"
        " NOT NULL DEFAULT '{}'",
        "ALTER TABLE channel_order_view ADD COLUMN IF NOT EXISTS tracking_status text",
        "ALTER TABLE channel_order_view ADD COLUMN IF NOT EXISTS tracking_at timestamptz",
        "CREATE INDEX IF NOT EXISTS channel_order_view_received ON channel_order_view"
        " (received_at)",
        "CREATE INDEX IF NOT EXISTS channel_order_view_channel ON channel_order_view"
        " (channel, external_id)",
        "CREATE INDEX IF NOT EXISTS channel_order_view_status ON channel_order_view"
        " (status, received_at)",
    )

    # -- writes, inside the projection's transaction ---------------------------------------

    @staticmethod
    def insert_order(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A new channel order row (received or held)."""
        curs.execute(
            "INSERT INTO channel_order_view (order_id, channel, external_id, status, currency,"
            " customer, shipping_address, lines, hold_reasons, received_at, updated_at) VALUES"
            " (%(order_id)s, %(channel)s, %(external_id)s, %(status)s, %(currency)s,"
            " %(customer)s, %(shipping_address)s, %(lines)s, %(hold_reasons)s, %(at)s, %(at)s)"
            " ON CONFLICT (order_id) DO NOTHING",
            {
                "hold_reasons": [],
                **row,
                **{
                    k: jsonb(row.get(k, []))
                    for k in ("customer", "shipping_address", "lines", "hold_reasons")
                },
            },
        )

    @staticmethod
    def release_order(curs: Cursor[Any], order_id: UUID, at: Any, row: dict[str, Any]) -> None:
        """A held order was released with its now complete canonical order."""
        curs.execute(
            "UPDATE channel_order_view SET status = %(status)s, currency = %(currency)s,"
            " customer = %(customer)s, shipping_address = %(shipping_address)s, lines = %(lines)s,"
            " hold_reasons = '[]', released_at = %(at)s, updated_at = %(at)s"
            " WHERE order_id = %(order_id)s",
            {
                **row,
                "order_id": order_id,
                "at": at,
                **{k: jsonb(row[k]) for k in ("customer", "shipping_address", "lines")},
            },
        )

    @staticmethod
    def change_ship_to(
        curs: Cursor[Any], order_id: UUID, at: Any, address: Mapping[str, Any]
    ) -> None:
        """The channel's order ships elsewhere now."""
        curs.execute(
            "UPDATE channel_order_view SET shipping_address = %s, updated_at = %s"
            " WHERE order_id = %s",
            (jsonb(address), at, order_id),
        )

    @staticmethod
    def append_shipment(
        curs: Cursor[Any], order_id: UUID, at: Any, shipment: Mapping[str, Any]
    ) -> None:
        """Add a shipment that left, with its tracking number, to the order's list."""
        curs.execute(
            "UPDATE channel_order_view SET shipments = shipments || %s, updated_at = %s"
            " WHERE order_id = %s",
            (jsonb([shipment]), at, order_id),
        )

    @staticmethod
    def record_tracking(
        curs: Cursor[Any], order_id: UUID, at: Any, tracking: Mapping[str, Any]
    ) -> None:
        """The carrier's latest word on a shipment; the order's `tracking_status` is that of
        the newest word on any of its shipments (a late older one does not turn it back)."""
        happened_at = tracking["happened_at"]
        curs.execute(
            "UPDATE channel_order_view SET"
            " tracking = tracking || jsonb_build_object(%(shipment)s::text, %(tracking)s::jsonb),"
            " tracking_status = CASE WHEN tracking_at IS NULL OR tracking_at <= %(happened)s"
            " THEN %(status)s ELSE tracking_status END,"
            " tracking_at = GREATEST(tracking_at, %(happened)s::timestamptz), updated_at = %(at)s"
            " WHERE order_id = %(order_id)s",
            {
                "shipment": tracking["shipment_id"],
                "tracking": jsonb(dict(tracking)),
                "happened": happened_at,
                "status": tracking["status"],
                "at": at,
                "order_id": order_id,
            },
        )

    @staticmethod
    def mark_cancelled(
        curs: Cursor[Any], order_id: UUID, at: Any, status: str, reason: str, cancelled_at: str
    ) -> None:
        """The order was cancelled in the OMS."""
        curs.execute(
            "UPDATE channel_order_view SET status = %s, cancelled = true, cancel_reason = %s,"
            " cancelled_at = %s, updated_at = %s WHERE order_id = %s",
            (status, reason, cancelled_at, at, order_id),
        )

    @staticmethod
    def edit_lines(
        curs: Cursor[Any], order_id: UUID, at: Any, lines: list[Any], edit: Mapping[str, Any]
    ) -> None:
        """The OMS edited the order's lines: the lines after it, and the edit in the list."""
        curs.execute(
            "UPDATE channel_order_view SET lines = %s, edits = edits || %s, updated_at = %s"
            " WHERE order_id = %s",
            (jsonb(lines), jsonb([edit]), at, order_id),
        )

    @staticmethod
    def add_refund(curs: Cursor[Any], order_id: UUID, at: Any, refund: Mapping[str, Any]) -> None:
        """Add a refund to the order's list and its refunded total."""
        curs.execute(
            "UPDATE channel_order_view SET refunds = refunds || %s,"
            " refunded_total = refunded_total + %s, updated_at = %s WHERE order_id = %s",
            (jsonb([refund]), Decimal(refund["amount"]), at, order_id),
        )

    # -- queries -----------------------------------------------------------------------------

    def get_order(self, order_id: UUID) -> dict[str, Any] | None:
        """One channel order, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM channel_order_view WHERE order_id = %s", (order_id,))
            row = curs.fetchone()
            return dict(row) if row is not None else None

    def list_orders(
        self,
        *,
        channel: str | None,
        external_id: str | None,
        status: ChannelOrderStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of channel orders, newest first, and how many match in total."""
        return self.page(
            "channel_order_view",
            order_by="received_at DESC, order_id",
            limit=limit,
            offset=offset,
            channel=channel,
            external_id=external_id,
            status=status,
        )
