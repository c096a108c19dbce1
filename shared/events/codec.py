"""CloudEvents 1.0 Kafka binary-mode codec for the integration events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudevents.core.bindings import kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

from shared.events.base import TOLERANT, IntegrationEvent
from shared.events.models import EVENTS_BY_TYPE

SOURCE_PREFIX = "/oms/"
_FORMAT = JSONFormat()
_POSITION_DIGITS = 20


class DecodeError(ValueError):
    """A message that is not a valid OMS CloudEvent; it belongs in the DLQ with this reason."""


@dataclass(frozen=True)
class Envelope:
    """An integration event with the CloudEvents attributes it travelled with."""

    event: IntegrationEvent
    id: str
    source: str
    position: int
    correlation_id: str | None
    causation_id: str | None
    time: datetime | None = None
    predecessor: int | None = None
    actor: str | None = None

    @property
    def source_service(self) -> str:
        """The publishing service, e.g. order_service."""
        return self.source.removeprefix(SOURCE_PREFIX)


@dataclass(frozen=True)
class WireMessage:
    """What goes onto Kafka: key, value and headers."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def encode(
    event: IntegrationEvent,
    *,
    event_id: str,
    service: str,
    position: int,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    time: datetime | None = None,
    predecessor: int | None = None,
    actor: str | None = None,
) -> WireMessage:
    """Binary-mode CloudEvent: attributes as ce_ headers, the JSON payload as the value.

    `predecessor` is the position this publisher last sent on the same partition (0 for its
    first): a consumer applies a message only after its predecessor, so it can tell a
    duplicate from a message that never arrived (docs/architecture.md, Delivery guarantees).
    """
    attributes: dict[str, Any] = {
        "id": event_id,
        "source": SOURCE_PREFIX + service,
        "type": event.event_type(),
        "subject": event.partition_key,
        "partitionkey": event.partition_key,
        "datacontenttype": "application/json",
        # The publisher's notification id, zero-padded so the CloudEvents `sequence`
        # extension orders lexicographically; consumers dedupe on it.
        "sequence": str(position).zfill(_POSITION_DIGITS),
    }
    if predecessor is not None:
        attributes["predecessor"] = str(predecessor).zfill(_POSITION_DIGITS)
    if time is not None:
        attributes["time"] = time
    if correlation_id:
        attributes["correlationid"] = correlation_id
    if causation_id:
        attributes["causationid"] = causation_id
    if actor:  # who asked for the change: a user or machine client (an OMS extension)
        attributes["actor"] = actor
    message = kafka.to_binary(CloudEvent(attributes, event.to_data()), _FORMAT)
    return WireMessage(
        key=event.partition_key.encode(),
        value=message.value,
        headers=list(message.headers.items()),
    )


def decode(
    headers: list[tuple[str, bytes]] | None,
    key: bytes | None,
    value: bytes,
    *,
    tolerant: bool = False,
) -> Envelope:
    """Parse and validate a Kafka record; raises DecodeError naming what is wrong.

    `tolerant` (consumers): fields the event's model does not know are ignored, at any depth,
    so an additive change does not dead-letter in a service not yet upgraded. Strict (the
    default) is what producers and the contract tests check.
    """
    try:
        message = kafka.KafkaMessage(headers=dict(headers or []), key=key, value=value or b"")
        cloud_event = kafka.from_binary(message, _FORMAT)
    except Exception as error:
        raise DecodeError(f"not a binary-mode CloudEvent: {error}") from None
    attributes = cloud_event.get_attributes()
    event_class = EVENTS_BY_TYPE.get(attributes["type"])
    if event_class is None:
        raise DecodeError(f"unknown event type {attributes['type']!r}")
    try:
        event = _validate(event_class, cloud_event.get_data(), tolerant=tolerant)
        position = int(attributes["sequence"])
    except ValidationError as error:
        raise DecodeError(f"{attributes['type']} violates its contract: {error}") from None
    except (KeyError, ValueError, TypeError):
        raise DecodeError("missing or malformed sequence attribute") from None
    if position < 1:
        raise DecodeError(f"ce_sequence must be a positive notification id, not {position}")
    if key is not None and key != event.partition_key.encode():
        raise DecodeError("Kafka key differs from the event's partition key")
    return Envelope(
        event=event,
        id=attributes["id"],
        source=attributes["source"],
        position=position,
        correlation_id=attributes.get("correlationid"),
        causation_id=attributes.get("causationid"),
        time=attributes.get("time"),
        predecessor=_predecessor(attributes.get("predecessor"), position),
        actor=attributes.get("actor"),
    )


def _validate(
    event_class: type[IntegrationEvent], data: Any, *, tolerant: bool
) -> IntegrationEvent:
    """The event of a payload; a tolerant reader ignores unknown fields.

    Strict first: the tolerant pass (measured at +20 % per decode) is paid only by a message
    that does carry a field this service does not know.
    """
    try:
        return event_class.model_validate(data)
    except ValidationError as error:
        if not tolerant or all(e["type"] != "extra_forbidden" for e in error.errors()):
            raise
    return event_class.model_validate(data, context=TOLERANT)


@dataclass(frozen=True)
class Peek:
    """What a consumer needs to track a record without decoding its payload."""

    event_type: str
    source: str
    position: int
    predecessor: int | None = None  # None: a publisher that does not chain its messages

    @property
    def source_service(self) -> str:
        """The publishing service, e.g. order_service."""
        return self.source.removeprefix(SOURCE_PREFIX)


def peek(headers: list[tuple[str, bytes]] | None) -> Peek:
    """Read type, source and position from the ce_ headers; DecodeError when they are missing.

    Consumers skip the events they do not handle on this cheap path, so a busy topic costs
    them a header scan per record instead of a full validation.
    """
    values = dict(headers or [])
    try:
        event_type = values["ce_type"].decode()
        source = values["ce_source"].decode()
        position = int(values["ce_sequence"])
    except (KeyError, ValueError, UnicodeDecodeError):
        raise DecodeError(
            "not a binary-mode OMS CloudEvent: ce_type, ce_source or ce_sequence "
            "missing or malformed"
        ) from None
    if position < 1:
        raise DecodeError(f"ce_sequence must be a positive notification id, not {position}")
    raw = values.get("ce_predecessor")
    return Peek(event_type, source, position, _predecessor(raw and raw.decode(), position))


def _predecessor(raw: str | bytes | None, position: int) -> int | None:
    """The predecessor attribute as a number below `position`; DecodeError when malformed."""
    if raw is None:
        return None
    try:
        predecessor = int(raw)
    except ValueError:
        raise DecodeError(f"ce_predecessor must be a notification id, not {raw!r}") from None
    if not 0 <= predecessor < position:
        raise DecodeError(f"ce_predecessor {predecessor} must be below ce_sequence {position}")
    return predecessor
