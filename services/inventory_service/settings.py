"""Inventory service settings (environment variables prefixed OMS_INVENTORY_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    """Configuration of the inventory service."""

    model_config = SettingsConfigDict(env_prefix="OMS_INVENTORY_", extra="ignore", frozen=True)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/oms_inventory"
    http_port: int = 8002
