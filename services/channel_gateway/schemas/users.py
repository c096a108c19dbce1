"""Users, machine clients and their access tokens, as admins create and list them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, StringConstraints
from pydantic_core import PydanticCustomError

from services.channel_gateway.domain import PasswordError, UserKind, check_password
from services.channel_gateway.domain.passwords import MAX_LENGTH, MIN_LENGTH
from shared.runtime.access import Role
from shared.runtime.api import Page

UserName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\s/\\]+$")]


class UserCreate(BaseModel):
    """A new user (a person, by e-mail) or machine client (an API key's owner)."""

    model_config = ConfigDict(extra="forbid")

    name: UserName = Field(description="an e-mail for a person, a plain name for a machine")
    role: Role
    kind: UserKind = UserKind.PERSON


class TokenCreate(BaseModel):
    """A new token for a user: its label, and how many days it is valid (none: until revoked)."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field("", max_length=200, description="what it is for, e.g. 'packing bench 2'")
    valid_days: int | None = Field(None, ge=1, le=3650)


def _password_rules(password: SecretStr) -> SecretStr:
    """The password, when the rules take it (the error says why not, never the value)."""
    try:
        check_password(password.get_secret_value())
    except PasswordError as refused:
        raise PydanticCustomError("password_rules", str(refused)) from None
    return password


NewPassword = Annotated[
    SecretStr,
    AfterValidator(_password_rules),
    Field(
        description=f"{MIN_LENGTH} to {MAX_LENGTH} characters of any script, not only spaces",
        json_schema_extra={"minLength": MIN_LENGTH, "maxLength": MAX_LENGTH},
    ),
]


class PasswordSet(BaseModel):
    """A person's new password (a machine client has API keys instead)."""

    model_config = ConfigDict(extra="forbid")

    password: NewPassword


class TokenPublic(BaseModel):
    """A token's record: never the token itself."""

    token_id: str
    name: str = Field(description="the user it belongs to")
    role: Role
    label: str
    issued_by: str
    issued_at: datetime
    expires_at: datetime | None
    revoked_by: str | None
    revoked_at: datetime | None


class TokenIssued(TokenPublic):
    """A new token: the only answer that holds the token; keep it, it is never shown again."""

    token: str


class UserPublic(BaseModel):
    """A user, their role, who created them, and their tokens."""

    name: str
    role: Role
    kind: UserKind
    disabled: bool
    created_by: str
    created_at: datetime
    disabled_by: str | None = None
    disabled_at: datetime | None = None
    tokens: list[TokenPublic] = []


class UsersPublic(Page[UserPublic]):
    """A page of users by name."""


class TokensPublic(Page[TokenPublic]):
    """A page of tokens, the newest first."""
