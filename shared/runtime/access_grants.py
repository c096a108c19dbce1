"""Every service's own copy of the access tokens the gateway granted, and the check of a token.

The gateway records who may call (users, machine clients, their tokens) and publishes each
grant and revocation on its topic; every service applies them into `AccessGrant` aggregates in
its own event store, like any other event it consumes, so no service reads another's database
and a revocation reaches every API within a consumer hop (docs/architecture.md, "Access").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.events.models import AccessGranted, AccessRevoked
from shared.runtime.access import Principal, Role, hash_matches, parse_token
from shared.runtime.application import ServiceApplication, UnitOfWork
from shared.runtime.registry import INTERNAL, DomainEvent, Handler, Internal, Mapper, ServiceEvents

CACHE_SECONDS = 1.0  # how long a verdict on a token is reused: a revocation waits this long


class AccessGrant(Aggregate):
    """One access token as this service knows it: whose, which role, until when, revoked."""

    @staticmethod
    def create_id(token_id: str) -> UUID:
        """The grant's id is the token's id (a UUID in hex)."""
        return UUID(hex=token_id)

    class Granted(Aggregate.Created):
        """The gateway granted the token (or its revocation came first: an empty hash)."""

        token_id: str
        principal: str
        role: str
        token_hash: str
        expires_at: datetime | None

    @event(Granted)
    def __init__(
        self,
        token_id: str,
        principal: str,
        role: str,
        token_hash: str,
        expires_at: datetime | None,
    ) -> None:
        self.token_id = token_id
        self.principal = principal
        self.role = role
        self.token_hash = token_hash
        self.expires_at = expires_at
        self.revoked = False

    class Revoked(Aggregate.Event):
        """The token is no longer accepted."""

    @event(Revoked)
    def revoke(self) -> None:
        """The token is no longer accepted."""
        self.revoked = True

    def accepts(self, token: str, now: datetime) -> bool:
        """True when `token` is this grant's, not revoked and not expired at `now`."""
        if self.revoked or not self.token_hash:
            return False
        if self.expires_at is not None and now >= self.expires_at:
            return False
        return hash_matches(token, self.token_hash)


def on_access_granted(app: ServiceApplication, e: AccessGranted, uow: UnitOfWork) -> None:
    """Keep the grant; a redelivered one is already kept."""
    grant_id = AccessGrant.create_id(e.token_id)
    if uow.find(grant_id, AccessGrant) is None:
        uow.add(AccessGrant(e.token_id, e.principal, e.role, e.token_hash, e.expires_at))


def on_access_revoked(app: ServiceApplication, e: AccessRevoked, uow: UnitOfWork) -> None:
    """Revoke the grant; one never seen is kept revoked, so its grant can never take effect."""
    grant = uow.find(AccessGrant.create_id(e.token_id), AccessGrant)
    if grant is None:
        grant = AccessGrant(e.token_id, e.principal, Role.VIEWER.value, "", None)
        uow.add(grant)
    if not grant.revoked:
        grant.revoke()


CONSUMES: dict[Any, Handler] = {
    AccessGranted: on_access_granted,
    AccessRevoked: on_access_revoked,
}
"""The use cases every service runs for the gateway's access events."""
PUBLISHES: dict[DomainEvent, Mapper | Internal] = {
    AccessGrant.Granted: INTERNAL,
    AccessGrant.Revoked: INTERNAL,
}
"""A service's copy of a grant is its own: nothing is published again."""


@dataclass(frozen=True)
class Verdict:
    """What a token was found to be, and when (by the monotonic clock)."""

    at: float
    principal: Principal | None


class AccessGrants:
    """Checks OMS access tokens against this service's grants (read fresh, not from the
    aggregate cache: another instance may have applied the revocation)."""

    def __init__(
        self,
        app: ServiceApplication,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._verdicts: dict[str, Verdict] = {}
        self._lock = threading.Lock()

    def cached(self, token: str) -> Verdict | None:
        """A verdict on this token made less than `cache_seconds` ago (no I/O), or None."""
        verdict = self._verdicts.get(token)
        if verdict is None or self.clock() - verdict.at >= self.cache_seconds:
            return None
        return verdict

    def principal(self, token: str) -> Principal | None:
        """The caller this token stands for, or None (unknown, expired or revoked)."""
        token_id = parse_token(token)
        if token_id is None:
            return None
        cached = self.cached(token)
        if cached is not None:
            return cached.principal
        verdict = Verdict(self.clock(), self._verdict(token_id, token))
        with self._lock:
            if len(self._verdicts) > 10_000:  # only tokens tried: a flood of made-up ones
                self._verdicts.clear()
            self._verdicts[token] = verdict
        return verdict.principal

    def _verdict(self, token_id: str, token: str) -> Principal | None:
        grant = self._grant(AccessGrant.create_id(token_id))
        if grant is None or not grant.accepts(token, datetime.now(UTC)):
            return None
        return Principal(grant.principal, Role(grant.role), via="token", token_id=token_id)

    def _grant(self, grant_id: UUID) -> AccessGrant | None:
        grant: AccessGrant | None = None
        for domain_event in self.app.events.get(originator_id=grant_id):
            if isinstance(domain_event, AccessGrant.Event):
                grant = domain_event.mutate(grant)
        return grant


def with_access_grants(events: ServiceEvents) -> ServiceEvents:
    """A service's event tables with the access grants every service keeps.

    The publisher of the grants keeps its copies as it records them (calling the handlers in
    its own unit of work): read
    back from its own topic they would cost it a consumer of everything it publishes (every
    order it takes in), for a handful of tokens.
    """
    if AccessGrant in events.aggregates:
        return events
    own = events.topic == AccessGranted.topic
    return replace(
        events,
        aggregates=[*events.aggregates, AccessGrant],
        consumes=dict(events.consumes) if own else {**events.consumes, **CONSUMES},
        publishes={**events.publishes, **PUBLISHES},
    )
