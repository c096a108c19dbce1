"""The doorbell between relays and consumers: real Unix sockets, real event loop."""

from __future__ import annotations

import socket
from pathlib import Path

from shared.runtime.doorbell import Doorbell


async def test_a_ring_reaches_the_consumers_of_its_topic_with_the_furthest_offsets(
    tmp_path: Path,
) -> None:
    listener = Doorbell(tmp_path, topics=["oms.orders.v1"])
    other = Doorbell(tmp_path, topics=["oms.inventory.v1"])
    relay = Doorbell(tmp_path)
    for bell in (listener, other, relay):
        bell.open()
    try:
        relay.ring("oms.orders.v1", {0: 5, 3: 2})
        relay.ring("oms.orders.v1", {0: 9})
        news = await listener.wait(timeout=2)
        assert news == {("oms.orders.v1", 0): 9, ("oms.orders.v1", 3): 2}
        assert await other.wait(timeout=0.2) is None, "woken for a topic it does not read"
        assert await listener.wait(timeout=0.2) is None, "the same news was handed out twice"
    finally:
        for bell in (listener, other, relay):
            bell.close()


async def test_a_relay_and_a_consumer_of_one_process_hear_each_other(tmp_path: Path) -> None:
    bell = Doorbell(tmp_path, topics=["oms.channel.v1"])
    bell.open()
    try:
        bell.ring("oms.channel.v1", {1: 4})
        assert await bell.wait(timeout=1) == {("oms.channel.v1", 1): 4}
    finally:
        bell.close()


async def test_the_socket_of_a_process_that_died_is_cleared_and_rings_go_on(
    tmp_path: Path,
) -> None:
    dead = tmp_path / "999999-abcdef.sock"
    orphan = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    orphan.bind(str(dead))
    orphan.close()  # killed: its socket file stays behind, with nobody listening
    listener = Doorbell(tmp_path, topics=["oms.orders.v1"])
    relay = Doorbell(tmp_path)
    listener.open()
    relay.open()
    try:
        relay.ring("oms.orders.v1", {2: 1})
        assert not dead.exists()
        assert await listener.wait(timeout=2) == {("oms.orders.v1", 2): 1}
    finally:
        listener.close()
        relay.close()


async def test_a_malformed_ring_is_dropped_and_the_next_one_heard(tmp_path: Path) -> None:
    listener = Doorbell(tmp_path, topics=["oms.orders.v1"])
    listener.open()
    sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        path = str(next(tmp_path.glob("*.sock")))
        sender.sendto("oms.orders.v1 x:1 2:y ²:3 4:\u00b2".encode() + b" \xff", path)
        sender.sendto(b"oms.orders.v1 1:7", path)
        assert await listener.wait(timeout=2) == {("oms.orders.v1", 1): 7}
    finally:
        sender.close()
        listener.close()


async def test_a_directory_too_long_for_a_socket_path_still_rings(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    listener = Doorbell(deep, topics=["oms.orders.v1"])
    relay = Doorbell(deep)
    listener.open()
    relay.open()
    try:
        relay.ring("oms.orders.v1", {0: 1})
        assert await listener.wait(timeout=2) == {("oms.orders.v1", 0): 1}
        assert listener.directory == relay.directory != deep.resolve()
    finally:
        listener.close()
        relay.close()
    assert not list(listener.directory.glob("*.sock")), "closing left its socket behind"


async def test_a_consumer_wakes_only_for_event_types_it_handles_and_keeps_the_rest_for_later(
    tmp_path: Path,
) -> None:
    listener = Doorbell(tmp_path, topics=["oms.inventory.v1"], wanted=["oms.StockReserved.v1"])
    relay = Doorbell(tmp_path)
    listener.open()
    relay.open()
    try:
        relay.ring("oms.inventory.v1", {0: 4, 1: 2}, {0: {"oms.StockLevelChanged.v1"}, 1: set()})
        assert await listener.wait(timeout=1) == {("oms.inventory.v1", 1): 2}, (
            "a partition whose types are not named wakes everyone"
        )
        relay.ring("oms.inventory.v1", {0: 7}, {0: {"oms.ChannelAvailabilityChanged.v1"}})
        assert await listener.wait(timeout=0.3) is None, "woken for events it does not handle"
        assert listener.take_later() == {("oms.inventory.v1", 0): 7}
        assert listener.take_later() == {}

        relay.ring(
            "oms.inventory.v1", {0: 9}, {0: {"oms.StockLevelChanged.v1", "oms.StockReserved.v1"}}
        )
        assert await listener.wait(timeout=2) == {("oms.inventory.v1", 0): 9}
    finally:
        listener.close()
        relay.close()


async def test_a_ring_too_long_to_name_its_types_wakes_every_consumer(tmp_path: Path) -> None:
    listener = Doorbell(tmp_path, topics=["oms.orders.v1"], wanted=["oms.OrderPlaced.v1"])
    relay = Doorbell(tmp_path)
    listener.open()
    relay.open()
    try:
        many = {p: {f"oms.Event{n:04}.v1" for n in range(100)} for p in range(24)}
        relay.ring("oms.orders.v1", dict.fromkeys(range(24), 5), many)
        news = await listener.wait(timeout=2)
        assert news == {("oms.orders.v1", p): 5 for p in range(24)}
    finally:
        listener.close()
        relay.close()
