"""Signed-in users' sessions: sealed in a cookie, so the console keeps no database.

The cookie holds the user's OMS token (issued by the gateway at sign-in), their name and role,
and the session's CSRF token, encrypted and authenticated with Fernet: the browser can neither
read nor change it. Every form carries the CSRF token too, and a POST whose form does not match
its session's is refused (a page on another site cannot read it to forge one).
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken

COOKIE = "oms_console"


@dataclass(frozen=True)
class Session:
    """Who is signed in, with which token, until when, and the CSRF token of their forms."""

    name: str
    role: str
    token: str
    token_id: str
    expires_at: str  # RFC 3339, as the gateway gave it
    csrf: str

    def expired(self, now: datetime | None = None) -> bool:
        """True once the token the session holds has expired."""
        return (now or datetime.now(UTC)) >= datetime.fromisoformat(self.expires_at)

    def may(self, *roles: str) -> bool:
        """True when the user's role is one of these (admin may everything)."""
        return self.role == "admin" or self.role in roles


def new_session(name: str, role: str, token: str, token_id: str, expires_at: str) -> Session:
    """A session for a user just signed in, with a fresh CSRF token."""
    return Session(name, role, token, token_id, expires_at, secrets.token_urlsafe(32))


class SessionBox:
    """Seals sessions into cookie values and opens them again."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, session: Session) -> str:
        """The cookie value of a session."""
        return self._fernet.encrypt(json.dumps(asdict(session)).encode()).decode()

    def open(self, value: str | None) -> Session | None:
        """The session of a cookie value; None for none, a forged or a stale one."""
        if not value:
            return None
        try:
            session = Session(**json.loads(self._fernet.decrypt(value.encode())))
        except (InvalidToken, ValueError, TypeError):
            return None
        return None if session.expired() else session


def csrf_matches(session: Session, given: str | None) -> bool:
    """True when a form's CSRF token is its session's (in constant time)."""
    return given is not None and hmac.compare_digest(session.csrf, given)
