"""Channel gateway settings (environment variables prefixed OMS_GATEWAY_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    """Configuration of the channel gateway."""

    model_config = SettingsConfigDict(env_prefix="OMS_GATEWAY_", extra="ignore", frozen=True)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/oms_gateway"
    http_port: int = 8000

    # Intake
    intake_batch_size: int = Field(200, ge=1, description="Webhooks stored per transaction.")
    connection_cache_seconds: float = Field(
        2.0, ge=0, description="How long a connection and its secrets are cached per process."
    )
    secret_rotation_grace_seconds: int = Field(
        172_800, ge=0, description="How long a replaced webhook secret is still accepted."
    )
    secrets_keys: SecretStr = Field(
        SecretStr(""),
        description="Fernet keys that encrypt channel secrets at rest, comma-separated, newest"
        " first: the first encrypts, all decrypt (README, Secrets at rest). Required.",
    )

    # People signing in with a name and password (POST /v1/sessions)
    session_hours: int = Field(
        12, ge=1, le=24 * 30, description="How long a token got by signing in is valid, hours."
    )

    # Deliveries to channels
    delivery_max_attempts: int = Field(10, ge=1, description="Attempts before a delivery fails.")
    delivery_backoff_initial: float = Field(5.0, gt=0, description="First retry delay, s.")
    delivery_backoff_max: float = Field(1800.0, gt=0, description="Longest retry delay, s.")
    delivery_poll_interval: float = Field(0.5, gt=0, description="Idle poll for due deliveries.")
    delivery_concurrency: int = Field(8, ge=1)
    channel_timeout: float = Field(15.0, gt=0, description="Timeout of one call to a channel.")
    shopee_token_refresh_margin_seconds: float = Field(
        900.0, ge=0, description="Refresh a Shopee access token when less than this is left."
    )

    # Stock sync (what each channel may sell, pushed on every change; retries use the
    # delivery backoff and attempts above)
    stock_sync_rate: float = Field(
        2.0, gt=0, le=1000, description="Stock pushes per second per channel (at most)."
    )
    stock_sync_poll_interval: float = Field(
        0.2, gt=0, description="How often the stock pusher looks for SKUs to push, s."
    )

    # Amazon poller
    amazon_poll_interval: float = Field(120.0, gt=0, description="Seconds between polls.")
    amazon_overlap_seconds: int = Field(
        300, ge=0, description="Re-read window before the cursor; known orders are skipped."
    )

    # Reconciliation poll of the webhook channels (Shopify, WooCommerce, Shopee)
    webhook_poll_enabled: bool = Field(
        True, description="Poll webhook channels for orders whose webhook was lost."
    )
    webhook_poll_interval: float = Field(
        300.0, gt=0, description="Seconds between two polls of one channel."
    )
    webhook_poll_page_size: int = Field(
        100, ge=1, le=250, description="Orders per page asked (capped at each channel's maximum)."
    )
    webhook_poll_overlap_seconds: int = Field(
        60, ge=0, description="Re-read window before the cursor; orders seen again change nothing."
    )
    webhook_poll_first_lookback_seconds: int = Field(
        86_400,
        ge=0,
        description="A channel's first poll reads back to its connection, at most this far.",
    )
    webhook_poll_backoff_max: float = Field(
        3600.0, gt=0, description="Longest wait before polling a failing channel again, s."
    )

    # Shipping e-mails of the merchant's own channels
    smtp_host: str = Field("", description="SMTP server; empty: e-mail deliveries are skipped.")
    smtp_port: int = 25
    smtp_sender: str = "shop@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    shop_name: str = "Your shop"

    # Bills sold in chat (README, "Selling in chat with bills")
    bill_valid_hours: float = Field(
        72.0, gt=0, le=24 * 90, description="How long a bill's link stays open unpaid, hours."
    )
    bill_public_url: str = Field(
        "http://127.0.0.1:8000",
        description="The gateway's address as customers reach it: bill links start with it.",
    )
    bill_expiry_sweep_seconds: float = Field(
        60.0, gt=0, description="How often the leader expires unpaid bills past their time."
    )
    bill_slip_max_bytes: int = Field(
        5_000_000, ge=10_000, le=50_000_000, description="Largest payment slip accepted, bytes."
    )
    bill_country: str = Field("TH", description="The country a bill's address is in by default.")
    bill_reserve_on_create: bool = Field(
        False,
        description="Reserve a bill's stock when it is made (its order placed unpaid, with no"
        " address until the customer confirms); false: when the customer confirms.",
    )
    bill_bank_account: str = Field(
        "", description="Bank, account name and number shown for a transfer; empty: no transfer."
    )
    bill_promptpay_id: str = Field(
        "", description="PromptPay mobile number or national/tax id; empty: no PromptPay."
    )
    bill_tracking_url: str = Field(
        "", description="Tracking page with {tracking_number} in it; empty: the number alone."
    )
    bill_cod: bool = Field(True, description="Offer cash on delivery.")
    # Card payments: a Stripe-Checkout-shaped provider; empty secret key: no card payments.
    card_api_base: str = Field("https://api.stripe.com", description="The provider's API.")
    card_secret_key: SecretStr = Field(SecretStr(""), description="The provider's secret key.")
    card_webhook_secret: SecretStr = Field(
        SecretStr(""), description="The webhook endpoint's signing secret (whsec_...)."
    )
    card_webhook_tolerance_seconds: float = Field(
        300.0, gt=0, description="How old a signed webhook may be (replays are refused)."
    )
