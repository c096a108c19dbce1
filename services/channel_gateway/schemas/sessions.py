"""Signing in with a name and password, for a token of a limited time (the ops console)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from shared.runtime.access import Role


class SessionCreate(BaseModel):
    """A person's name and password."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="the user's name (any case)")
    password: SecretStr = Field(min_length=1, max_length=1000)


class SessionCreated(BaseModel):
    """A token for the person who signed in: send it as `Authorization: Bearer <token>`."""

    token: str = Field(description="shown once: keep it for the session")
    token_id: str
    name: str = Field(description="the user's name as it was created")
    role: Role
    expires_at: datetime
