"""HMAC signatures that channels, carriers and payment providers put on what they send us, and
we on what we send them, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def hmac_sha256(secret: str, message: bytes) -> bytes:
    """The raw HMAC-SHA256 of a message."""
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def base64_signature(secret: str, body: bytes) -> str:
    """Shopify's and WooCommerce's signature: base64 of HMAC-SHA256 over the raw body."""
    return base64.b64encode(hmac_sha256(secret, body)).decode()


def hex_signature(secret: str, message: bytes) -> str:
    """Shopee's signature: lower-case hex of HMAC-SHA256."""
    return hmac_sha256(secret, message).hex()


def any_matches(given: str | None, expected: Iterable[str]) -> bool:
    """Whether the given signature equals one of the expected ones, compared in constant time."""
    if not given:
        return False
    wanted = given.strip().encode()
    # Compare against every candidate, so the time taken does not tell which one was close.
    results = [hmac.compare_digest(wanted, candidate.encode()) for candidate in expected]
    return any(results)
