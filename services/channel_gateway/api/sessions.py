"""Signing in with a name and password (people, for the ops console), and signing out.

A session is an OMS access token of limited time, issued by the same use case as any other
token, under the person's own name: every service accepts it once its grant has arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response

from services.channel_gateway.api.deps import AppDep, PasswordsDep
from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.domain import SESSION_LABEL, User
from services.channel_gateway.schemas import SessionCreate, SessionCreated
from services.channel_gateway.views import PasswordStore
from shared.runtime.access import Principal
from shared.runtime.api import Problem, problems, provide
from shared.runtime.throttle import FailureThrottle, ThrottledError
from shared.runtime.tracing import current_trace, traced

WRONG = "the name or the password is wrong"

router = APIRouter(prefix="/sessions", tags=["access"])


@dataclass(frozen=True)
class SignInPolicy:
    """How long a session lasts, and the limit on failed sign-ins per name."""

    valid_for: timedelta
    throttle: FailureThrottle


SignInDep = Annotated[SignInPolicy, provide(SignInPolicy)]


@router.post("", status_code=201, response_model=SessionCreated, responses=problems(401, 429))
def sign_in(
    body: SessionCreate,
    app: AppDep,
    passwords: PasswordsDep,
    policy: SignInDep,
    response: Response,
) -> SessionCreated:
    """Sign in with a name and password for a token of `OMS_GATEWAY_SESSION_HOURS` (no bearer
    token needed). A wrong name and a wrong password are the same 401; after 5 failures for a
    name within 15 minutes, 429 with Retry-After. A failure records nothing."""
    user = _signed_in(body, app, passwords, policy)
    response.headers["Cache-Control"] = "no-store"  # the answer holds a token
    trace = current_trace()
    # The person issues their own token: the grant names them, not the system.
    with traced(trace.correlation_id, trace.causation_id, actor=user.name):
        user, made = app.users.issue_token(user.name, SESSION_LABEL, policy.valid_for)
    token = user.tokens[made.token_id]
    return SessionCreated(
        token=made.token,
        token_id=made.token_id,
        name=user.name,
        role=token["role"],
        expires_at=token["expires_at"],
    )


@router.post("/end", status_code=204, responses=problems(409))
def sign_out(request: Request, app: AppDep) -> Response:
    """Revoke the token this call is made with (every service refuses it within a second or
    two); 409 for a caller without an OMS token of their own (the break-glass admin, OIDC)."""
    principal: Principal = request.state.principal
    if principal.token_id is None:
        raise Problem(
            409,
            "No token to revoke",
            f"{principal.name} called with a {principal.via} token, which the OMS did not"
            " issue and cannot revoke",
        )
    app.users.revoke_token(principal.name, principal.token_id)
    return Response(status_code=204)


def _signed_in(
    body: SessionCreate, app: ChannelOrders, passwords: PasswordStore, policy: SignInPolicy
) -> User:
    """The user whose name and password these are; a 401 (or 429) Problem otherwise."""
    try:
        with policy.throttle.attempt(body.name.casefold()) as attempt:
            user = app.users.find(body.name)
            # The password is checked, at full cost, whoever the name is: a name that is not
            # a user's takes as long as a wrong password.
            matches = passwords.check(body.name, body.password.get_secret_value())
            if matches and user is not None and user.may_sign_in:
                return user
            attempt.fail()
    except ThrottledError as throttled:
        raise Problem(
            429,
            "Too many failed sign-ins",
            f"too many failed sign-ins for this name; try again in {throttled.retry_after} s",
            headers={"Retry-After": str(throttled.retry_after)},
        ) from None
    raise Problem(401, "Sign-in failed", WRONG)
