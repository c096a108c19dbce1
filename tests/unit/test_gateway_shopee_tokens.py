"""ShopeeTokens without I/O: when it refreshes, that it refreshes once, what a refusal does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.channel_gateway.channels.shopee.tokens import (
    ReauthorisationNeededError,
    ShopeeTokens,
)
from services.channel_gateway.views import Secrets

NOW = 1_800_000_000.0


class MemoryStore:
    """The secret store's get/put, in memory."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = dict(secrets)
        self.puts: list[dict[str, str]] = []

    def get(self, channel_id: str) -> Secrets:
        return Secrets(dict(self.secrets))

    def put(self, channel_id: str, given: dict[str, str]) -> list[str]:
        self.puts.append(dict(given))
        self.secrets.update(given)
        return sorted(self.secrets)


def keeper(expires_in: float, refresh_token: str = "r1") -> tuple[ShopeeTokens, MemoryStore]:
    store = MemoryStore(
        {
            "access_token": "a1",
            "access_token_expires_at": str(int(NOW + expires_in)),
            "refresh_token": refresh_token,
        }
    )
    return ShopeeTokens(store, margin=900, clock=lambda: NOW), store  # type: ignore[arg-type]


def shopee(calls: list[str], refuse: bool = False) -> Any:
    async def refresh(token: str) -> dict[str, Any]:
        calls.append(token)
        await asyncio.sleep(0.01)
        if refuse:
            raise ReauthorisationNeededError("Shopee refused the refresh token: error_auth")
        return {"access_token": f"a{len(calls) + 1}", "refresh_token": "r2", "expire_in": 14400}

    return refresh


async def test_a_token_with_time_left_is_used_as_it_is():
    tokens, store = keeper(expires_in=3600)
    calls: list[str] = []
    assert await tokens.access("shopee-sg", store.secrets, shopee(calls)) == "a1"
    assert calls == []


async def test_a_token_about_to_expire_is_refreshed_once_and_stored_before_use():
    tokens, store = keeper(expires_in=600)
    calls: list[str] = []
    given = dict(store.secrets)
    got = await asyncio.gather(
        *(tokens.access("shopee-sg", given, shopee(calls)) for _ in range(5))
    )
    assert calls == ["r1"]
    assert set(got) == {"a2"}
    assert store.puts == [
        {
            "access_token": "a2",
            "refresh_token": "r2",
            "access_token_expires_at": str(int(NOW + 14400)),
        }
    ]
    # Callers holding the old secrets (a cache) get the new token without another refresh.
    assert await tokens.access("shopee-sg", given, shopee(calls)) == "a2"
    assert calls == ["r1"]


async def test_a_refused_refresh_token_is_shown_and_the_token_used_while_it_lasts():
    tokens, store = keeper(expires_in=600)
    calls: list[str] = []
    assert await tokens.access("shopee-sg", store.secrets, shopee(calls, refuse=True)) == "a1"
    assert "must be authorised again" in tokens.problems()["shopee-sg"]

    expired, _ = keeper(expires_in=-1)
    with pytest.raises(ReauthorisationNeededError, match="must be authorised again"):
        await expired.access("shopee-sg", _.secrets, shopee(calls, refuse=True))

    # New tokens from a new authorisation clear the problem.
    fresh = {**store.secrets, "access_token": "new", "access_token_expires_at": ""}
    assert await tokens.access("shopee-sg", fresh, shopee(calls)) == "new"
    assert tokens.problems() == {}
