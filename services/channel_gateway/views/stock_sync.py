"""Stock sync state: what each SKU's channels may sell (latest wins) and what each channel holds.

Two tables of their own, not events and not rebuilt with the views: `stock_wanted` keeps the
latest ChannelAvailabilityChanged of each SKU (every channel's figure; a row only moves forward
by the SKU's stock version, so a redelivered or late message changes nothing), `stock_push`
what was last pushed to each channel and how its attempts fare. A SKU is due at a channel while
the two differ; many changes between two pushes make one push of the latest (coalescing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row

from shared.runtime.projection import jsonb

STOCK_SYNC_TABLES = (
    """CREATE TABLE IF NOT EXISTS stock_wanted (
        sku text PRIMARY KEY,
        stock_version bigint NOT NULL,
        channels jsonb NOT NULL,
        changed_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE IF NOT EXISTS stock_push (
        channel_id text NOT NULL,
        sku text NOT NULL,
        pushed jsonb,
        pushed_version bigint,
        pushed_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_attempt_at timestamptz,
        last_error text,
        next_attempt_at timestamptz,
        gave_up_version bigint,
        not_listed boolean NOT NULL DEFAULT false,
        forced boolean NOT NULL DEFAULT false,
        PRIMARY KEY (channel_id, sku)
    )""",
    # The pusher's gate: the latest figure kept, and the pushes waiting for a time or forced.
    "CREATE INDEX IF NOT EXISTS stock_wanted_received ON stock_wanted (received_at)",
    "CREATE INDEX IF NOT EXISTS stock_push_waiting ON stock_push (channel_id)"
    " WHERE forced OR next_attempt_at IS NOT NULL",
)

# One channel's view of every SKU: what it should hold (its own figure, else "*"), what it holds.
_JOINED = """SELECT w.sku, COALESCE(w.channels -> %(channel)s, w.channels -> '*') AS wanted,
        w.stock_version, w.changed_at, p.pushed, p.pushed_version, p.pushed_at,
        COALESCE(p.attempts, 0) AS attempts, p.last_attempt_at, p.last_error, p.next_attempt_at,
        p.gave_up_version, COALESCE(p.not_listed, false) AS not_listed,
        COALESCE(p.forced, false) AS forced
    FROM stock_wanted w LEFT JOIN stock_push p ON p.channel_id = %(channel)s AND p.sku = w.sku"""

_STATUS = """CASE
        WHEN s.not_listed AND NOT s.forced THEN 'not_listed'
        WHEN s.gave_up_version >= s.stock_version AND NOT s.forced THEN 'failed'
        WHEN s.pushed IS NOT DISTINCT FROM s.wanted AND NOT s.forced THEN 'synced'
        WHEN s.attempts > 0 THEN 'retrying'
        ELSE 'pending' END"""

_UPSERT_PUSH = """INSERT INTO stock_push AS p (channel_id, sku, attempts, last_attempt_at)
    VALUES (%(channel)s, %(sku)s, 0, now()) ON CONFLICT (channel_id, sku) DO NOTHING"""


@dataclass(frozen=True)
class StockGate:
    """Whether a channel may have anything due, without asking per SKU."""

    wanted_at: datetime | None  # when the latest figure was kept
    waiting: dict[str, tuple[datetime | None, bool]]  # channel -> (earliest retry, forced)

    def quiet(self, channel_id: str, seen: datetime | None, now: datetime) -> bool:
        """Nothing can be due at the channel: no figure kept since `seen` (when it had nothing
        due), no retry due and nothing forced."""
        if self.wanted_at is not None and (seen is None or self.wanted_at > seen):
            return False
        next_at, forced = self.waiting.get(channel_id, (None, False))
        return not forced and (next_at is None or next_at > now)


class StockSyncViews:
    """What channels should hold and what they were last told, per SKU."""

    datastore: Any
    stock_sync_tables = STOCK_SYNC_TABLES

    # -- the consumer: latest wins ------------------------------------------------------------

    def want_stock(
        self, sku: str, stock_version: int, channels: dict[str, Any], changed_at: datetime
    ) -> bool:
        """Keep this figure of a SKU unless a later one is kept already; True if kept."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO stock_wanted (sku, stock_version, channels, changed_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (sku) DO UPDATE SET"
                " stock_version = EXCLUDED.stock_version, channels = EXCLUDED.channels,"
                " changed_at = EXCLUDED.changed_at, received_at = now()"
                " WHERE stock_wanted.stock_version < EXCLUDED.stock_version",
                (sku, stock_version, jsonb(channels), changed_at),
                prepare=True,
            )
            return bool(curs.rowcount)

    # -- the worker ---------------------------------------------------------------------------

    def stock_gate(self) -> StockGate:
        """When the latest figure was kept, and per channel its earliest retry and whether ops
        forced a push: two index reads, so an idle pusher does not scan every SKU."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT max(received_at) AS at FROM stock_wanted")
            row = curs.fetchone()
            curs.execute(
                "SELECT channel_id, min(next_attempt_at) AS next_at, bool_or(forced) AS forced"
                " FROM stock_push WHERE forced OR next_attempt_at IS NOT NULL GROUP BY channel_id"
            )
            waiting = {r["channel_id"]: (r["next_at"], bool(r["forced"])) for r in curs.fetchall()}
        return StockGate(row["at"] if row else None, waiting)

    def due_stock(self, channel_id: str, limit: int) -> list[dict[str, Any]]:
        """SKUs whose channel holds another figure than it should, oldest change first (not
        those it does not list, nor those given up on at this figure, unless forced), of the
        SKUs with a figure for it."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                f"SELECT * FROM ({_JOINED}) s WHERE s.wanted IS NOT NULL AND"
                " (s.forced OR (s.pushed IS DISTINCT FROM s.wanted AND NOT s.not_listed"
                " AND (s.gave_up_version IS NULL OR s.gave_up_version < s.stock_version)))"
                " AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= now())"
                " ORDER BY COALESCE(s.next_attempt_at, s.changed_at), s.sku LIMIT %(limit)s",
                {"channel": channel_id, "limit": limit},
            )
            return [dict(row) for row in curs.fetchall()]

    def stock_pushed(self, channel_id: str, sku: str, pushed: dict[str, Any], version: int) -> None:
        """The channel holds this figure now."""
        self._push_row(
            channel_id,
            sku,
            "pushed = %(pushed)s, pushed_version = %(version)s, pushed_at = now(), attempts = 0,"
            " last_error = NULL, next_attempt_at = NULL, gave_up_version = NULL,"
            " not_listed = false, forced = false",
            pushed=jsonb(pushed),
            version=version,
        )

    def stock_push_failed(
        self, channel_id: str, sku: str, version: int, error: str, retry_at: datetime | None
    ) -> None:
        """An attempt failed: tried again at retry_at, or given up on at this figure (None)."""
        self._push_row(
            channel_id,
            sku,
            "attempts = CASE WHEN p.gave_up_version IS NOT NULL THEN 1 ELSE p.attempts + 1 END,"
            " last_error = %(error)s, next_attempt_at = %(retry_at)s,"
            " gave_up_version = CASE WHEN %(retry_at)s::timestamptz IS NULL THEN %(version)s END,"
            " forced = p.forced AND %(retry_at)s::timestamptz IS NOT NULL",
            error=error[:1000],
            retry_at=retry_at,
            version=version,
        )

    def stock_not_listed(self, channel_id: str, sku: str, reason: str) -> None:
        """The channel does not sell the SKU: nothing to tell it until ops ask again."""
        self._push_row(
            channel_id,
            sku,
            "not_listed = true, last_error = %(error)s, next_attempt_at = NULL, forced = false,"
            " attempts = 0",
            error=reason[:1000],
        )

    def _push_row(self, channel_id: str, sku: str, changes: str, **values: Any) -> None:
        params = {"channel": channel_id, "sku": sku, **values}
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(_UPSERT_PUSH, params)
            curs.execute(
                f"UPDATE stock_push AS p SET last_attempt_at = now(), {changes}"
                " WHERE p.channel_id = %(channel)s AND p.sku = %(sku)s",
                params,
            )

    # -- ops ----------------------------------------------------------------------------------

    def stock_sync_page(
        self, channel_id: str, *, status: str | None, sku: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of one channel's SKUs with what it should hold, holds, and how pushes fare."""
        where = " AND ".join(
            part
            for part, value in (("status = %(status)s", status), ("sku = %(sku)s", sku))
            if value is not None
        )
        query = f"SELECT * FROM (SELECT s.*, {_STATUS} AS status FROM ({_JOINED}) s) t" + (
            f" WHERE {where}" if where else ""
        )
        params = {"channel": channel_id, "status": status, "sku": sku}
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(f"SELECT count(*) AS n FROM ({query}) c", params)
            counted = curs.fetchone()
            curs.execute(
                query + " ORDER BY sku LIMIT %(limit)s OFFSET %(offset)s",
                {**params, "limit": limit, "offset": offset},
            )
            return [dict(row) for row in curs.fetchall()], counted["n"] if counted else 0

    def stock_sync_counts(self, channel_id: str) -> dict[str, int]:
        """How many of the channel's SKUs are in each status."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                f"SELECT {_STATUS} AS status, count(*) AS n FROM ({_JOINED}) s GROUP BY 1",
                {"channel": channel_id},
            )
            return {row["status"]: row["n"] for row in curs.fetchall()}

    def force_stock_push(self, channel_id: str, sku: str | None) -> int:
        """Push a SKU (None: every SKU) to the channel again, whatever it was told; how many.
        A SKU whose figure names neither this channel nor "*" has nothing to push here."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO stock_push (channel_id, sku, forced)"
                " SELECT %(channel)s, w.sku, true FROM stock_wanted w"
                " WHERE (%(sku)s::text IS NULL OR w.sku = %(sku)s)"
                " AND (w.channels ? %(channel)s OR w.channels ? '*')"
                " ON CONFLICT (channel_id, sku) DO UPDATE SET forced = true, attempts = 0,"
                " next_attempt_at = NULL",
                {"channel": channel_id, "sku": sku},
            )
            return int(curs.rowcount)
