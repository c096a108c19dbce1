"""When the gateway refreshes a Shopee access token, what it reads as an expired token, what a
refresh answer gives, and what it decides under the row lock without calling Shopee (pure)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.channel_gateway.channels.shopee.tokens import (
    REFRESH,
    Shop,
    ShopeeTokens,
    is_expired_answer,
    needs_refresh,
    public_sign,
    refreshed_state,
)
from services.channel_gateway.views import TokenState

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
SHOP = Shop("shopee-sg", "http://127.0.0.1:9", 2001234, "partner-key", 880011)


def state(expires_in: timedelta | None, refresh: str = "r1", access: str = "a1") -> TokenState:
    return TokenState(access, refresh, None if expires_in is None else NOW + expires_in)


@pytest.mark.parametrize(
    ("expires_in", "refresh", "expected"),
    [
        (timedelta(hours=3), "r1", False),  # plenty left
        (timedelta(minutes=16), "r1", False),
        (timedelta(minutes=14), "r1", True),  # inside the 15-minute margin
        (timedelta(minutes=-5), "r1", True),  # already expired
        (None, "r1", False),  # given by ops, expiry unknown: used until Shopee says expired
        (timedelta(minutes=1), "", False),  # nothing to refresh with
    ],
)
def test_a_token_is_refreshed_only_when_its_known_expiry_is_within_the_margin(
    expires_in: timedelta | None, refresh: str, expected: bool
):
    assert needs_refresh(state(expires_in, refresh), NOW) is expected


@pytest.mark.parametrize(
    ("answer", "expired"),
    [
        ({"error": "invalid_acceess_token", "message": "Invalid access_token."}, True),
        ({"error": "invalid_access_token", "message": ""}, True),
        ({"error": "error_auth", "message": "Invalid access_token."}, True),
        ({"error": "error_auth", "message": "Invalid partner_id."}, False),
        ({"error": "error_sign", "message": "Wrong sign."}, False),
        ({"error": "", "response": {}}, False),
        (["not", "a", "dict"], False),
    ],
)
def test_shopees_expired_token_answers_are_told_from_other_errors(answer: Any, expired: bool):
    assert is_expired_answer(answer) is expired


def test_a_refresh_answer_gives_both_new_tokens_and_the_expiry():
    answer = {
        "access_token": "a2",
        "refresh_token": "r2",
        "expire_in": 14400,
        "error": "",
        "message": "",
    }

    new = refreshed_state(answer, NOW)

    assert (new.access_token, new.refresh_token) == ("a2", "r2")
    assert new.expires_at == NOW + timedelta(hours=4)
    assert new.reauthorise is None


@pytest.mark.parametrize(
    "answer",
    [
        {"error": "error_auth", "message": "Invalid refresh_token."},
        {"access_token": "a2", "expire_in": 14400, "error": ""},  # no new refresh token
        {"access_token": "a2", "refresh_token": "r2", "expire_in": 0, "error": ""},
        "garbage",
    ],
)
def test_an_answer_without_new_tokens_is_not_a_refresh(answer: Any):
    with pytest.raises(ValueError):
        refreshed_state(answer, NOW)


def test_the_refresh_call_is_signed_as_a_public_call_without_shop_or_token():
    expected = hmac.new(b"k", f"2001234{REFRESH}1700000000".encode(), hashlib.sha256).hexdigest()

    assert public_sign("k", 2001234, REFRESH, 1700000000) == expected


def test_token_state_never_shows_its_tokens_and_keeps_when_it_was_first_refused():
    first = state(timedelta(hours=1), refresh="secret-refresh", access="secret-access")

    refused = first.refused("Invalid refresh_token.", NOW)
    again = refused.refused("Invalid refresh_token.", NOW + timedelta(hours=1))

    assert "secret" not in repr(again)
    assert again.reauthorise_since == NOW
    assert (again.access_token, again.refresh_token) == ("secret-access", "secret-refresh")


def keeper() -> ShopeeTokens:
    return ShopeeTokens(store=None, timeout=1.0, clock=lambda: NOW)  # type: ignore[arg-type]


def test_a_refresher_that_waited_uses_what_the_first_one_stored_without_calling_shopee():
    stored = state(timedelta(hours=4), refresh="r2", access="a2")

    # Shopee is not reachable at SHOP.base: a call would fail this test.
    assert keeper()._decide(SHOP, "a1", stored) == stored


def test_a_channel_refused_before_is_left_to_ops_without_calling_shopee():
    refused = state(timedelta(minutes=-1)).refused("Invalid refresh_token.", NOW)

    assert keeper()._decide(SHOP, "a1", refused) == refused


def test_an_expired_token_without_a_refresh_token_needs_re_authorisation():
    decided = keeper()._decide(SHOP, "a1", state(None, refresh=""))

    assert decided.reauthorise is not None
    assert "no refresh token" in decided.reauthorise
