"""Users and their tokens as admins list them (never a token, only its id and label)."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor
from psycopg.rows import dict_row

from services.channel_gateway.views.page import Page

USER_TABLES = ("user_view", "access_token_view")


class UserViews:
    """Who may call the OMS: users by name, tokens by id and by user."""

    datastore: Any
    page: Page  # ViewStore.page, for the one class these views are part of

    user_tables = (
        """CREATE TABLE IF NOT EXISTS user_view (
            name text PRIMARY KEY,
            role text NOT NULL,
            kind text NOT NULL,
            disabled boolean NOT NULL DEFAULT false,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL,
            disabled_by text,
            disabled_at timestamptz
        )""",
        """CREATE TABLE IF NOT EXISTS access_token_view (
            token_id text PRIMARY KEY,
            name text NOT NULL,
            role text NOT NULL,
            label text NOT NULL,
            issued_by text NOT NULL,
            issued_at timestamptz NOT NULL,
            expires_at timestamptz,
            revoked_by text,
            revoked_at timestamptz
        )""",
        "CREATE INDEX IF NOT EXISTS access_token_view_name ON access_token_view (name, issued_at)",
    )

    @staticmethod
    def insert_user(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A new user."""
        curs.execute(
            "INSERT INTO user_view (name, role, kind, created_by, created_at)"
            " VALUES (%(name)s, %(role)s, %(kind)s, %(created_by)s, %(at)s) ON CONFLICT DO NOTHING",
            row,
        )

    @staticmethod
    def disable_user(curs: Cursor[Any], name: str, by: str, at: Any) -> None:
        """The user was disabled."""
        curs.execute(
            "UPDATE user_view SET disabled = true, disabled_by = %s, disabled_at = %s"
            " WHERE name = %s",
            (by, at, name),
        )

    @staticmethod
    def insert_token(curs: Cursor[Any], row: dict[str, Any]) -> None:
        """A token was issued."""
        curs.execute(
            "INSERT INTO access_token_view (token_id, name, role, label, issued_by, issued_at,"
            " expires_at) VALUES (%(token_id)s, %(name)s, %(role)s, %(label)s, %(issued_by)s,"
            " %(issued_at)s, %(expires_at)s) ON CONFLICT DO NOTHING",
            row,
        )

    @staticmethod
    def revoke_token(curs: Cursor[Any], token_id: str, by: str, at: Any) -> None:
        """A token was revoked."""
        curs.execute(
            "UPDATE access_token_view SET revoked_by = %s, revoked_at = %s WHERE token_id = %s",
            (by, at, token_id),
        )

    def get_user(self, name: str) -> dict[str, Any] | None:
        """One user with their tokens, or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM user_view WHERE lower(name) = lower(%s)", (name,))
            row = curs.fetchone()
            if row is None:
                return None
            curs.execute(
                "SELECT * FROM access_token_view WHERE name = %s ORDER BY issued_at",
                (row["name"],),
            )
            return {**row, "tokens": curs.fetchall()}

    def get_token(self, token_id: str) -> dict[str, Any] | None:
        """One token's record (never the token), or None."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT * FROM access_token_view WHERE token_id = %s", (token_id,))
            row = curs.fetchone()
            return dict(row) if row is not None else None

    def list_users(self, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """A page of users by name, and how many there are."""
        return self.page("user_view", order_by="name", limit=limit, offset=offset)

    def list_tokens(
        self, *, name: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of tokens (of one user, if named), the newest first."""
        return self.page(
            "access_token_view",
            order_by="issued_at DESC, token_id",
            limit=limit,
            offset=offset,
            name=name,
        )
