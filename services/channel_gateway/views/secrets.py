"""Channel credentials, kept out of the event log in a table of their own.

Why not events: an event log is forever and is copied into views and logs, so a secret stored
there could never be rotated away. Here a secret is replaced in place; the replaced webhook
secret is kept for a grace period (Shopify signs with the old one for a while after rotation).
The API never returns values; structured logs never see them (SecretStr at the edge).

Channels whose access token expires (Shopee) keep it here with its expiry and the refresh token
that renews it; a refresh is made under this row's lock, so one process refreshes at a time.

Every value is sealed with the configured keys (views/secret_box.py): the table holds no
plaintext. Rows of before encryption are sealed when the gateway starts (`seal_stored`), and
`reencrypt` moves rows under the newest key, one row and one transaction at a time, while the
gateway runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from psycopg.types.json import Jsonb

from services.channel_gateway.views.secret_box import (
    SecretBox,
    UnreadableSecretsError,
    is_plain,
)

TABLE = """CREATE TABLE IF NOT EXISTS channel_secret (
    channel_id text PRIMARY KEY,
    secrets jsonb NOT NULL,
    previous jsonb NOT NULL DEFAULT '{}',
    previous_until timestamptz,
    updated_at timestamptz NOT NULL
)"""
# Added for expiring access tokens (a table made before keeps its rows).
TOKEN_COLUMNS = (
    "ALTER TABLE channel_secret ADD COLUMN IF NOT EXISTS access_expires_at timestamptz",
    "ALTER TABLE channel_secret ADD COLUMN IF NOT EXISTS reauthorise text",
    "ALTER TABLE channel_secret ADD COLUMN IF NOT EXISTS reauthorise_since timestamptz",
)
TOKEN_NAMES = ("access_token", "refresh_token")


@dataclass(frozen=True)
class TokenState:
    """A channel's access token, its expiry, its refresh token, and whether ops must act.

    `reauthorise` is why the shop must be authorised again (the channel refused the refresh
    token), or None while the tokens work.
    """

    access_token: str = ""
    refresh_token: str = ""
    expires_at: datetime | None = None
    reauthorise: str | None = None
    reauthorise_since: datetime | None = None

    def __repr__(self) -> str:
        return (  # never the values
            f"TokenState(expires_at={self.expires_at}, reauthorise={self.reauthorise!r},"
            f" refresh_token={'set' if self.refresh_token else 'unset'})"
        )

    def refused(self, reason: str, now: datetime) -> TokenState:
        """The same tokens, marked as needing a new authorisation since now."""
        return replace(self, reauthorise=reason, reauthorise_since=self.reauthorise_since or now)


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


@dataclass(frozen=True)
class Reencrypted:
    """One page of a key rotation: rows re-encrypted, rows in all, where the next page starts."""

    rows: int
    total: int
    after: str | None  # the last channel of this page; None once every row was done


class SecretStore:
    """channel_secret rows in the gateway's database (next to the views, not in the event log)."""

    def __init__(self, datastore: Any, grace: timedelta, box: SecretBox) -> None:
        self.datastore = datastore
        self.grace = grace  # how long a replaced webhook secret is still accepted
        self.box = box

    def create_table(self) -> None:
        """Create the table if it is missing."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(TABLE)
            for statement in TOKEN_COLUMNS:
                curs.execute(statement)

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
            current = self._open(channel_id, row["secrets"]) if row else {}
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
                (
                    channel_id,
                    Jsonb(self.box.seal_all(merged)),
                    Jsonb(self.box.seal_all(replaced)),
                    now + self.grace,
                    now,
                ),
            )
            if any(name in replaced or (name in given and not row) for name in TOKEN_NAMES):
                # Ops gave new tokens (a new authorisation): their expiry is not known yet and
                # whatever was refused before is no longer the question.
                curs.execute(
                    "UPDATE channel_secret SET access_expires_at = NULL, reauthorise = NULL,"
                    " reauthorise_since = NULL WHERE channel_id = %s",
                    (channel_id,),
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
        previous = self._open(channel_id, row["previous"]) if row["in_grace"] else {}
        return Secrets(self._open(channel_id, row["secrets"]), previous)

    def tokens(self, channel_id: str) -> TokenState:
        """The channel's tokens as stored now."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(_TOKENS + " WHERE channel_id = %s", (channel_id,))
            return self._token_state(curs.fetchone())

    def authorisations(self, channel_ids: list[str]) -> dict[str, TokenState]:
        """Token states of these channels (only those that have secrets)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(_TOKENS + " WHERE channel_id = ANY(%s)", (channel_ids,))
            return {row["channel_id"]: self._token_state(row) for row in curs.fetchall()}

    def rotate(self, channel_id: str, decide: Callable[[TokenState], TokenState]) -> TokenState:
        """Decide on new tokens while holding the channel's row, and store them before answering.

        `decide` runs under the row lock (it may call the channel): another process that wants
        to refresh the same channel waits and then sees what this one stored. What it returns
        is committed before this method returns, so a new refresh token is durable before its
        access token is ever used.
        """
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(_TOKENS + " WHERE channel_id = %s FOR UPDATE", (channel_id,))
            row = curs.fetchone()
            if row is None:
                raise LookupError(f"channel {channel_id} has no secrets")
            before = self._token_state(row)
            after = decide(before)
            if after != before:
                curs.execute(
                    "UPDATE channel_secret SET secrets = secrets || %s, access_expires_at = %s,"
                    " reauthorise = %s, reauthorise_since = %s, updated_at = now()"
                    " WHERE channel_id = %s",
                    (
                        Jsonb(
                            self.box.seal_all(
                                {
                                    "access_token": after.access_token,
                                    "refresh_token": after.refresh_token,
                                }
                            )
                        ),
                        after.expires_at,
                        after.reauthorise,
                        after.reauthorise_since,
                        channel_id,
                    ),
                )
            return after

    def seal_stored(self) -> int:
        """Check that every stored secret opens, then seal the rows written before encryption;
        how many rows were sealed.

        Nothing is written when a row does not open: sealing more rows with keys that are
        wrong would only add to what the right keys could not read.
        """
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT channel_id, secrets, previous FROM channel_secret")
            rows = curs.fetchall()
        unreadable = [row["channel_id"] for row in rows if not self._opens(row)]
        if unreadable:
            raise UnreadableSecretsError(unreadable)
        plain = [
            row["channel_id"]
            for row in rows
            if is_plain(row["secrets"]) or is_plain(row["previous"])
        ]
        for channel_id in plain:
            self._reseal(channel_id)
        return len(plain)

    def reencrypt(self, after: str | None, limit: int) -> Reencrypted:
        """Re-encrypt with the newest key the rows of the channels after `after` (by id, at
        most `limit`), each in a transaction of its own under its row lock: a running gateway
        waits for one row at most, and a rotation cut short is simply run again."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                "SELECT channel_id FROM channel_secret WHERE %s::text IS NULL OR channel_id > %s"
                " ORDER BY channel_id LIMIT %s",
                (after, after, limit),
            )
            channel_ids = [row["channel_id"] for row in curs.fetchall()]
            curs.execute("SELECT count(*) AS total FROM channel_secret")
            total = curs.fetchone()["total"]
        for channel_id in channel_ids:
            self._reseal(channel_id)
        last = channel_ids[-1] if len(channel_ids) == limit else None
        return Reencrypted(rows=len(channel_ids), total=total, after=last)

    def _reseal(self, channel_id: str) -> None:
        """Put the channel's row, current and previous secrets, under the newest key."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "SELECT secrets, previous FROM channel_secret WHERE channel_id = %s FOR UPDATE",
                (channel_id,),
            )
            row = curs.fetchone()
            if row is None:
                return
            with _unreadable_as(channel_id):
                secrets = self.box.reseal_all(row["secrets"])
                previous = self.box.reseal_all(row["previous"])
            curs.execute(
                "UPDATE channel_secret SET secrets = %s, previous = %s WHERE channel_id = %s",
                (Jsonb(secrets), Jsonb(previous), channel_id),
            )

    def _open(self, channel_id: str, stored: dict[str, Any]) -> dict[str, str]:
        """The channel's stored secrets opened, by name."""
        with _unreadable_as(channel_id):
            return self.box.open_all(stored)

    def _opens(self, row: Any) -> bool:
        """True when every secret of the row, current and previous, opens."""
        try:
            self.box.open_all(row["secrets"])
            self.box.open_all(row["previous"])
        except InvalidToken:
            return False
        return True

    def _token_state(self, row: Any) -> TokenState:
        """The token state of a `_TOKENS` row, its tokens opened."""
        if row is None:
            return TokenState()
        with _unreadable_as(row["channel_id"]):
            access = self.box.open(row["access_token"]) if row["access_token"] else ""
            refresh = self.box.open(row["refresh_token"]) if row["refresh_token"] else ""
        return TokenState(
            access_token=access,
            refresh_token=refresh,
            expires_at=row["access_expires_at"],
            reauthorise=row["reauthorise"],
            reauthorise_since=row["reauthorise_since"],
        )


@contextmanager
def _unreadable_as(channel_id: str) -> Iterator[None]:
    """Turn a value no key opens into the error that names its channel."""
    try:
        yield
    except InvalidToken:
        raise UnreadableSecretsError([channel_id]) from None


_TOKENS = (
    "SELECT channel_id, secrets->'access_token' AS access_token,"
    " secrets->'refresh_token' AS refresh_token, access_expires_at, reauthorise,"
    " reauthorise_since FROM channel_secret"
)
