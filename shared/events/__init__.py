"""The public contracts: integration events, topics and the CloudEvents codec."""

from shared.events.base import IntegrationEvent, now_utc
from shared.events.models import *  # noqa: F403
from shared.events.models import EVENT_CLASSES, EVENTS_BY_TYPE

__all__ = ["EVENTS_BY_TYPE", "EVENT_CLASSES", "IntegrationEvent", "now_utc"]
