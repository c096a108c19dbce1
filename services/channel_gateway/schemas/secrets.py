"""Re-encrypting the channel secrets under the newest key, a page of channels at a time."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.channel_gateway.application.canonical import Channel, Edge
from services.channel_gateway.views import Reencrypted


class SecretsReencrypt(Edge):
    """Which channels' secrets to re-encrypt: those after `after` (by id), at most `limit`."""

    after: Channel | None = Field(None, description="The `after` of the previous answer.")
    limit: int = Field(100, ge=1, le=500)


class SecretsReencrypted(BaseModel):
    """How far a key rotation got."""

    reencrypted: int = Field(description="Channels whose secrets this call re-encrypted.")
    total: int = Field(description="Channels with secrets, in all.")
    after: str | None = Field(
        description="Where the next call starts; null once every channel was done."
    )

    @classmethod
    def of(cls, page: Reencrypted) -> SecretsReencrypted:
        """The answer for a page the store re-encrypted."""
        return cls(reencrypted=page.rows, total=page.total, after=page.after)
