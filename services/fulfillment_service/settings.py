"""Fulfillment service settings (environment variables prefixed OMS_FULFILLMENT_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    """Configuration of the fulfillment service."""

    model_config = SettingsConfigDict(env_prefix="OMS_FULFILLMENT_", extra="ignore", frozen=True)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/oms_fulfillment"
    http_port: int = 8003
