"""Kept channel news read model: one row per channel order never taken in, its latest news."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from services.channel_gateway.domain import ChannelChangeStatus
from services.channel_gateway.views.page import Page
from shared.runtime.projection import jsonb

CHANGE_TABLES = ("channel_change_view",)


class ChangeViews:
    """Kept channel news as ops list it: by channel and status, the latest first."""

    datastore: Any
    page: Page  # ViewStore.page, for the one class these views are part of

    change_tables = (
        """CREATE TABLE IF NOT EXISTS channel_change_view (
            change_id uuid PRIMARY KEY,
            order_id uuid NOT NULL,
            channel text NOT NULL,
            external_id text NOT NULL,
            status text NOT NULL,
            reason text NOT NULL,
            news jsonb NOT NULL,
            applied jsonb,
            applied_at timestamptz,
            dismiss_reason text,
            dismissed_at timestamptz,
            kept_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS channel_change_view_status ON channel_change_view"
        " (status, updated_at)",
        "CREATE INDEX IF NOT EXISTS channel_change_view_channel ON channel_change_view"
        " (channel, external_id)",
    )

    @staticmethod
    def insert_change(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """News of an order never taken in, kept for the first time (news: kind -> news)."""
        curs.execute(
            "INSERT INTO channel_change_view (change_id, order_id, channel, external_id, status,"
            " reason, news, kept_at, updated_at) VALUES (%(change_id)s, %(order_id)s,"
            " %(channel)s, %(external_id)s, %(status)s, %(reason)s, %(news)s, %(at)s, %(at)s)"
            " ON CONFLICT DO NOTHING",
            {**row, "news": jsonb(row["news"])},
        )

    @staticmethod
    def add_news(curs: Cursor[Any], change_id: UUID, at: Any, news: dict[str, Any]) -> None:
        """More news of the order: each replaces the kept one of its kind."""
        curs.execute(
            "UPDATE channel_change_view SET news = news || %s, updated_at = %s"
            " WHERE change_id = %s",
            (jsonb(news), at, change_id),
        )

    @staticmethod
    def update_change(curs: Cursor[Any], change_id: UUID, at: Any, **changes: Any) -> None:
        """The record applied or dismissed (column names are the projection's constants)."""
        columns = {k: jsonb(v) if isinstance(v, list | dict) else v for k, v in changes.items()}
        assignments = "".join(f"{column} = %({column})s, " for column in columns)
        curs.execute(
            f"UPDATE channel_change_view SET {assignments}updated_at = %(at)s"
            " WHERE change_id = %(change_id)s",
            {**columns, "at": at, "change_id": change_id},
        )

    def get_change(self, change_id: UUID) -> dict[str, Any] | None:
        """One record of kept news, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM channel_change_view WHERE change_id = %s", (change_id,))
            row = curs.fetchone()
            return dict(row) if row is not None else None

    def list_changes(
        self,
        *,
        channel: str | None,
        external_id: str | None,
        status: ChannelChangeStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of kept news, the latest news first, and how many match in total."""
        return self.page(
            "channel_change_view",
            order_by="updated_at DESC, change_id",
            limit=limit,
            offset=offset,
            channel=channel,
            external_id=external_id,
            status=status,
        )
