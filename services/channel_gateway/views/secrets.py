"""Channel credentials, kept out of the event log in a table of their own.

Why not events: an event log is forever and is copied into views and logs, so a secret stored
there could never be rotated away. Here a secret is replaced in place; the replaced webhook
secret is kept for a grace period (Shopify signs with the old one for a while after rotation).
The API never returns values; structured logs never see them (SecretStr at the edge).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

TABLE = """CREATE TABLE IF NOT EXISTS channel_secret (
    channel_id text PRIMARY KEY,
    secrets jsonb NOT NULL,
    previous jsonb NOT NULL DEFAULT '{}',
    previous_until timestamptz,
    updated_at timestamptz NOT NULL
)"""


@dataclass(frozen=True)
class Secrets:
    """A channel's current secrets, and those replaced less than the grace period ago."""

    current: dict[str, str] = field(default_factory=dict)
    previous: dict[str, str] = field(default_factory=dict)

    def candidates(self, name: str) -> list[str]:
        """Values a signature may be made with: the current one, then the previous one."""
        values = [self.current.get(name), self.previous.get(name)]
        return [v for v in values if v]

    def __repr__(self) -> str:
        return f"Secrets(names={sorted(self.current)})"  # never the values


class SecretStore:
    """channel_secret rows in the gateway's database (next to the views, not in the event log)."""

    def __init__(self, datastore: Any, grace: timedelta) -> None:
        self.datastore = datastore
        self.grace = grace  # how long a replaced webhook secret is still accepted

    def create_table(self) -> None:
        """Create the table if it is missing."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(TABLE)

    def put(self, channel_id: str, given: dict[str, str]) -> list[str]:
        """Set the given secrets (others stay); replaced values stay valid for the grace period.

        Returns the names of all secrets the channel now has.
        """
        now = datetime.now(UTC)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "SELECT secrets FROM channel_secret WHERE channel_id = %s FOR UPDATE",
                (channel_id,),
            )
            row = curs.fetchone()
            current: dict[str, str] = dict(row["secrets"]) if row else {}
            replaced = {k: v for k, v in current.items() if k in given and given[k] != v}
            merged = {**current, **given}
            curs.execute(
                "INSERT INTO channel_secret (channel_id, secrets, previous, previous_until,"
                " updated_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (channel_id) DO UPDATE"
                " SET secrets = EXCLUDED.secrets, updated_at = EXCLUDED.updated_at,"
                " previous = CASE WHEN EXCLUDED.previous = '{}'::jsonb"
                " THEN channel_secret.previous ELSE EXCLUDED.previous END,"
                " previous_until = CASE WHEN EXCLUDED.previous = '{}'::jsonb"
                " THEN channel_secret.previous_until ELSE EXCLUDED.previous_until END",
                (channel_id, Jsonb(merged), Jsonb(replaced), now + self.grace, now),
            )
            return sorted(merged)

    def get(self, channel_id: str) -> Secrets:
        """The channel's secrets (empty when it has none)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                "SELECT secrets, previous, previous_until > now() AS in_grace FROM channel_secret"
                " WHERE channel_id = %s",
                (channel_id,),
            )
            row = curs.fetchone()
        if row is None:
            return Secrets()
        return Secrets(dict(row["secrets"]), dict(row["previous"]) if row["in_grace"] else {})
