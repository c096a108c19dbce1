"""Who is calling: roles, principals, OMS access tokens, and what each role may do.

Every `/v1` endpoint but the signed channel webhooks needs a bearer token (DESIGN section 6).
A token is either an OMS access token (`oms_<token id>_<secret>`, issued by the gateway, which
publishes its grant on its own topic; every service keeps its own copy of the grants) or a
JWT from the configured OIDC provider (`shared/runtime/oidc.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

TOKEN_PREFIX = "oms_"
_TOKEN = re.compile(r"oms_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")


class Role(StrEnum):
    """What a caller may do; admin may do everything, viewer only read."""

    ADMIN = "admin"  # channels, secrets, users
    OPS = "ops"  # orders, holds, cancels, edits, refunds
    WAREHOUSE = "warehouse"  # pick, pack, ship, receive, stock moves
    VIEWER = "viewer"  # reads only


class Grant(StrEnum):
    """Who may call an endpoint: a role (admin always may), or anyone (signed webhooks)."""

    ADMIN = "admin"
    OPS = "ops"
    WAREHOUSE = "warehouse"
    OPS_OR_WAREHOUSE = "ops_or_warehouse"
    SIGNED_IN = "signed_in"  # any role, viewer included
    PUBLIC = "public"  # no bearer token: the channel's signature is checked instead

    def allows(self, role: Role) -> bool:
        """True when a caller of this role may call an endpoint with this grant."""
        if self in (Grant.PUBLIC, Grant.SIGNED_IN) or role is Role.ADMIN:
            return True
        if self is Grant.OPS_OR_WAREHOUSE:
            return role in (Role.OPS, Role.WAREHOUSE)
        return role.value == self.value


@dataclass(frozen=True)
class Rule:
    """Who may change (POST, PUT, PATCH, DELETE) and who may read under one path."""

    writes: Grant
    reads: Grant = Grant.SIGNED_IN


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AccessPolicyError(RuntimeError):
    """A route that no rule of the policy covers: the service does not start."""


@dataclass(frozen=True)
class AccessPolicy:
    """A service's rules by path (under /v1); the longest matching path decides."""

    rules: Mapping[str, Rule]

    def rule_for(self, path: str) -> Rule | None:
        """The rule of an API path such as /v1/orders/{order_id}/cancel, or None."""
        path = path.removeprefix("/v1")
        found = [prefix for prefix in self.rules if path == prefix or path.startswith(prefix + "/")]
        return self.rules[max(found, key=len)] if found else None

    def grant_for(self, method: str, path: str) -> Grant:
        """Who may call `method` on `path`; AccessPolicyError when no rule covers it."""
        rule = self.rule_for(path)
        if rule is None:
            raise AccessPolicyError(f"no access rule covers {path}")
        return rule.reads if method in READ_METHODS else rule.writes

    def uncovered(self, paths: Iterable[str]) -> list[str]:
        """The paths (under /v1) that no rule covers."""
        return [p for p in paths if p.startswith("/v1/") and self.rule_for(p) is None]

    def __or__(self, other: AccessPolicy) -> AccessPolicy:
        """Both policies' rules (the other's win on the same path)."""
        return AccessPolicy({**self.rules, **other.rules})


@dataclass(frozen=True)
class Principal:
    """The verified caller of a request: who (user or machine name), with which role, how."""

    name: str
    role: Role
    via: str  # "token" (an OMS access token or API key), "oidc" or "bootstrap"
    token_id: str | None = None


@dataclass(frozen=True)
class NewToken:
    """A freshly made token: the secret is shown once, only its hash is kept."""

    token_id: str
    token: str
    token_hash: str


def new_token() -> NewToken:
    """A random OMS access token (256 bits of secret) with its id and stored hash."""
    token_id = uuid.uuid4().hex
    secret = secrets.token_urlsafe(32)
    token = f"{TOKEN_PREFIX}{token_id}_{secret}"
    return NewToken(token_id=token_id, token=token, token_hash=token_hash(token))


def parse_token(token: str) -> str | None:
    """The token id of a well-formed OMS access token, or None."""
    found = _TOKEN.fullmatch(token)
    return found.group(1) if found else None


def token_hash(token: str) -> str:
    """The stored hash of a token.

    SHA-256, not a password hash: the secret is 256 random bits, so no guess can find it from
    its hash, and verifying stays a microsecond on every request (scrypt would cost ~50 ms).
    """
    return hashlib.sha256(token.encode()).hexdigest()


def hash_matches(token: str, stored_hash: str) -> bool:
    """True when the token is the one this hash was made from (in constant time)."""
    return hmac.compare_digest(token_hash(token), stored_hash)
