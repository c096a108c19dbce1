"""Returns read model: one row per return and one per refund, with or without a return (SQL;
only domain value types)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from services.returns_service.domain import ReturnLineSummary, ReturnStatus
from shared.runtime.projection import ViewStore, jsonb

RETURN_TABLES = ("return_view", "refund_view")


class ReturnViews(ViewStore):
    """Returns and refunds as ops query them: by id, or filtered by order and status."""

    tables = (
        """CREATE TABLE IF NOT EXISTS return_view (
            return_id uuid PRIMARY KEY,
            order_id uuid NOT NULL,
            status text NOT NULL,
            currency text NOT NULL,
            lines jsonb NOT NULL,
            receipts jsonb NOT NULL DEFAULT '[]',
            refunded_total numeric NOT NULL DEFAULT 0,
            requested_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS return_view_order ON return_view (order_id, requested_at)",
        "CREATE INDEX IF NOT EXISTS return_view_status ON return_view (status, requested_at)",
        """CREATE TABLE IF NOT EXISTS refund_view (
            refund_id uuid PRIMARY KEY,
            return_id uuid NOT NULL,
            order_id uuid NOT NULL,
            sequence int NOT NULL,
            amount numeric NOT NULL,
            full_amount numeric NOT NULL,
            capped boolean NOT NULL,
            currency text NOT NULL,
            lines jsonb NOT NULL,
            refunded_at timestamptz NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS refund_view_return ON refund_view (return_id, sequence)",
        "CREATE INDEX IF NOT EXISTS refund_view_order ON refund_view (order_id, refunded_at)",
        # Amounts keep their currency's own places (KWD 3, JPY 0): views made when they were cut
        # to cents are widened (no rewrite; a no-op once done). Rebuild them to restore the places.
        "ALTER TABLE return_view ALTER COLUMN refunded_total TYPE numeric",
        "ALTER TABLE refund_view ALTER COLUMN amount TYPE numeric,"
        " ALTER COLUMN full_amount TYPE numeric",
        # Refunds without a return (a short pick, a lost parcel, goodwill) have no return and no
        # receipt; rows made before them are refunds of returns' units (the defaults).
        "ALTER TABLE refund_view ALTER COLUMN return_id DROP NOT NULL,"
        " ALTER COLUMN sequence DROP NOT NULL,"
        " ADD COLUMN IF NOT EXISTS reason text NOT NULL DEFAULT 'return',"
        " ADD COLUMN IF NOT EXISTS refund_kind text NOT NULL DEFAULT 'units',"
        " ADD COLUMN IF NOT EXISTS note text",
        "CREATE INDEX IF NOT EXISTS refund_view_reason ON refund_view (reason, refunded_at)",
    )

    # -- writes, inside the projection's transaction ---------------------------------------

    @staticmethod
    def insert_return(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A new return row."""
        curs.execute(
            "INSERT INTO return_view (return_id, order_id, status, currency, lines,"
            " requested_at, updated_at) VALUES (%(return_id)s, %(order_id)s, %(status)s,"
            " %(currency)s, %(lines)s, %(at)s, %(at)s) ON CONFLICT (return_id) DO NOTHING",
            {**row, "lines": jsonb(row["lines"])},
        )

    @staticmethod
    def lines_of(curs: Cursor[Any], return_id: UUID) -> list[ReturnLineSummary] | None:
        """The line summary of a return, locked until the projection's transaction ends."""
        curs.execute("SELECT lines FROM return_view WHERE return_id = %s FOR UPDATE", (return_id,))
        row: Any = curs.fetchone()  # the datastore's cursors return dict rows
        return None if row is None else list(row["lines"])

    @staticmethod
    def add_receipt(
        curs: Cursor[Any],
        return_id: UUID,
        at: Any,
        receipt: dict[str, Any],
        lines: list[ReturnLineSummary],
        status: ReturnStatus,
    ) -> None:
        """Append a receipt and set the return's new line summary and status."""
        curs.execute(
            "UPDATE return_view SET receipts = receipts || %s, lines = %s, status = %s,"
            " updated_at = %s WHERE return_id = %s",
            (jsonb([receipt]), jsonb(lines), status, at, return_id),
        )

    @staticmethod
    def insert_refund(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A refund row, and its amount added to its return's refunded total (if it has one)."""
        curs.execute(
            "INSERT INTO refund_view (refund_id, return_id, order_id, sequence, amount,"
            " full_amount, capped, currency, lines, refunded_at, reason, refund_kind, note)"
            " VALUES (%(refund_id)s, %(return_id)s, %(order_id)s, %(sequence)s, %(amount)s,"
            " %(full_amount)s, %(capped)s, %(currency)s, %(lines)s, %(refunded_at)s,"
            " %(reason)s, %(refund_kind)s, %(note)s) ON CONFLICT (refund_id) DO NOTHING",
            {"reason": "return", "refund_kind": "units", "note": None}
            | {**row, "lines": jsonb(row["lines"])},
        )
        if curs.rowcount and row["return_id"] is not None:
            curs.execute(
                "UPDATE return_view SET refunded_total = refunded_total + %s, updated_at = %s"
                " WHERE return_id = %s",
                (row["amount"], row["refunded_at"], row["return_id"]),
            )

    # -- queries -----------------------------------------------------------------------------

    def get_return(self, return_id: UUID) -> dict[str, Any] | None:
        """One return with its refunds, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM return_view WHERE return_id = %s", (return_id,))
            row = curs.fetchone()
            if row is None:
                return None
            return _with_refunds(curs, [dict(row)])[0]

    def list_returns(
        self, *, order_id: UUID | None, status: ReturnStatus | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of returns with their refunds, newest first, and how many match in total."""
        rows, total = self.page(
            "return_view",
            order_by="requested_at DESC, return_id",
            limit=limit,
            offset=offset,
            order_id=order_id,
            status=status,
        )
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            return _with_refunds(curs, rows), total

    def list_refunds(
        self,
        *,
        order_id: UUID | None,
        return_id: UUID | None,
        limit: int,
        offset: int,
        reason: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of refunds (of returns and without a return), newest first, and how many
        match in total."""
        return self.page(
            "refund_view",
            order_by="refunded_at DESC, refund_id",
            limit=limit,
            offset=offset,
            order_id=order_id,
            return_id=return_id,
            reason=reason,
        )

    def get_refund(self, refund_id: UUID) -> dict[str, Any] | None:
        """One refund, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM refund_view WHERE refund_id = %s", (refund_id,))
            row = curs.fetchone()
            return None if row is None else dict(row)

    def reset_all(self, projection_name: str) -> None:
        """Empty the returns views so they are rebuilt from the event log."""
        self.reset(projection_name, RETURN_TABLES)


def _with_refunds(
    curs: Cursor[dict[str, Any]], returns: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Attach each return's refunds, in receipt order, with one query."""
    ids = [r["return_id"] for r in returns]
    by_return: dict[UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        curs.execute(
            "SELECT * FROM refund_view WHERE return_id = ANY(%s) ORDER BY sequence", (ids,)
        )
        for refund in curs.fetchall():
            by_return[refund["return_id"]].append(dict(refund))
    return [{**r, "refunds": by_return[r["return_id"]]} for r in returns]
