"""A TCP fault proxy on loopback: every byte between the services and PostgreSQL or the broker
passes through it, and the chaos harness can delay or cut the link of one service at a time.

A cut is a partition, not a reset: nothing passes either way and nothing is closed, so neither
end learns of it from the link (as in a real partition, TCP would keep the bytes and deliver
them when it heals, unless an end gave up first). A delay adds latency to every chunk, in order,
without limiting throughput.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Whose connection this is: a client's name from its peer port, or None when unknown.
Classifier = Callable[[int], str | None]
CHUNK = 65536
QUEUED_CHUNKS = 64  # per direction; a full queue stops reading, so TCP pushes back
POLL = 0.05


@dataclass(frozen=True)
class Impairment:
    """What the link of one client suffers now: a delay in seconds, or a cut."""

    delay: float = 0.0
    cut: bool = False


@dataclass(frozen=True)
class Target:
    """Where the proxy forwards to: a TCP port on loopback or a unix socket path."""

    host: str = "127.0.0.1"
    port: int = 0
    unix_path: str | None = None

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A new connection to the target."""
        if self.unix_path is not None:
            return await asyncio.open_unix_connection(self.unix_path)
        return await asyncio.open_connection(self.host, self.port)


class FaultProxy:
    """Forwards local TCP connections to one target; links can be delayed or cut per client."""

    def __init__(
        self, name: str, target: Target, classify: Classifier | None = None, port: int = 0
    ) -> None:
        self.name = name
        self.target = target
        self._classify = classify
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port: int = self._listener.getsockname()[1]
        self._impairments: dict[str | None, Impairment] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"proxy-{name}", daemon=True
        )
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections: dict[str | None, int] = {}  # accepted so far, per client

    def start(self) -> FaultProxy:
        """Listen (in a thread with its own event loop)."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=5)
        return self

    def stop(self) -> None:
        """Close every connection and stop listening."""
        if not self._thread.is_alive():
            return
        with contextlib.suppress(TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def impair(self, client: str | None, impairment: Impairment) -> None:
        """From now on the client's link suffers this (None: connections of unknown clients)."""
        self._impairments[client] = impairment

    def heal(self, client: str | None = None) -> None:
        """The client's link (every link, without a client) passes freely again."""
        if client is None:
            self._impairments.clear()
        else:
            self._impairments.pop(client, None)

    def _now(self, client: str | None) -> Impairment:
        return self._impairments.get(client, Impairment())

    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._forward, sock=self._listener)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=2)

    async def _forward(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        self._writers.add(client_out)
        client: str | None = None
        server_out: asyncio.StreamWriter | None = None
        try:
            if self._classify is not None:
                peer_port = client_out.get_extra_info("peername")[1]
                client = await asyncio.to_thread(self._classify, peer_port)
            self.connections[client] = self.connections.get(client, 0) + 1
            # A partition also stops new connections: the client waits in silence.
            while self._now(client).cut:
                await asyncio.sleep(POLL)
            try:
                server_in, server_out = await self.target.open()
            except OSError:
                return  # the target is down (killed, restarting): the client sees a close
            self._writers.add(server_out)
            await asyncio.gather(
                self._pipe(client, client_in, server_out),
                self._pipe(client, server_in, client_out),
            )
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for writer in (client_out, server_out):
                if writer is not None:
                    self._writers.discard(writer)
                    writer.close()

    async def _pipe(
        self, client: str | None, source: asyncio.StreamReader, sink: asyncio.StreamWriter
    ) -> None:
        """Copy one direction; chunks wait out a cut and keep their order under a delay."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(QUEUED_CHUNKS)

        async def read() -> None:
            try:
                while data := await source.read(CHUNK):
                    await queue.put((time.monotonic(), data))
            except OSError:
                pass
            finally:
                await queue.put(None)

        reader = asyncio.create_task(read())
        try:
            while (item := await queue.get()) is not None:
                received, data = item
                while True:
                    now = self._now(client)
                    if now.cut:
                        await asyncio.sleep(POLL)
                        continue
                    wait = received + now.delay - time.monotonic()
                    if wait <= 0:
                        break
                    await asyncio.sleep(min(wait, POLL))
                sink.write(data)
                await sink.drain()
        except OSError:
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(OSError):
                if sink.can_write_eof():
                    sink.write_eof()


def owner_of_port(peer_port: int, listen_port: int, pids: Mapping[str, int | None]) -> str | None:
    """Which of these processes holds the loopback socket at `peer_port` connected to us."""
    inode = _socket_inode(peer_port, listen_port)
    if inode is None:
        return None
    link = f"socket:[{inode}]"
    for name, pid in pids.items():
        if pid is None:
            continue
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                if os.readlink(f"{fd_dir}/{fd}") == link:
                    return name
    return None


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    """The inode of the TCP socket from `local_port` to `remote_port` (IPv4 or IPv6)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    local, remote, inode = fields[1], fields[2], fields[9]
                    if (
                        int(local.rsplit(":", 1)[1], 16) == local_port
                        and int(remote.rsplit(":", 1)[1], 16) == remote_port
                    ):
                        return inode
        except OSError:
            continue
    return None
