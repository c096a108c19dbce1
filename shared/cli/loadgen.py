"""A minimal keep-alive HTTP/1.1 load generator for the benchmarks.

httpx's pool spends more CPU per request than an OMS service does, and the load generator
shares the machine's cores with the system it measures; this one costs a fraction of that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Request = tuple[bytes, dict[str, str]]  # body and extra headers


@dataclass(frozen=True)
class Reply:
    """One answered request: status, body, when it was sent and how long it took."""

    status: int
    body: bytes
    sent_at: float
    seconds: float


async def post_all(
    ports: list[int],
    path: str,
    requests: Iterable[Request],
    concurrency: int,
    on_reply: Callable[[Reply], None] | None = None,
) -> list[Reply]:
    """POST every request over `concurrency` keep-alive connections spread over the ports."""
    replies: list[Reply] = []
    queue = iter(requests)

    async def client(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for body, headers in queue:
                sent_at, started = time.time(), time.perf_counter()
                writer.write(_request(path, body, headers))
                await writer.drain()
                status, answer = await _read_response(reader)
                reply = Reply(status, answer, sent_at, time.perf_counter() - started)
                replies.append(reply)
                if on_reply is not None:
                    on_reply(reply)
        finally:
            writer.close()

    # Clients spread over the instances, as a load balancer would spread connections.
    await asyncio.gather(*(client(ports[i % len(ports)]) for i in range(concurrency)))
    return replies


async def post_at_rate(
    port: int, path: str, requests: list[Request], rate: float, on_reply: Callable[[Reply], None]
) -> None:
    """POST the requests at a fixed rate (open loop): a slow answer never delays the next send.

    Each reply's `sent_at` and `seconds` count from when the request was due, so a stall in the
    system shows in the latency instead of silently lowering the rate (coordinated omission).
    """
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    started = time.perf_counter()
    wall = time.time()
    tasks: list[asyncio.Task[None]] = []

    async def send(due: float, body: bytes, headers: dict[str, str]) -> None:
        request = _request(path, body, headers)
        while idle:
            connection = idle.pop()
            try:
                answer = await _exchange(connection, request)
                break
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed it while idle (keep-alive timeout) before reading: resend.
                connection[1].close()
        else:
            connection = await asyncio.open_connection("127.0.0.1", port)
            answer = await _exchange(connection, request)
        status, content = answer
        on_reply(Reply(status, content, wall + due, time.perf_counter() - started - due))
        idle.append(connection)

    for index, (body, headers) in enumerate(requests):
        due = index / rate
        delay = started + due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(due, body, headers)))
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()


async def _exchange(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
) -> tuple[int, bytes]:
    """Send one request on a connection and read its response."""
    reader, writer = connection
    writer.write(request)
    await writer.drain()
    return await _read_response(reader)


def _request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\n{head}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(lines[0].split()[1]), await reader.readexactly(length)
