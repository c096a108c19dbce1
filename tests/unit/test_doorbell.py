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
