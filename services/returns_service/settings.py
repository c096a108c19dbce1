"""Returns service settings (environment variables prefixed OMS_RETURNS_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.returns_service.domain import ShippingRefundRule, ShortPickPolicy
from shared.runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    """Configuration of the returns service."""

    model_config = SettingsConfigDict(env_prefix="OMS_RETURNS_", extra="ignore", frozen=True)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/oms_returns"
    http_port: int = 8004
    # Units an order could not ship (short-picked): refunded at once (`refund`), or kept
    # refundable for ops to refund with POST /v1/refunds, reason short_pick (`hold`).
    short_pick_policy: ShortPickPolicy = ShortPickPolicy.REFUND
    # What was paid for shipping goes back with the receipt that completes the return of every
    # shipped unit (`full_return`), or never by itself (`never`: ops refund it as an amount).
    shipping_refund: ShippingRefundRule = ShippingRefundRule.FULL_RETURN
