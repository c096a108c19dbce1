"""The chaos harness's fault proxy on loopback: a cut holds everything until it heals, a delay
adds latency each way, and the broker's proxy knows which process a connection comes from."""

from __future__ import annotations

import os
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from shared.cli.chaos.proxy import FaultProxy, Impairment, Target, owner_of_port

pytestmark = pytest.mark.integration


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(echo_port: int) -> Iterator[FaultProxy]:
    proxy = FaultProxy("echo", Target(port=echo_port)).start()
    yield proxy
    proxy.stop()


def roundtrip(conn: socket.socket, data: bytes, timeout: float) -> bytes:
    conn.settimeout(timeout)
    conn.sendall(data)
    try:
        return conn.recv(4096)
    except TimeoutError:
        return b""


def test_a_cut_link_passes_nothing_and_closes_nothing_until_it_heals(proxy):
    with socket.create_connection(("127.0.0.1", proxy.port)) as conn:
        assert roundtrip(conn, b"before", 2) == b"before"
        proxy.impair(None, Impairment(cut=True))
        assert roundtrip(conn, b"during", 0.5) == b""
        proxy.heal()
        conn.settimeout(2)
        assert conn.recv(4096) == b"during"
        assert roundtrip(conn, b"after", 2) == b"after"


def test_a_connection_opened_during_a_cut_waits_in_silence_until_it_heals(proxy):
    proxy.impair(None, Impairment(cut=True))
    with socket.create_connection(("127.0.0.1", proxy.port)) as conn:
        assert roundtrip(conn, b"hello", 0.5) == b""
        proxy.heal()
        conn.settimeout(2)
        assert conn.recv(4096) == b"hello"


def test_a_delayed_link_adds_the_delay_each_way_and_keeps_the_order(proxy):
    with socket.create_connection(("127.0.0.1", proxy.port)) as conn:
        proxy.impair(None, Impairment(delay=0.2))
        started = time.monotonic()
        conn.sendall(b"1")
        conn.sendall(b"2")
        conn.settimeout(3)
        received = b""
        while len(received) < 2:
            received += conn.recv(4096)
        assert received == b"12"
        assert time.monotonic() - started >= 0.4


def test_the_broker_proxy_names_the_process_a_connection_comes_from(echo_port):
    names = {"this test": os.getpid()}
    seen: list[str | None] = []

    def classify(peer_port: int) -> str | None:
        seen.append(owner_of_port(peer_port, proxy.port, names))
        return seen[-1]

    proxy = FaultProxy("named", Target(port=echo_port), classify=classify).start()
    try:
        with socket.create_connection(("127.0.0.1", proxy.port)) as conn:
            assert roundtrip(conn, b"hi", 2) == b"hi"
            proxy.impair("this test", Impairment(cut=True))
            assert roundtrip(conn, b"cut", 0.5) == b""
        assert seen == ["this test"]
        assert owner_of_port(1, proxy.port, {"someone else": 1}) is None
    finally:
        proxy.stop()
