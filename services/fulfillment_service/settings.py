"""Fulfillment service settings (environment variables prefixed OMS_FULFILLMENT_)."""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
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


class EasyPostSetting(BaseModel):
    """The merchant's EasyPost account: labels bought there, trackers pushed back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr = Field(description="EasyPost API key (test keys start EZTK)")
    webhook_secret: SecretStr = Field(
        description="The webhook's secret: EasyPost signs each event with it (X-Hmac-Signature)"
    )
    base_url: str = "https://api.easypost.com/v2"
    label_format: Literal["PDF", "ZPL"] = "PDF"
    name: str = Field("easypost", pattern=r"^[a-z0-9-]{1,40}$")


class NinjaVanSetting(BaseModel):
    """The merchant's Ninja Van shipper account (ninjaAPI client credentials)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr = Field(description="Client key: also signs Ninja Van's webhooks")
    tracking_prefix: str = Field(
        pattern=r"^[A-Z0-9]{1,10}$", description="The shipper prefix Ninja Van assigned"
    )
    country_code: str = Field("th", pattern=r"^[a-z]{2}$")
    base_url: str = "https://api.ninjavan.co"
    service_level: Literal["Standard", "Express", "Sameday", "Nextday"] = "Standard"
    tracking_url_template: str = "https://www.ninjavan.co/en-th/tracking?id={tracking_number}"
    name: str = Field("ninjavan", pattern=r"^[a-z0-9-]{1,40}$")


class RateShoppingSetting(BaseModel):
    """How labels bought through an aggregator choose their rate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["cheapest", "fastest"] = "cheapest"
    service_levels: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "standard": [
                "USPS:GroundAdvantage",
                "USPS:Priority",
                "UPS:Ground",
                "FedEx:FEDEX_GROUND",
            ],
            "express": ["USPS:Express", "UPS:NextDayAir"],
        },
        description="Service level -> CARRIER:Service rates in it (CARRIER:* for all)",
    )
    default_level: str | None = "standard"


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
        description=(
            "Carriers priced by weight band and zone that issue tracking numbers (JSON); their"
            ' numbers reach channels only with "tracking_numbers_are_real": true.'
        ),
    )
    real_tracking_rate_tables: list[str] = Field(
        default_factory=list,
        description=(
            "Names of rate-table carriers whose tracking numbers are real (JSON list): the same"
            ' as "tracking_numbers_are_real": true in the table, without restating the table.'
        ),
    )
    easypost: EasyPostSetting | None = Field(None, description="EasyPost account (JSON)")
    ninjavan: NinjaVanSetting | None = Field(None, description="Ninja Van account (JSON)")
    rate_shopping: RateShoppingSetting = Field(
        default_factory=RateShoppingSetting, description="How aggregator rates are chosen"
    )
    carrier_timeout_seconds: float = Field(20.0, gt=0, le=120)
