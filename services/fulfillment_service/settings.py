"""Fulfillment service settings (environment variables prefixed OMS_FULFILLMENT_)."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from services.fulfillment_service.carriers import DEFAULT_RATE_TABLE
from shared.runtime.settings import ServiceSettings


class AddressSetting(BaseModel):
    """A postal address parcels leave from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(None, max_length=200)
    city: str = Field(min_length=1, max_length=200)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$")


# The demo merchant's warehouse; configure the real one (OMS_FULFILLMENT_SHIP_FROM).
DEFAULT_SHIP_FROM = AddressSetting(
    name="OMS Demo Merchant",
    line1="1 Warehouse Road",
    city="Berlin",
    postal_code="10115",
    country="DE",
)


class Settings(ServiceSettings):
    """Configuration of the fulfillment service."""

    model_config = SettingsConfigDict(env_prefix="OMS_FULFILLMENT_", extra="ignore", frozen=True)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/oms_fulfillment"
    http_port: int = 8003
    gs1_company_prefix: str = Field(
        "0614141",
        pattern=r"^[0-9]{6,12}$",
        description="The merchant's GS1 company prefix; SSCCs are built from it.",
    )
    sscc_extension_digit: int = Field(0, ge=0, le=9, description="First digit of every SSCC.")
    ship_from: AddressSetting = Field(
        DEFAULT_SHIP_FROM,
        description="The merchant's ship-from address (JSON), printed on labels.",
    )
    location_addresses: dict[str, AddressSetting] = Field(
        default_factory=dict,
        description="Ship-from address per location id (JSON object), where it differs.",
    )
    rate_table_carriers: list[dict[str, Any]] = Field(
        default_factory=lambda: [copy.deepcopy(DEFAULT_RATE_TABLE)],
        description="Carriers priced by weight band and zone that issue tracking numbers (JSON).",
    )
