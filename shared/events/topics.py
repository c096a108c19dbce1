"""Kafka topic names: one versioned topic per publishing context, plus its dead-letter queue."""

from __future__ import annotations

CHANNEL = "oms.channel.v1"
ORDERS = "oms.orders.v1"
INVENTORY = "oms.inventory.v1"
FULFILLMENT = "oms.fulfillment.v1"
RETURNS = "oms.returns.v1"
ANALYTICS = "oms.analytics.v1"

ALL_TOPICS: tuple[str, ...] = (CHANNEL, ORDERS, INVENTORY, FULFILLMENT, RETURNS, ANALYTICS)

# The service whose relay publishes to each topic (the CloudEvents source is /oms/<service>).
PUBLISHER: dict[str, str] = {
    CHANNEL: "channel_gateway",
    ORDERS: "order_service",
    INVENTORY: "inventory_service",
    FULFILLMENT: "fulfillment_service",
    RETURNS: "returns_service",
    ANALYTICS: "stream_jobs",
}


def dlq(topic: str) -> str:
    """Name of the dead-letter topic of a topic."""
    return f"{topic}.dlq"
