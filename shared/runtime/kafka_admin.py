"""Kafka topic administration: create the versioned topics and their DLQs, read end offsets."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError, for_code

from shared.events.topics import dlq

log = logging.getLogger(__name__)

T = TypeVar("T")

# The broker may still be starting (or restarting) when a service or `oms up` gets here.
_CONNECT_ERRORS = (KafkaConnectionError, OSError, asyncio.TimeoutError)


async def ensure_topics(
    bootstrap: str,
    topics: Iterable[str],
    partitions: int,
    *,
    timeout: float = 30.0,
    dead_letters: bool = True,
) -> None:
    """Create every missing topic, and its `.dlq` topic (unless `dead_letters` is off), with
    `partitions` partitions."""
    names = with_dlqs(topics) if dead_letters else list(dict.fromkeys(topics))
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        try:
            await _ensure_topics_once(bootstrap, names, partitions)
            return
        except _CONNECT_ERRORS as exc:
            if time.monotonic() + delay > deadline:
                raise TimeoutError(
                    f"Kafka broker at {bootstrap} not reachable within {timeout:.0f} s: {exc}"
                ) from exc
            log.info("broker %s not up yet (%s); retrying in %.1f s", bootstrap, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def with_dlqs(topics: Iterable[str]) -> list[str]:
    """The topics followed by their dead-letter topics, without duplicates, in a stable order."""
    names: list[str] = []
    for topic in topics:
        for name in (topic, dlq(topic)):
            if name not in names:
                names.append(name)
    return names


async def _ensure_topics_once(bootstrap: str, names: list[str], partitions: int) -> None:
    """One attempt: list, create what is missing, then check partition counts."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if missing:
            await _create(admin, missing, partitions)
        await _warn_on_partition_mismatch(admin, names, partitions)
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, names: list[str], partitions: int) -> None:
    """Create topics; another instance creating the same topic at the same time is fine."""
    try:
        response = await admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names]
        )
    except TopicAlreadyExistsError:
        return
    # aiokafka returns per-topic error codes instead of raising; read them.
    for topic_error in response.topic_errors:
        name, code = topic_error[0], topic_error[1]
        message = topic_error[2] if len(topic_error) > 2 else None
        if code == 0:
            log.info("created topic %s with %d partitions", name, partitions)
            continue
        error = for_code(code)
        if error is TopicAlreadyExistsError:
            continue
        raise error(f"cannot create topic {name}: {message}")


async def _warn_on_partition_mismatch(
    admin: AIOKafkaAdminClient, names: list[str], partitions: int
) -> None:
    """Warn loudly about a topic with another partition count (e.g. auto-created by a producer)."""
    for description in await admin.describe_topics(names):
        actual = len(description.get("partitions", []))
        if actual != partitions:
            log.warning(
                "topic %s has %d partitions, configured %d; keys map consistently either way, "
                "but a different count needs a new topic version",
                description.get("topic"),
                actual,
                partitions,
            )


async def topic_end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """Partition -> high watermark of a topic; empty when the topic does not exist."""
    # No group: this only reads metadata and offsets, it must not join or disturb any group.
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        # start() fetched the metadata of all topics, so this is fresh.
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return {}
        offsets = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in offsets.items()}
    finally:
        # aiokafka 0.14: stop() right after start() awaits a task cancelled before it ever ran,
        # which raises CancelledError; one turn of the loop lets that task start first.
        await asyncio.sleep(0)
        await consumer.stop()


async def wait_for_broker(bootstrap: str, *, timeout: float = 15.0) -> None:
    """Return once the broker answers a metadata request; raise TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()  # bootstrapping sends a MetadataRequest
            await admin.list_topics()
            return
        except (*_CONNECT_ERRORS, KafkaError) as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(f"Kafka broker at {bootstrap} did not answer: {exc}") from exc
        finally:
            await admin.close()
        await asyncio.sleep(0.1)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a thread with a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # asyncio.run refuses to nest; a short-lived thread gets its own loop (e.g. in async tests).
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, name="run_sync", daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]
