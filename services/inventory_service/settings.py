"""Inventory service settings (environment variables prefixed OMS_INVENTORY_)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.inventory_service.domain import (
    DEFAULT_RULES,
    ChannelRule,
    ChannelRules,
    PartialPolicy,
    parse_rules,
)
from shared.runtime.settings import ServiceSettings


class ChannelStock(BaseModel):
    """What one sales channel may sell: from which locations, less a buffer, up to a cap."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    locations: list[str] | None = Field(None, description="None: every open location")
    buffer_units: int = Field(0, ge=0)
    buffer_percent: int = Field(0, ge=0, le=100)
    allocation: int | None = Field(None, ge=0, description="At most this many units")
    splits: bool = Field(True, description="False: an order ships from one location or waits")
    partial: Literal["wait_all", "backorder_rest", "ship_available"] = Field(
        "wait_all",
        description="An order short of stock: wait_all holds nothing and waits (backorder);"
        " backorder_rest holds what is there, the rest waits; ship_available holds what is"
        " there and gives up the rest",
    )

    def rule(self) -> ChannelRule:
        """The domain's rule for this channel."""
        return ChannelRule(
            locations=None if self.locations is None else frozenset(self.locations),
            buffer_units=self.buffer_units,
            buffer_percent=self.buffer_percent,
            allocation=self.allocation,
            splits=self.splits,
            partial=PartialPolicy(self.partial),
        )


class Settings(ServiceSettings):
    """Configuration of the inventory service."""

    model_config = SettingsConfigDict(env_prefix="OMS_INVENTORY_", extra="ignore", frozen=True)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/oms_inventory"
    http_port: int = 8002
    # OMS_INVENTORY_CHANNELS='{"shopify-eu": {"locations": ["berlin"], "buffer_units": 2}}'
    channels: dict[str, ChannelStock] = Field(default_factory=dict)
    # OMS_INVENTORY_ROUTING_RULES=allowed,single_location,fewest_shipments,nearest,priority
    routing_rules: str = Field(
        ",".join(DEFAULT_RULES), description="Routing rules in order (README, Routing rules)"
    )

    @field_validator("routing_rules")
    @classmethod
    def _known_rules(cls, value: str) -> str:
        parse_rules(value)
        return value

    def channel_rules(self) -> ChannelRules:
        """Each configured channel's ATP rule; a channel not listed gets NO_RULE."""
        return ChannelRules({name: channel.rule() for name, channel in self.channels.items()})
