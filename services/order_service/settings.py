"""Order service settings (environment variables prefixed OMS_ORDERS_)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from services.order_service.domain import (
    CancelRequestPolicy,
    PaymentPolicies,
    PaymentPolicy,
    ShortPickPolicy,
)
from shared.payments import SHIPPABLE_BY_DEFAULT, PaymentState
from shared.runtime.settings import ServiceSettings


class ChannelPaymentPolicy(BaseModel):
    """One channel's payment policy as configured; what it leaves out is the default's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ship: frozenset[PaymentState] | None = Field(
        None, description="payment states whose orders may go to the warehouse"
    )
    cancel_unpaid_after_hours: float | None = Field(
        None, ge=0, description="hours an unpaid order waits before it is cancelled; 0: never"
    )


class Settings(ServiceSettings):
    """Configuration of the order service."""

    model_config = SettingsConfigDict(env_prefix="OMS_ORDERS_", extra="ignore", frozen=True)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/oms_orders"
    http_port: int = 8001
    payment_ship: frozenset[PaymentState] = Field(
        SHIPPABLE_BY_DEFAULT,
        description="payment states whose orders may go to the warehouse (JSON list); others"
        " are reserved and held as awaiting_payment",
    )
    cancel_unpaid_after_hours: float = Field(
        72.0, ge=0, description="hours an unpaid order waits before it is cancelled; 0: never"
    )
    payment_policies: dict[str, ChannelPaymentPolicy] = Field(
        default_factory=dict,
        description='per channel id, e.g. {"woo-main": {"ship": ["paid"],'
        ' "cancel_unpaid_after_hours": 24}}',
    )
    short_pick: ShortPickPolicy = Field(
        ShortPickPolicy.SHIP_SHORT,
        description="units a picker did not find: ship_short (ship without them; returns refunds"
        " them by its policy) or source_again (ask for them again, once, wherever they are)",
    )
    cancel_requests: CancelRequestPolicy = Field(
        CancelRequestPolicy.AUTO,
        description="how a buyer's cancellation request at the channel (Shopee IN_CANCEL) is"
        " answered: auto (accepted while nothing is under way, refused once picking started or"
        " shipped) or ops (held as an exception until ops answer)",
    )
    cancel_request_policies: dict[str, CancelRequestPolicy] = Field(
        default_factory=dict, description='per channel id, e.g. {"shopee-sg": "ops"}'
    )
    unpaid_sweep_seconds: float = Field(
        60.0, gt=0, description="how often the leader looks for unpaid orders past their deadline"
    )

    def payment(self) -> PaymentPolicies:
        """The payment policies of the domain, from these settings."""
        default = PaymentPolicy(
            ship=self.payment_ship, cancel_unpaid_after=_hours(self.cancel_unpaid_after_hours)
        )
        channels = {
            channel: PaymentPolicy(
                ship=policy.ship if policy.ship is not None else default.ship,
                cancel_unpaid_after=(
                    _hours(policy.cancel_unpaid_after_hours)
                    if policy.cancel_unpaid_after_hours is not None
                    else default.cancel_unpaid_after
                ),
            )
            for channel, policy in self.payment_policies.items()
        }
        return PaymentPolicies(default=default, channels=channels)


def _hours(hours: float) -> timedelta | None:
    return timedelta(hours=hours) if hours > 0 else None
