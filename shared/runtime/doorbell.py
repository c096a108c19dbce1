"""A doorbell between the relays and consumers of one machine: "topic T has new messages".

Tansu answers a fetch only once its wait is over (it polls its log instead of waking the fetch
on a produce), so a consumer that polls often burns the broker's CPU and one that polls rarely
adds its wait to every hop. With the doorbell a consumer stops fetching when it has read
everything, and its relay peers ring it after each publish: a hop then costs one short fetch,
and an idle system polls only every fallback interval. A ring is only a hint: one that is lost
(a consumer starting, a full socket buffer) costs at most that interval, never a message.

Each listening process binds a Unix datagram socket `<pid>-<random>.sock` in the directory; a
ring is one datagram, "<topic> <partition>:<next offset>[:<event type>,...] ...", sent to every
socket there, so a consumer wakes only for its own partitions and only when it has not read that
far yet. A ring names the event types it brings, so a consumer wakes only for events it handles:
news of the others is kept for later (they are read past at leisure, in bigger batches), since
waking every consumer of a topic for every batch cost more CPU per order than the work itself.
Apache Kafka wakes a waiting fetch itself, so deployments on it leave the doorbell off.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import socket
import tempfile
import time
from collections.abc import Collection, Mapping
from pathlib import Path

import structlog

log = structlog.get_logger()
# How long a listing of the directory is trusted: a consumer that started since misses rings
# for at most this long (it falls back to its idle poll meanwhile).
_LISTING_TTL = 1.0
# A Unix socket's path holds at most 107 bytes; the longest name here is "<pid>-<hex>.sock".
_MAX_DIRECTORY_BYTES = 107 - len("/4194304-abcdef.sock")
# A ring longer than this (many partitions, many types) names no types: it wakes everyone.
_MAX_RING_BYTES = 32_768


class Doorbell:
    """Rings the other processes of the directory, and hears rings for the given topics."""

    def __init__(
        self,
        directory: Path,
        topics: Collection[str] = (),
        wanted: Collection[str] | None = None,
    ) -> None:
        self.directory = _short_enough(directory.resolve())
        self.topics = set(topics)
        # The event types worth waking for (None: all); a ring of only others is kept for later.
        self.wanted = None if wanted is None else frozenset(wanted)
        self.rung = asyncio.Event()
        self.news: dict[tuple[str, int], int] = {}  # (topic, partition) -> next offset rung
        self.later: dict[tuple[str, int], int] = {}  # the same, of events not wanted
        # Unique per doorbell: services that share a process (tests) each get their own.
        self._path = self.directory / f"{os.getpid()}-{secrets.token_hex(3)}.sock"
        self._listener: socket.socket | None = None
        self._sender: socket.socket | None = None
        self._peers: list[str] = []
        self._listed_at = 0.0

    def open(self) -> None:
        """Create the directory and, if this process listens for a topic, bind its socket."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.directory.stat().st_uid != os.getuid():
            raise PermissionError(f"doorbell directory {self.directory} belongs to another user")
        self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sender.setblocking(False)
        if not self.topics:
            return
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.setblocking(False)
        listener.bind(str(self._path))
        asyncio.get_running_loop().add_reader(listener.fileno(), self._hear)
        self._listener = listener

    def close(self) -> None:
        """Stop listening and remove this process's socket."""
        if self._listener is not None:
            asyncio.get_running_loop().remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None
            self._path.unlink(missing_ok=True)
        if self._sender is not None:
            self._sender.close()
            self._sender = None

    def ring(
        self,
        topic: str,
        next_offsets: Mapping[int, int],
        types: Mapping[int, Collection[str]] | None = None,
    ) -> None:
        """Tell every listener that `topic`'s partitions hold messages up to these offsets
        (of these event types, per partition, when given)."""
        if self._sender is None or not next_offsets:
            return
        message = _ring_message(topic, next_offsets, types or {})
        if len(message) > _MAX_RING_BYTES:
            message = _ring_message(topic, next_offsets, {})
        if topic in self.topics:
            self._note(message)  # a consumer of this very process
        for peer in self._listing():
            try:
                self._sender.sendto(message, peer)
            except BlockingIOError:
                pass  # its buffer is full of rings already: it will fetch anyway
            except (ConnectionRefusedError, FileNotFoundError):
                self._forget(peer)
            except OSError as error:  # not ours to fix here: a ring is only a hint
                log.debug("could not ring", path=peer, error=str(error))

    async def wait(self, timeout: float) -> dict[tuple[str, int], int] | None:
        """The news rung since the last call, waiting up to `timeout` seconds (None: no ring)."""
        if not self.rung.is_set():
            try:
                await asyncio.wait_for(self.rung.wait(), timeout)
            except TimeoutError:
                return None
        self.rung.clear()
        news, self.news = self.news, {}
        return news

    def take_later(self) -> dict[tuple[str, int], int]:
        """The news of events not wanted, rung since the last call."""
        later, self.later = self.later, {}
        return later

    def _hear(self) -> None:
        assert self._listener is not None
        while True:
            try:
                message = self._listener.recv(_MAX_RING_BYTES)
            except BlockingIOError:
                return
            self._note(message)

    def _note(self, message: bytes) -> None:
        """Keep the news of a ring for our topics (a malformed one is dropped: only a hint)."""
        topic, *positions = message.decode(errors="replace").split(" ")
        if topic not in self.topics:
            return
        for position in positions:
            partition, _, rest = position.partition(":")
            offset, named, types = rest.partition(":")
            if not (_is_number(partition) and _is_number(offset)):
                continue
            key = (topic, int(partition))
            if named and self.wanted is not None and self.wanted.isdisjoint(types.split(",")):
                self.later[key] = max(int(offset), self.later.get(key, 0))
                continue
            self.news[key] = max(int(offset), self.news.get(key, 0))
            self.rung.set()

    def _listing(self) -> list[str]:
        now = time.monotonic()
        if now - self._listed_at > _LISTING_TTL:
            own = str(self._path)
            self._peers = [str(path) for path in self.directory.glob("*.sock") if str(path) != own]
            self._listed_at = now
        return self._peers

    def _forget(self, peer: str) -> None:
        """Drop a socket nobody listens on any more (its process died without closing it)."""
        self._peers = [p for p in self._peers if p != peer]
        try:
            Path(peer).unlink(missing_ok=True)
        except OSError as error:
            log.debug("could not remove a dead doorbell socket", path=peer, error=str(error))


def _ring_message(
    topic: str, next_offsets: Mapping[int, int], types: Mapping[int, Collection[str]]
) -> bytes:
    """ "<topic> <partition>:<offset>[:<type>,<type>] ...": a partition without types wakes all."""
    positions = [
        f"{p}:{o}:{','.join(sorted(types[p]))}" if types.get(p) else f"{p}:{o}"
        for p, o in next_offsets.items()
    ]
    return " ".join([topic, *positions]).encode()


def _is_number(text: str) -> bool:
    """Plain ASCII digits only ('²' is a digit to str.isdigit, but not to int())."""
    return text.isascii() and text.isdigit()


def _short_enough(directory: Path) -> Path:
    """The directory, or a short stand-in under the temp dir that every process derives alike."""
    if len(os.fsencode(directory)) <= _MAX_DIRECTORY_BYTES:
        return directory
    digest = hashlib.sha256(os.fsencode(directory)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"oms-doorbell-{os.getuid()}-{digest}"
