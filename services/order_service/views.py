"""Order read model: one row per order plus its timeline (SQL; only the status type is domain)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from services.order_service.domain import NOT_YET_SHIPPING, OrderStatus
from shared.runtime.projection import ViewStore, jsonb
from shared.text import contains_pattern, fold, grams, grams_of_part

ORDER_TABLES = ("order_view", "order_timeline")
# Newest first; order_id breaks ties so a cursor names one place in the order.
_NEWEST_FIRST = "placed_at DESC, order_id DESC"
# How far a search counts its matches: past that a count costs more than the page it heads.
MAX_COUNT = 1000


@dataclass(frozen=True)
class OrderSearch:
    """What an order list is narrowed to; None (or empty) narrows nothing."""

    q: str | None = None  # order id, number at the channel, external id, part of name or e-mail
    email: str | None = None  # the whole e-mail, any case
    sku: str | None = None  # one of the order's lines
    status: str | None = None
    payment_state: str | None = None
    channel: str | None = None
    placed_from: datetime | None = None  # inclusive
    placed_to: datetime | None = None  # exclusive
    after: tuple[datetime, UUID] | None = None  # (placed_at, order_id) of the previous page's last


@dataclass(frozen=True)
class OrderPage:
    """A page of order rows, how many match in all (at most MAX_COUNT: `capped` if more), and
    whether more follow the last row."""

    rows: list[dict[str, Any]]
    count: int
    more: bool
    capped: bool = False


def skus_of(lines: Sequence[Mapping[str, Any]]) -> list[str]:
    """The distinct SKUs of an order's lines, as the sku filter matches them."""
    return sorted({str(line["sku"]) for line in lines})


