"""Who may call the OMS: users and machine clients, their tokens (admins only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from services.channel_gateway.api.deps import AppDep, PasswordsDep, ViewsDep
from services.channel_gateway.domain import User
from services.channel_gateway.schemas.users import (
    PasswordSet,
    TokenCreate,
    TokenIssued,
    TokenPublic,
    TokensPublic,
    UserCreate,
    UserName,
    UserPublic,
    UsersPublic,
)
from shared.runtime.api import PageQuery, Problem, links, page_query, problems

TokenId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
USER_OPERATIONS = (
    "GET /v1/users/{name}",
    "POST /v1/users/{name}/tokens",
    "POST /v1/users/{name}/disable",
)
TOKEN_OPERATIONS = ("GET /v1/tokens/{token_id}", "POST /v1/tokens/{token_id}/revoke")
users = APIRouter(prefix="/users", tags=["access"])
tokens = APIRouter(prefix="/tokens", tags=["access"])


@users.post(
    "",
    status_code=201,
    response_model=UserPublic,
    responses={**problems(409), **links(201, *USER_OPERATIONS)},
)
def create_user(body: UserCreate, app: AppDep) -> UserPublic:
    """Create a user or machine client with a role; give it a token next."""
    return user_public(app.users.create(body.name, body.role.value, body.kind.value))


@users.get("", response_model=UsersPublic, responses=links(200, *USER_OPERATIONS, at="/data/0"))
def list_users(views: ViewsDep, page: Annotated[PageQuery, page_query()]) -> UsersPublic:
    """Every user by name."""
    rows, total = views.list_users(limit=page.limit, offset=page.offset)
    return UsersPublic.of([UserPublic.model_validate(r) for r in rows], total, page)


@users.get("/{name}", response_model=UserPublic)
def get_user(name: UserName, views: ViewsDep) -> UserPublic:
    """One user with their tokens (never the tokens themselves)."""
    return _user(views, name)


@users.post(
    "/{name}/tokens",
    status_code=201,
    response_model=TokenIssued,
    responses={**problems(409), **links(201, *TOKEN_OPERATIONS)},
)
def issue_token(name: UserName, body: TokenCreate, app: AppDep) -> TokenIssued:
    """A new token with the user's role: the answer is the only place it is ever shown."""
    valid_for = None if body.valid_days is None else timedelta(days=body.valid_days)
    user, made = app.users.issue_token(name, body.label, valid_for)
    return TokenIssued(token=made.token, **user.tokens[made.token_id])


@users.put("/{name}/password", status_code=204, responses=problems(409))
def set_password(
    name: UserName, body: PasswordSet, app: AppDep, passwords: PasswordsDep
) -> Response:
    """Set or replace a person's password, for signing in at POST /v1/sessions; 409 for a
    machine client (it has API keys) or a disabled user. Only a hash is kept, outside the
    event log. Every session signed in with the old password ends: whoever knew it is out."""
    user = app.users.get(name)
    user.check_may_have_password()
    passwords.put(user.name, body.password.get_secret_value())
    app.users.end_sessions(user.name)
    return Response(status_code=204)


@users.post("/{name}/disable", response_model=UserPublic)
def disable_user(name: UserName, app: AppDep) -> UserPublic:
    """Revoke every token of the user and refuse them new ones."""
    return user_public(app.users.disable(name))


@tokens.get("", response_model=TokensPublic, responses=links(200, *TOKEN_OPERATIONS, at="/data/0"))
def list_tokens(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query()],
    name: Annotated[UserName | None, Query(description="only this user's")] = None,
) -> TokensPublic:
    """Tokens, the newest first (never the tokens themselves)."""
    rows, total = views.list_tokens(name=name, limit=page.limit, offset=page.offset)
    return TokensPublic.of([TokenPublic.model_validate(r) for r in rows], total, page)


@tokens.post("/{token_id}/revoke", response_model=TokenPublic)
def revoke_token(token_id: TokenId, app: AppDep, views: ViewsDep) -> TokenPublic:
    """Revoke a token: every service refuses it within a second or two."""
    row = views.get_token(token_id)
    if row is None:
        raise Problem(404, "Token not found", f"no token {token_id}")
    user = app.users.revoke_token(row["name"], token_id)
    return TokenPublic.model_validate(user.tokens[token_id])


@tokens.get("/{token_id}", response_model=TokenPublic)
def get_token(token_id: TokenId, views: ViewsDep) -> TokenPublic:
    """One token's record (never the token itself)."""
    row = views.get_token(token_id)
    if row is None:
        raise Problem(404, "Token not found", f"no token {token_id}")
    return TokenPublic.model_validate(row)


def user_public(user: User) -> UserPublic:
    """The answer about a user, from the aggregate just saved (the view may lag behind)."""
    return UserPublic(
        name=user.name,
        role=user.role,
        kind=user.kind,
        disabled=user.disabled,
        created_by=user.created_by,
        created_at=user.created_on,
        disabled_by=user.disabled_by,
        disabled_at=user.disabled_at,
        tokens=[TokenPublic.model_validate(t) for t in user.tokens.values()],
    )


def _user(views: ViewsDep, name: str) -> UserPublic:
    row = views.get_user(name)
    if row is None:
        raise Problem(404, "User not found", f"no user named {name}")
    return UserPublic.model_validate(row)
