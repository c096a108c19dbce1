"""Console settings (environment variables prefixed OMS_CONSOLE_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the five APIs are, and the key the console's session cookies are sealed with."""

    model_config = SettingsConfigDict(env_prefix="OMS_CONSOLE_", extra="ignore", frozen=True)

    http_host: str = "127.0.0.1"
    http_port: int = 8080
    gateway_url: str = "http://127.0.0.1:8000"
    orders_url: str = "http://127.0.0.1:8001"
    inventory_url: str = "http://127.0.0.1:8002"
    fulfillment_url: str = "http://127.0.0.1:8003"
    returns_url: str = "http://127.0.0.1:8004"
    session_key: SecretStr = Field(
        description="A Fernet key (urlsafe base64 of 32 bytes) sealing the session cookies;"
        " `oms up` makes one in its var directory. Changing it signs everyone out.",
    )
    secure_cookies: bool = Field(
        False, description="Send the session cookie over HTTPS only (on behind TLS)."
    )
    api_timeout_seconds: float = Field(15.0, gt=0)
    log_level: str = "INFO"

    def urls(self) -> dict[str, str]:
        """The base URL of each service the console calls, by service name."""
        return {
            "channel_gateway": self.gateway_url.rstrip("/"),
            "order_service": self.orders_url.rstrip("/"),
            "inventory_service": self.inventory_url.rstrip("/"),
            "fulfillment_service": self.fulfillment_url.rstrip("/"),
            "returns_service": self.returns_url.rstrip("/"),
        }
