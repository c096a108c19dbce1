"""A record of every customer message sent, by its idempotency key, kept out of the event log.

Chats without an idempotency key of their own (Messenger, Instagram, e-mail) are asked only
for keys not in here: a delivery whose message went out but whose outcome could not be stored
(the database hiccuped, the process died) is not sent again on its next attempt. Not derived
from the log, so a rebuild of the views never forgets it.
"""

from __future__ import annotations

from typing import Any

TABLE = """CREATE TABLE IF NOT EXISTS chat_message_sent (
    key text PRIMARY KEY,
    kind text NOT NULL,
    outcome text NOT NULL,
    sent_at timestamptz NOT NULL
)"""


class SentMessages:
    """chat_message_sent rows in the gateway's database."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    def create_table(self) -> None:
        """Create the table if it is missing."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(TABLE)

    def outcome(self, key: str) -> str | None:
        """What sending under this key came to, or None: it was never sent."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT outcome FROM chat_message_sent WHERE key = %s", (key,))
            row = curs.fetchone()
        return None if row is None else str(row["outcome"])

    def record(self, key: str, kind: str, outcome: str) -> None:
        """Remember that the message under this key was sent (the first record stays)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO chat_message_sent (key, kind, outcome, sent_at)"
                " VALUES (%s, %s, %s, now()) ON CONFLICT (key) DO NOTHING",
                (key, kind, outcome[:500]),
            )
