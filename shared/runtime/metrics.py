"""Prometheus metrics shared by every service (one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

HTTP_REQUESTS = Counter(
    "oms_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "oms_http_request_seconds", "HTTP request latency", ["method", "route"], buckets=LATENCY_BUCKETS
)
PUBLISHED = Counter("oms_relay_published_total", "Integration events published", ["topic"])
RELAY_LAG = Gauge("oms_relay_lag_events", "Stored events not yet published by the relay")
RELAY_REPUBLISHES = Counter(
    "oms_relay_republish_total", "Times the relay found the broker had lost its log", ["topic"]
)
CONSUMED = Counter(
    "oms_consumed_total", "Messages applied by consumers", ["topic", "event_type", "outcome"]
)
DEAD_LETTERS = Counter("oms_dead_letters_total", "Messages sent to a DLQ", ["topic"])
HOP_LATENCY = Histogram(
    "oms_hop_seconds",
    "Time from an event's creation at its publisher to its effect committed here",
    ["event_type"],
    buckets=LATENCY_BUCKETS,
)
PROJECTION_LAG = Gauge(
    "oms_projection_lag_events", "Stored events not yet in a read model", ["projection"]
)
RETRIES = Counter("oms_transient_retries_total", "Retries after transient failures", ["worker"])
CONSUMER_GAPS = Gauge(
    "oms_consumer_gap",
    "1 while a partition waits longer than the alarm time for a message that never arrived",
    ["topic", "partition", "source"],
)
PARKED = Counter(
    "oms_stored_events_parked",
    "Stored events a worker (relay, projection) could not handle and parked",
    ["worker"],
)
PARKED_OPEN = Gauge(
    "oms_stored_events_parked_open",
    "Parked stored events still waiting for a fix or an ops decision",
    ["worker"],
)
LEADER = Gauge("oms_leader", "1 while this instance holds its service's leader lock")
LEADERSHIP_LOST = Counter(
    "oms_leadership_lost_total", "Times this instance lost its leader lock while leading"
)
WORK_RESTARTS = Counter(
    "oms_worker_restarts_total", "Leader works restarted after they ended on their own", ["work"]
)
CHANNEL_TOKEN_REFRESHES = Counter(
    "oms_channel_token_refresh_total",
    "Access token refreshes at a channel: refreshed, refused (re-authorise), failed (retried)",
    ["channel", "outcome"],
)
CHANNEL_REAUTHORISE = Gauge(
    "oms_channel_reauthorisation_needed",
    "1 while the channel refused our refresh token and the shop must be authorised again",
    ["channel"],
)
CHANNEL_POLLS = Counter(
    "oms_channel_polls_total",
    "Reconciliation polls of a webhook channel (orders whose webhook was lost): ok or failed",
    ["channel", "outcome"],
)
CHANNEL_POLL_ORDERS = Counter(
    "oms_channel_poll_orders_total",
    "Orders a reconciliation poll took in because their webhook never came",
    ["channel"],
)
CHANNEL_POLL_CURSOR = Gauge(
    "oms_channel_poll_cursor_seconds",
    "How far the reconciliation poll has read a channel (Unix time of its cursor)",
    ["channel"],
)
STOCK_PUSHES = Counter(
    "oms_stock_pushes_total",
    "Stock pushes to a channel: pushed, failed (retried or given up) or not_listed",
    ["channel", "outcome"],
)
STOCK_SYNC_LAG = Histogram(
    "oms_stock_sync_lag_seconds",
    "From a SKU's stock change in inventory to the channel holding the figure",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)

# The stream jobs' KPIs: per channel, of the latest UTC hour that channel had orders placed in.
STREAM_ORDERS = Gauge(
    "oms_stream_orders", "Orders placed in the channel's latest hour", ["channel"]
)
STREAM_UNITS = Gauge("oms_stream_units", "Units ordered in the channel's latest hour", ["channel"])
STREAM_REVENUE = Gauge(
    "oms_stream_revenue_minor_units",
    "Revenue of the channel's latest hour, in the currency's minor units",
    ["channel", "currency"],
)
STREAM_BACKORDER_RATE = Gauge(
    "oms_stream_backorder_rate", "Orders backordered / placed, channel's latest hour", ["channel"]
)
STREAM_FILL_RATE = Gauge(
    "oms_stream_fill_rate",
    "Units shipped / units shipped or short, of the latest hour's shipped orders",
    ["channel"],
)
STREAM_PLACED_TO_SHIPPED = Gauge(
    "oms_stream_placed_to_shipped_median_seconds",
    "Median seconds from placing to shipping, of the latest hour's shipped orders",
    ["channel"],
)
STREAM_LOW_STOCK = Gauge(
    "oms_stream_low_stock", "1 while a SKU is below its reorder point there", ["sku", "location"]
)
STREAM_REORDER_POINT = Gauge(
    "oms_stream_reorder_point",
    "Reorder point of a SKU there: demand over the lead time plus safety stock",
    ["sku", "location"],
)
STREAM_REORDER_UNITS = Gauge(
    "oms_stream_reorder_suggested_units",
    "Units suggested to order when the SKU last went low there (0 once it is not low)",
    ["sku", "location"],
)
STREAM_PUBLISHED = Counter(
    "oms_stream_published_total", "Analytics events published by the stream jobs", ["event_type"]
)
