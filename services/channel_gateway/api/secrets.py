"""Channel secrets at rest: re-encrypted under the newest key, to finish a key rotation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from services.channel_gateway.api.deps import ChannelsDep
from services.channel_gateway.schemas import SecretsReencrypt, SecretsReencrypted
from shared.runtime.api import problems

router = APIRouter(prefix="/channel-secrets", tags=["channels"])


@router.post("/reencrypt", response_model=SecretsReencrypted, responses=problems(503))
def reencrypt_secrets(
    page: Annotated[SecretsReencrypt, Body()], channels: ChannelsDep
) -> SecretsReencrypted:
    """Re-encrypt the secrets of a page of channels with the first key of
    OMS_GATEWAY_SECRETS_KEYS, one channel at a time while the gateway runs; call again with the
    answer's `after` until it is null (`oms secrets rotate` does). 503 names a channel whose
    secrets none of the keys opens."""
    return SecretsReencrypted.of(channels.store.reencrypt(page.after, page.limit))
