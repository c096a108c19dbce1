"""Stream jobs settings (environment variables prefixed OMS_STREAMS_)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.runtime.settings import DEFAULT_TOPIC_PARTITIONS


class Settings(BaseSettings):
    """Configuration of the stream jobs process; it has no database of its own."""

    model_config = SettingsConfigDict(env_prefix="OMS_STREAMS_", extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_partitions: int = Field(
        DEFAULT_TOPIC_PARTITIONS, ge=1, description="Partition count of the v1 topics."
    )
    consumer_group: str = Field(
        "stream_jobs",
        min_length=1,
        description="Consumer group and faust app id; also the prefix of its changelog topics.",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8005
    lead_time_days: Decimal = Field(Decimal(7), ge=0, description="Supplier lead time.")
    demand_window_days: int = Field(
        14, ge=1, description="Demand is the units reserved over this many days."
    )
    safety_stock_days: Decimal = Field(Decimal(2), ge=0, description="Days of demand kept back.")
    safety_stock_units: int = Field(0, ge=0, description="Units kept back on top of those days.")
    cover_days: Decimal = Field(
        Decimal(14), ge=0, description="A reorder suggestion covers this many days past the point."
    )
    publish_interval_seconds: float = Field(
        2.0, gt=0, description="KPIs of the hours that changed are published this often."
    )
    commit_interval_seconds: float = Field(
        2.8, gt=0, description="How often offsets are committed (faust's default)."
    )
    broker_check_seconds: float = Field(
        5.0,
        gt=0,
        description="How often the jobs check that the broker kept its log (their epoch mark);"
        " when it did not, the process exits so that its supervisor starts it afresh.",
    )
    data_dir: str = Field(
        "",
        description="Faust's working directory (its tables live in memory and in their"
        " changelogs, so nothing here needs keeping); empty: a directory under the system's temp.",
    )
    log_level: str = "INFO"
