"""The access check every /v1 endpoint runs first: a bearer token, a role its rule allows.

No token: 401. An unknown, expired or revoked token: 401. A role the endpoint's rule does not
allow: 403. All before the endpoint runs, so a refused call records nothing. The caller's name
becomes the actor of every event the request causes (shared/runtime/tracing.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from shared.runtime.access import (
    AccessPolicy,
    Grant,
    Principal,
    Role,
    Rule,
    hash_matches,
    parse_token,
)
from shared.runtime.access_grants import AccessGrants
from shared.runtime.api import Problem, component
from shared.runtime.oidc import InvalidToken, OidcVerifier, looks_like_jwt
from shared.runtime.tracing import act_as

BOOTSTRAP_ADMIN = "bootstrap-admin"
_BEARER = HTTPBearer(
    auto_error=False,
    description="An OMS access token (`oms users`, `oms tokens`) or a JWT of the OIDC provider.",
)
_CHALLENGE = 'Bearer realm="oms"'


@dataclass(frozen=True)
class AccessControl:
    """A service's access rules and the ways it verifies a bearer token."""

    policy: AccessPolicy
    grants: AccessGrants
    bootstrap_hash: str | None = None  # of the break-glass admin token in the settings
    oidc: OidcVerifier | None = None

    async def principal(self, token: str) -> Principal | None:
        """The verified caller of a bearer token, or None; a JWT the OIDC provider's keys
        refuse raises InvalidToken saying why."""
        if self.bootstrap_hash is not None and hash_matches(token, self.bootstrap_hash):
            return Principal(BOOTSTRAP_ADMIN, Role.ADMIN, via="bootstrap")
        if parse_token(token) is not None:
            cached = self.grants.cached(token)
            if cached is not None:
                return cached.principal
            return await asyncio.to_thread(self.grants.principal, token)
        if self.oidc is not None and looks_like_jwt(token):
            return await asyncio.to_thread(self.oidc.verify, token)
        return None


def _unauthorized(detail: str, error: str | None = None) -> Problem:
    challenge = _CHALLENGE + (f', error="{error}"' if error else "")
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})


async def authorize(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
) -> Principal | None:
    """Refuse the call unless its bearer token's role may call this endpoint."""
    control = component(request, AccessControl)
    path = getattr(request.scope.get("route"), "path", request.url.path)
    grant = control.policy.grant_for(request.method, path)
    if grant is Grant.PUBLIC:
        return None
    if credentials is None:
        raise _unauthorized("this endpoint needs a bearer token (Authorization: Bearer ...)")
    try:
        principal = await control.principal(credentials.credentials)
    except InvalidToken as refused:
        raise _unauthorized(f"the token was refused: {refused.reason}", "invalid_token") from None
    if principal is None:
        raise _unauthorized("the token is unknown, expired or revoked", "invalid_token")
    if not grant.allows(principal.role):
        raise Problem(
            403,
            "Forbidden",
            f"{principal.name} ({principal.role}) may not {request.method} {path}:"
            f" it needs the {grant.value} role",
        )
    act_as(principal.name)
    request.state.principal = principal
    return principal


GUARD: Any = Security(authorize)
"""The dependency every /v1 endpoint runs first (Ops.guard)."""


class WhoAmI(BaseModel):
    """The caller, as this service verified their token."""

    name: str
    role: Role
    via: str


me = APIRouter(prefix="/me", tags=["access"])


@me.get("", response_model=WhoAmI)
async def who_am_i(request: Request) -> WhoAmI:
    """Who this service takes the bearer token for (a new token works once this answers)."""
    principal: Principal = request.state.principal
    return WhoAmI(name=principal.name, role=principal.role, via=principal.via)


def document_public_operations(document: dict[str, Any], policy: AccessPolicy) -> None:
    """Operations anyone may call (signed webhooks, signing in) need no bearer token: the
    OpenAPI document says so (the guard runs on every router, and FastAPI marks them all)."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if policy.rule_for(path) and policy.grant_for(method.upper(), path) is Grant.PUBLIC:
                operation.pop("security", None)
                operation.get("responses", {}).pop("403", None)


RUNTIME_POLICY = AccessPolicy({"/me": Rule(writes=Grant.SIGNED_IN), "/dlq": Rule(writes=Grant.OPS)})
"""Rules of the endpoints the runtime adds to every service."""
