"""Use cases of access: admins create users and machine clients, issue and revoke tokens.

Who asked is the actor of the request (shared/runtime/tracing.py); a call with none (the
first admin made from the command line) is recorded as made by the system.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from eventsourcing.application import AggregateNotFoundError

from services.channel_gateway.domain import User, UserExistsError, UserNotFoundError, user_id_for
from shared import events as ev
from shared.runtime import access_grants
from shared.runtime.access import NewToken, new_token
from shared.runtime.application import UnitOfWork, UseCases, use_case
from shared.runtime.tracing import current_trace

if TYPE_CHECKING:
    from services.channel_gateway.application import ChannelOrders

SYSTEM = "system"


def access_granted(e: User.TokenIssued) -> ev.AccessGranted:
    """The public grant of an issued token (its hash, never the token)."""
    return ev.AccessGranted(
        token_id=e.token_id,
        principal=e.name,
        role=cast(ev.AccessRole, e.role),
        token_hash=e.token_hash,
        expires_at=e.expires_at,
        granted_by=e.issued_by,
        granted_at=e.issued_at,
    )


def access_revoked(e: User.TokenRevoked) -> ev.AccessRevoked:
    """The public revocation of a token."""
    return ev.AccessRevoked(
        token_id=e.token_id, principal=e.name, revoked_by=e.revoked_by, revoked_at=e.revoked_at
    )


def keep_grants(uow: UnitOfWork, user: User) -> None:
    """The gateway's own copies of the grants its user's new events make (every other service
    keeps its copies from the topic; the gateway does not read its own topic back)."""
    for event in user.pending_events:
        if isinstance(event, User.TokenIssued):
            access_grants.on_access_granted(uow.app, access_granted(event), uow)
        elif isinstance(event, User.TokenRevoked):
            access_grants.on_access_revoked(uow.app, access_revoked(event), uow)


def actor() -> str:
    """Who is asking: the request's verified caller, or the system."""
    return current_trace().actor or SYSTEM


class Users(UseCases["ChannelOrders"]):
    """Who may call the OMS, with which role and token."""

    app: ChannelOrders  # the application composing this group (for the type checker)

    @use_case
    def create(self, name: str, role: str, kind: str) -> User:
        """A new user or machine client; UserExistsError when the name is taken."""
        with self.app.unit_of_work() as uow:
            if uow.find(user_id_for(name), User) is not None:
                raise UserExistsError(f"a user named {name} exists already")
            user = User(name, role, kind, actor())
            uow.add(user)
            return user

    @use_case
    def issue_token(
        self, name: str, label: str, valid_for: timedelta | None
    ) -> tuple[User, NewToken]:
        """A new token for the user (shown once); UserDisabledError for a disabled user."""
        made = new_token()
        now = datetime.now(UTC)
        expires_at = None if valid_for is None else now + valid_for
        with self.app.unit_of_work() as uow:
            user = self._user(uow.find(user_id_for(name), User), name)
            user.issue_token(made.token_id, made.token_hash, label, expires_at, actor(), now)
            keep_grants(uow, user)
            return user, made

    @use_case
    def revoke_token(self, name: str, token_id: str) -> User:
        """Revoke one of the user's tokens (again: nothing more is recorded)."""
        with self.app.unit_of_work() as uow:
            user = self._user(uow.find(user_id_for(name), User), name)
            user.revoke_token(token_id, actor(), datetime.now(UTC))
            keep_grants(uow, user)
            return user

    @use_case
    def end_sessions(self, name: str) -> list[str]:
        """Revoke the user's session tokens (after a new password): the ids ended."""
        with self.app.unit_of_work() as uow:
            user = self._user(uow.find(user_id_for(name), User), name)
            ended = user.end_sessions(actor(), datetime.now(UTC))
            keep_grants(uow, user)
            return ended

    @use_case
    def disable(self, name: str) -> User:
        """Revoke every token of the user and refuse new ones."""
        with self.app.unit_of_work() as uow:
            user = self._user(uow.find(user_id_for(name), User), name)
            user.disable(actor(), datetime.now(UTC))
            keep_grants(uow, user)
            return user

    def find(self, name: str) -> User | None:
        """The user of this name as stored now (names are compared without case), or None."""
        try:
            found: object = self.app.repository.get(user_id_for(name))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, User) else None

    def get(self, name: str) -> User:
        """The user of this name; UserNotFoundError when there is none."""
        return self._user(self.find(name), name)

    @staticmethod
    def _user(user: User | None, name: str) -> User:
        if user is None:
            raise UserNotFoundError(f"no user named {name}")
        return user
