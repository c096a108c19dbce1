"""Messages of events a service does not handle are read past without a transaction, and a
restart reads them again: the stored position moves only with what is applied (or now and then)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import cast

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, TopicPartition

from services.returns_service.application import Returns
from services.returns_service.settings import Settings
from shared.events import topics
from shared.events.codec import Envelope
from shared.events.models import AccessGranted
from shared.runtime import consumer as consumer_module
from shared.runtime.access_grants import CONSUMES, AccessGrant
from shared.runtime.application import ServiceApplication
from shared.runtime.consumer import EventConsumer, Inbound
from shared.runtime.wiring import open_application

pytestmark = pytest.mark.integration

PARTITION = TopicPartition(topics.CHANNEL, 0)
NAME = "channel_gateway#0"


def _record(offset: int) -> ConsumerRecord:
    return ConsumerRecord(topics.CHANNEL, 0, offset, 0, 0, None, b"", None, 0, 0, [])


def _order_news(position: int, predecessor: int) -> Inbound:
    """A message of an event the service does not handle (no envelope: only peeked)."""
    return Inbound(_record(position), position, "channel_gateway", None, predecessor)


def _grant(position: int, predecessor: int, token_id: str = "ab" * 16) -> Inbound:
    granted = AccessGranted(
        token_id=token_id,
        principal="packer",
        role="warehouse",
        token_hash="cd" * 32,
        granted_by="admin",
        granted_at=datetime(2026, 12, 7, tzinfo=UTC),
    )
    envelope = Envelope(granted, f"gw-{position}", "/oms/channel_gateway", position, None, None)
    return Inbound(_record(position), position, "channel_gateway", envelope, predecessor)


def _consumer(app: ServiceApplication) -> EventConsumer:
    return EventConsumer(
        service="inventory_service",
        app=app,
        handlers=CONSUMES,
        topics=[topics.CHANNEL],
        bootstrap="127.0.0.1:1",  # never reached
        producer=cast(AIOKafkaProducer, None),
    )


@pytest.fixture
def app(new_database) -> Iterator[ServiceApplication]:
    """A service's application on a database of its own (the returns service's, any would do)."""
    opened = open_application(Returns, Settings(database_url=new_database("passing")))
    yield opened
    opened.close()


def stored(app: ServiceApplication) -> int:
    return app.process_recorder.max_tracking_id(NAME) or 0


def test_news_this_service_does_not_handle_is_passed_in_memory_after_a_first_stored_batch(app):
    consumer = _consumer(app)

    assert consumer._apply_partition(PARTITION, [_order_news(1, 0), _order_news(2, 1)]) == []
    assert stored(app) == 2  # the first pass is stored: a restart starts after it
    assert PARTITION not in consumer._offset_held

    assert consumer._apply_partition(PARTITION, [_order_news(3, 2), _order_news(4, 3)]) == []
    assert stored(app) == 2  # no transaction for these two
    assert PARTITION in consumer._offset_held  # and no offset commit past them

    # A grant whose predecessor was only passed in memory follows on all the same.
    assert consumer._apply_partition(PARTITION, [_grant(5, 4)]) == []
    assert stored(app) == 5
    assert app.repository.get(AccessGrant.create_id("ab" * 16)).principal == "packer"


def test_a_restart_reads_the_passed_messages_again_and_then_applies_what_follows(app):
    first = _consumer(app)
    first._apply_partition(PARTITION, [_order_news(1, 0)])
    first._apply_partition(PARTITION, [_order_news(2, 1), _order_news(3, 2)])
    assert stored(app) == 1

    again = _consumer(app)  # a new process: nothing in memory, Kafka offset behind 2 and 3
    waiting = again._apply_partition(PARTITION, [_grant(4, 3)])
    assert [w.position for w in waiting] == [4]  # read before its predecessors: it waits
    assert (
        again._apply_partition(PARTITION, [_order_news(2, 1), _order_news(3, 2), _grant(4, 3)])
        == []
    )
    assert stored(app) == 4


def test_a_passed_position_is_stored_again_once_the_interval_is_over(app, monkeypatch):
    consumer = _consumer(app)
    clock = [1000.0]
    monkeypatch.setattr(consumer_module.time, "monotonic", lambda: clock[0])
    consumer._apply_partition(PARTITION, [_order_news(1, 0)])
    clock[0] += 1
    consumer._apply_partition(PARTITION, [_order_news(2, 1)])
    assert stored(app) == 1
    clock[0] += consumer_module.PASS_PERSIST_SECONDS
    consumer._apply_partition(PARTITION, [_order_news(3, 2)])
    assert stored(app) == 3


def test_a_handled_message_that_changes_nothing_is_read_past_like_one_not_handled(app):
    """A grant told again (its handler keeps the first) records nothing: no transaction for
    it, and its position is stored with the next message that changes something."""
    consumer = _consumer(app)
    assert consumer._apply_partition(PARTITION, [_grant(1, 0)]) == []
    assert stored(app) == 1

    assert consumer._apply_partition(PARTITION, [_grant(2, 1)]) == []  # the same grant again
    assert stored(app) == 1, "a transaction for a message that changed nothing"
    assert PARTITION in consumer._offset_held  # a restart reads it again

    assert consumer._apply_partition(PARTITION, [_grant(3, 2, token_id="cd" * 16)]) == []
    assert stored(app) == 3
    assert app.repository.get(AccessGrant.create_id("cd" * 16)).principal == "packer"
