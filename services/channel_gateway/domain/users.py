"""The User aggregate: who may call the OMS APIs (a person or a machine client), and their tokens.

Only a token's SHA-256 hash is kept: the token itself is shown once, when it is issued. Each
issue and revocation is published, and every service keeps its own copy of the grants.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

USER_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/users")
ROLES = ("admin", "ops", "warehouse", "viewer")
# A user's name: an e-mail or a plain name of a machine client, in any script.
_NAME = re.compile(r"[^\s/\\]{1,200}")


# The label of the tokens signing in gives (POST /v1/sessions): a new password ends them.
SESSION_LABEL = "console session"


class UserKind(StrEnum):
    """A person signs in to the console; a machine client calls with an API key."""

    PERSON = "person"
    MACHINE = "machine"


class UserError(Exception):
    """Base of the user errors."""


class UserNotFoundError(UserError):
    """No user has this name."""


class UserExistsError(UserError):
    """A user of this name exists already."""


class UserDisabledError(UserError):
    """A disabled user gets no new token."""


class NotAPersonError(UserError):
    """A machine client calls with an API key; only a person has a password."""


class InvalidUserError(UserError):
    """A name or role the OMS does not take."""


class TokenNotFoundError(UserError):
    """No token of this user has this id."""


def user_id_for(name: str) -> UUID:
    """The id of the user of this name (names are compared without case)."""
    return uuid5(USER_NAMESPACE, name.casefold())


def check_user(name: str, role: str) -> None:
    """Raise InvalidUserError for a name with spaces or slashes, or an unknown role."""
    if not _NAME.fullmatch(name):
        raise InvalidUserError(f"{name!r}: a user's name has no spaces or slashes (1-200)")
    if role not in ROLES:
        raise InvalidUserError(f"role {role!r} unknown; one of {', '.join(ROLES)}")


class User(Aggregate):
    """A user or machine client, its role, and the tokens it was given (by id)."""

    class Created(Aggregate.Created):
        """An admin created the user."""

        name: str
        role: str
        kind: str
        created_by: str

    class TokenIssued(Aggregate.Event):
        """The user got a token (its hash here; the token itself only in the answer)."""

        name: str
        token_id: str
        token_hash: str
        role: str
        label: str
        expires_at: datetime | None
        issued_by: str
        issued_at: datetime

    class TokenRevoked(Aggregate.Event):
        """A token of the user is no longer accepted."""

        name: str
        token_id: str
        revoked_by: str
        revoked_at: datetime

    class Disabled(Aggregate.Event):
        """The user may no longer call (every token was revoked first)."""

        name: str
        disabled_by: str
        disabled_at: datetime

    @staticmethod
    def create_id(name: str, role: str, kind: str, created_by: str) -> UUID:
        """A user's id follows from its name."""
        return user_id_for(name)

    @event(Created)
    def __init__(self, name: str, role: str, kind: str, created_by: str) -> None:
        check_user(name, role)
        self.name = name
        self.role = role
        self.kind = kind
        self.created_by = created_by
        self.disabled = False
        self.disabled_by: str | None = None
        self.disabled_at: datetime | None = None
        self.tokens: dict[str, dict[str, Any]] = {}

    @property
    def may_sign_in(self) -> bool:
        """True for a person who is not disabled: who may have a password and use it."""
        return self.kind == UserKind.PERSON and not self.disabled

    def check_may_have_password(self) -> None:
        """Raise NotAPersonError for a machine client, UserDisabledError once disabled."""
        if self.kind != UserKind.PERSON:
            raise NotAPersonError(f"{self.name} is a machine client: it signs in with an API key")
        if self.disabled:
            raise UserDisabledError(f"{self.name} is disabled")

    def issue_token(
        self,
        token_id: str,
        token_hash: str,
        label: str,
        expires_at: datetime | None,
        by: str,
        now: datetime,
    ) -> None:
        """Give the user a token with the user's role; UserDisabledError once disabled."""
        if self.disabled:
            raise UserDisabledError(f"{self.name} is disabled")
        self._token_issued(self.name, token_id, token_hash, self.role, label, expires_at, by, now)

    @event(TokenIssued)
    def _token_issued(
        self,
        name: str,
        token_id: str,
        token_hash: str,
        role: str,
        label: str,
        expires_at: datetime | None,
        issued_by: str,
        issued_at: datetime,
    ) -> None:
        self.tokens[token_id] = {
            "token_id": token_id,
            "name": name,
            "role": role,
            "label": label,
            "issued_by": issued_by,
            "issued_at": issued_at,
            "expires_at": expires_at,
            "revoked_by": None,
            "revoked_at": None,
        }

    def revoke_token(self, token_id: str, by: str, now: datetime) -> bool:
        """Revoke one token; False when it was revoked before (nothing recorded)."""
        token = self.tokens.get(token_id)
        if token is None:
            raise TokenNotFoundError(f"{self.name} has no token {token_id}")
        if token["revoked_at"] is not None:
            return False
        self._token_revoked(self.name, token_id, by, now)
        return True

    @event(TokenRevoked)
    def _token_revoked(
        self, name: str, token_id: str, revoked_by: str, revoked_at: datetime
    ) -> None:
        self.tokens[token_id] |= {"revoked_by": revoked_by, "revoked_at": revoked_at}

    def end_sessions(self, by: str, now: datetime) -> list[str]:
        """Revoke every session token not yet revoked (a new password was set); their ids."""
        ended = [
            token_id
            for token_id, token in self.tokens.items()
            if token["label"] == SESSION_LABEL and token["revoked_at"] is None
        ]
        for token_id in ended:
            self._token_revoked(self.name, token_id, by, now)
        return ended

    def disable(self, by: str, now: datetime) -> None:
        """Revoke every token and refuse new ones (again: nothing more is recorded)."""
        if self.disabled:
            return
        for token_id in list(self.tokens):
            self.revoke_token(token_id, by, now)
        self._disabled(self.name, by, now)

    @event(Disabled)
    def _disabled(self, name: str, disabled_by: str, disabled_at: datetime) -> None:
        self.disabled = True
        self.disabled_by = disabled_by
        self.disabled_at = disabled_at
