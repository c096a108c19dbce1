"""A TCP link to PostgreSQL that a test can cut like a failed network: nothing passes, nothing
closes, so neither end learns of it from the link (as after a failover or a partition)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import TracebackType

from psycopg.conninfo import conninfo_to_dict, make_conninfo


class Link:
    """Forwards local TCP connections to the server of a PostgreSQL URL until `cut()`."""

    def __init__(self, url: str) -> None:
        params = conninfo_to_dict(url)
        self.target_url = url
        self._host = str(params.get("host") or "127.0.0.1")
        self._port = int(params.get("port") or 5432)
        self._cut = False
        self._loop = asyncio.new_event_loop()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._writers: list[asyncio.StreamWriter] = []
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        """The target URL, through this link."""
        return make_conninfo(self.target_url, host="127.0.0.1", port=self.port)

    def cut(self) -> None:
        """From now on drop every byte either way and keep every connection open."""
        self._cut = True

    def __enter__(self) -> Link:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=5)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._forward, sock=self._listener)

    async def _close(self) -> None:
        self._server.close()
        for writer in self._writers:
            writer.close()
        forwarding = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if forwarding:
            await asyncio.wait(forwarding, timeout=1)  # closed streams end them

    async def _forward(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        self._writers.append(client_out)
        if self._host.startswith("/"):  # a unix socket directory, as libpq reads `host`
            path = f"{self._host}/.s.PGSQL.{self._port}"
            server_in, server_out = await asyncio.open_unix_connection(path)
        else:
            server_in, server_out = await asyncio.open_connection(self._host, self._port)
        self._writers.append(server_out)
        await asyncio.gather(self._pipe(client_in, server_out), self._pipe(server_in, client_out))

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                if not self._cut:
                    sink.write(data)
                    await sink.drain()
        if not self._cut:
            sink.close()