class OrderViews(ViewStore):
    """Orders as ops query them: by id, or searched and filtered, newest first."""

    # 1: the search columns (folded name and e-mail, their grams, SKUs), from Placed events.
    version = 1
    rebuilt_tables = ORDER_TABLES

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
        # Added with search: the customer's name and e-mail as fold() gives them, the lines'
        # SKUs. Rows built before are rebuilt from the log (version 1).
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS customer_name_folded text"
        " NOT NULL DEFAULT ''",
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS customer_email_folded text"
        " NOT NULL DEFAULT ''",
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS skus text[] NOT NULL DEFAULT '{}'",
        # Every two and three characters in a row of both: a part of either is found by its
        # grams' index (pg_trgm's splits at spaces and drops a part like "a ro" to a scan).
        "ALTER TABLE order_view ADD COLUMN IF NOT EXISTS search_grams text[] NOT NULL DEFAULT '{}'",
        # Keyset pages, newest first: each filter's index ends in (placed_at, order_id).
        "CREATE INDEX IF NOT EXISTS order_view_placed ON order_view (placed_at, order_id)",
        "DROP INDEX IF EXISTS order_view_status",
        "DROP INDEX IF EXISTS order_view_channel",
        "CREATE INDEX IF NOT EXISTS order_view_status_placed ON order_view"
        " (status, placed_at, order_id)",
        "CREATE INDEX IF NOT EXISTS order_view_channel_placed ON order_view"
        " (channel, placed_at, order_id)",
        "CREATE INDEX IF NOT EXISTS order_view_payment_placed ON order_view"
        " (payment_state, placed_at, order_id)",
        "CREATE INDEX IF NOT EXISTS order_view_external_id ON order_view (external_id)",
        "CREATE INDEX IF NOT EXISTS order_view_number ON order_view (channel_order_number)",
        "CREATE INDEX IF NOT EXISTS order_view_email ON order_view (customer_email_folded)",
        "CREATE INDEX IF NOT EXISTS order_view_skus ON order_view USING gin (skus)",
        "CREATE INDEX IF NOT EXISTS order_view_grams ON order_view USING gin (search_grams)",
        """CREATE TABLE IF NOT EXISTS order_timeline (
            order_id uuid NOT NULL,
            version int NOT NULL,
            at timestamptz NOT NULL,
            event text NOT NULL,
            detail jsonb NOT NULL,
            PRIMARY KEY (order_id, version)
        )""",
        # Added with access control: who asked for the change (absent: the system, or before).
        "ALTER TABLE order_timeline ADD COLUMN IF NOT EXISTS actor text",
    )

    # -- writes, inside the projection's transaction ---------------------------------------

    @staticmethod
    def insert_order(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A new order row (the order's own facts may be None: older orders lack them)."""
        documents = ("customer", "shipping_address", "lines")
        facts = ("billing_address", "shipping_lines", "totals")
        name = fold(str(row["customer"].get("name") or ""))
        email = fold(str(row["customer"].get("email") or ""))
        curs.execute(
            "INSERT INTO order_view (order_id, channel, external_id, status, currency, customer,"
            " shipping_address, lines, payment_state, payment_due_at, placed_at, updated_at,"
            " channel_order_number, billing_address, note, shipping_lines, totals,"
            " taxes_included, customer_name_folded, customer_email_folded, skus,"
            " search_grams)"
            " VALUES (%(order_id)s, %(channel)s, %(external_id)s, %(status)s, %(currency)s,"
            " %(customer)s, %(shipping_address)s, %(lines)s, %(payment_state)s,"
            " %(payment_due_at)s, %(at)s, %(at)s, %(channel_order_number)s,"
            " %(billing_address)s, %(note)s, %(shipping_lines)s, %(totals)s,"
            " %(taxes_included)s, %(name_folded)s, %(email_folded)s, %(skus)s,"
            " %(grams)s)"
            " ON CONFLICT (order_id) DO NOTHING",
            {
                "channel_order_number": None,
                "note": None,
                "taxes_included": None,
                **row,
                "name_folded": name,
                "email_folded": email,
                "skus": skus_of(row["lines"]),
                "grams": grams(name, email),
                **{k: jsonb(row[k]) for k in documents},
                **{k: None if row.get(k) is None else jsonb(row[k]) for k in facts},
            },
        )

    @staticmethod
    def update_order(curs: Cursor[Any], order_id: UUID, at: Any, **fields: Any) -> None:
        """Set some fields (none: only updated_at) of an order row (field names are the
        projection's constants); new lines bring their SKUs."""
        values = {k: jsonb(v) if isinstance(v, list | dict) else v for k, v in fields.items()}
        if "lines" in fields:
            values["skus"] = skus_of(fields["lines"])  # a text[], not a document
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
        curs: Cursor[Any],
        order_id: UUID,
        version: int,
        at: Any,
        event: str,
        detail: dict[str, Any],
        actor: str | None = None,
    ) -> None:
        """Record one thing that happened to an order, and who asked for it."""
        curs.execute(
            "INSERT INTO order_timeline (order_id, version, at, event, detail, actor)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (order_id, version, at, event, jsonb(detail), actor),
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
                "SELECT at, event, detail, actor FROM order_timeline WHERE order_id = %s"
                " ORDER BY version",
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
        search = OrderSearch(status=status, channel=channel, payment_state=payment_state)
        page = self.search_orders(search, limit=limit, offset=offset)
        return page.rows, page.count

    def search_orders(self, search: OrderSearch, *, limit: int, offset: int = 0) -> OrderPage:
        """Orders matching the search, newest first, from after `search.after` (skipping
        `offset`), and how many match in all (the cursor aside; up to MAX_COUNT)."""
        where, params = self._where(search, grams=True)
        matching = " AND ".join(where) or "TRUE"
        # Planned for these values, never prepared: a generic plan cannot tell "gmail" (half the
        # orders: walk the newest) from a rare name (use the grams' index), and costs 100x.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "SELECT count(*) AS n FROM"
                f" (SELECT 1 FROM order_view WHERE {matching} LIMIT %(count_to)s) AS matches",
                {**params, "count_to": MAX_COUNT + 1},
                prepare=False,
            )
            counted = curs.fetchone()
            n = counted["n"] if counted else 0
            many = n > MAX_COUNT
            if many:
                where, params = self._where(search, grams=False)
            page = " AND ".join([*where, "(placed_at, order_id) < (%(after_at)s, %(after_id)s)"])
            if search.after is None:
                page = " AND ".join(where) or "TRUE"
            else:
                params["after_at"], params["after_id"] = search.after
            with conn.transaction():
                if many:
                    _walk_newest_first(curs)
                curs.execute(
                    f"SELECT * FROM order_view WHERE {page} ORDER BY {_NEWEST_FIRST}"
                    " LIMIT %(limit)s OFFSET %(offset)s",
                    {**params, "limit": limit + 1, "offset": offset},
                    prepare=False,
                )
                rows = [dict(row) for row in curs.fetchall()]
        return OrderPage(rows[:limit], min(n, MAX_COUNT), len(rows) > limit, n > MAX_COUNT)

    def _where(self, search: OrderSearch, *, grams: bool) -> tuple[list[str], dict[str, Any]]:
        """The conditions of a search (SQL of our own) and their values (the caller's); with
        `grams`, a part of a name or e-mail is looked up in the grams' index."""
        where: list[str] = []
        params: dict[str, Any] = {}
        for column in ("status", "payment_state", "channel"):
            value = getattr(search, column)
            if value is not None:
                where.append(f"{column} = %({column})s")
                params[column] = value
        if search.email:
            where.append("customer_email_folded = %(email)s")
            params["email"] = fold(search.email)
        if search.sku:
            where.append("skus @> ARRAY[%(sku)s]::text[]")
            params["sku"] = search.sku
        if search.placed_from is not None:
            where.append("placed_at >= %(placed_from)s")
            params["placed_from"] = search.placed_from
        if search.placed_to is not None:
            where.append("placed_at < %(placed_to)s")
            params["placed_to"] = search.placed_to
        if search.q:
            where.append(self._q(search.q.strip(), params, grams=grams))
        return where, params

    def _q(self, q: str, params: dict[str, Any], *, grams: bool) -> str:
        """Matches of `q`: an id or number whole, a name or an e-mail in part (two characters
        at least: one would match most orders)."""
        folded = fold(q)
        params["q"] = q
        params["q_number"] = q if q.startswith("#") else f"#{q}"
        arms = ["external_id = %(q)s", "channel_order_number IN (%(q)s, %(q_number)s)"]
        if len(folded) >= 2:
            # The grams' index finds the rows holding all of the part's grams; LIKE keeps
            # those holding the part itself.
            params["q_like"] = contains_pattern(folded)
            part = "customer_name_folded LIKE %(q_like)s OR customer_email_folded LIKE %(q_like)s"
            if grams:
                params["q_grams"] = grams_of_part(folded)
                part = f"search_grams @> %(q_grams)s::text[] AND ({part})"
            arms.append(f"({part})")
        try:
            params["q_id"] = UUID(q)
            arms.insert(0, "order_id = %(q_id)s")
        except ValueError:
            pass
        return "(" + " OR ".join(arms) + ")"

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


def _walk_newest_first(curs: Cursor[Any]) -> None:
    """Plan this transaction's page by walking an index of placed_at, newest first.

    Only for searches known to match more than MAX_COUNT orders: the newest page is then found
    within a few thousand rows of the walk. The planner cannot know it: it takes a part's grams
    (or its LIKE) for rare and would read the whole table to sort it ('a no': 60 ms, walked 6 ms,
    make bench-search).
    """
    curs.execute(
        "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;"
        " SET LOCAL enable_sort = off"
    )
