"""People's password hashes, kept out of the event log in a table of their own.

Why not events: an event log is forever and is copied to every consumer, into views and logs,
so even a hash stored there could never be taken back, and a leaked log would give every
password to an offline guesser. Here a hash is replaced in place and exists once.

Rows are keyed by the user's name case-folded, as user names are compared. Only the hash is
stored (domain/passwords.py: scrypt, with its parameters); the password itself never is.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from services.channel_gateway.domain.passwords import PasswordHash, ScryptParameters, dummy_check

TABLE = """CREATE TABLE IF NOT EXISTS user_password (
    name_key text PRIMARY KEY,
    name text NOT NULL,
    hash text NOT NULL,
    set_at timestamptz NOT NULL
)"""


class PasswordStore:
    """user_password rows in the gateway's database (next to the views, not in the event log)."""

    def __init__(
        self,
        datastore: Any,
        parameters: ScryptParameters | None = None,
        max_checks: int | None = None,
    ) -> None:
        self.datastore = datastore
        self.parameters = parameters or ScryptParameters()
        # Each check holds ~16 MiB for ~30 ms; anyone may ask for one (sign-in is public), so
        # at most one per core runs at a time and the rest wait their turn.
        self._checks = threading.BoundedSemaphore(max_checks or os.cpu_count() or 1)

    def create_table(self) -> None:
        """Create the table if it is missing."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(TABLE)

    def put(self, name: str, password: str) -> None:
        """Set or replace the user's password (its hash, under a new salt)."""
        with self._checks:
            made = PasswordHash.make(password, self.parameters)
        self._store(name, made)

    def check(self, name: str, password: str) -> bool:
        """True when the password is the user's; the same work is done for a name without one.

        A hash made with other parameters than the store's is made again with them.
        """
        stored = self._stored(name)
        with self._checks:
            if stored is None:
                return dummy_check(password, self.parameters)
            if not stored.matches(password):
                return False
            renewed = None
            if stored.parameters != self.parameters:
                renewed = PasswordHash.make(password, self.parameters)
        if renewed is not None:
            self._renew(name, stored, renewed)
        return True

    def _stored(self, name: str) -> PasswordHash | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT hash FROM user_password WHERE name_key = %s", (name.casefold(),))
            row = curs.fetchone()
        return None if row is None else PasswordHash.decode(row["hash"])

    def _store(self, name: str, made: PasswordHash) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO user_password (name_key, name, hash, set_at) VALUES (%s, %s, %s,"
                " now()) ON CONFLICT (name_key) DO UPDATE SET name = EXCLUDED.name,"
                " hash = EXCLUDED.hash, set_at = EXCLUDED.set_at",
                (name.casefold(), name, made.encode()),
            )

    def _renew(self, name: str, old: PasswordHash, new: PasswordHash) -> None:
        """Replace the hash with one of the same password, unless it was changed meanwhile."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE user_password SET hash = %s WHERE name_key = %s AND hash = %s",
                (new.encode(), name.casefold(), old.encode()),
            )
