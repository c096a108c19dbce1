"""The stream jobs' pure computations: KPIs per channel and hour, and reorder points.

Only stdlib and shared.money; no I/O, no faust.
"""

from services.stream_jobs.domain.kpis import (
    ChannelHourKpis,
    OrderFacts,
    PricedLine,
    backordered,
    bucket_of,
    cancelled,
    channel_hour_kpis,
    hour_of,
    median_seconds,
    order_revenue,
    placed,
    shipped,
    to_minor_units,
)
from services.stream_jobs.domain.stock import (
    Assessment,
    LevelState,
    ReorderPolicy,
    Reservation,
    as_of,
    assess,
    daily_demand,
    level_changed,
    mark,
    reorder_point,
    safety_stock,
)

__all__ = [
    "Assessment",
    "ChannelHourKpis",
    "LevelState",
    "OrderFacts",
    "PricedLine",
    "ReorderPolicy",
    "Reservation",
    "as_of",
    "assess",
    "backordered",
    "bucket_of",
    "cancelled",
    "channel_hour_kpis",
    "daily_demand",
    "hour_of",
    "level_changed",
    "mark",
    "median_seconds",
    "order_revenue",
    "placed",
    "reorder_point",
    "safety_stock",
    "shipped",
    "to_minor_units",
]
