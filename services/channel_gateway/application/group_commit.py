"""Group commit of translated orders: many webhooks, one transaction.

Requests hand their order to one committer thread and wait for its commit; under load each
commit carries every order that arrived meanwhile, so intake is not bound by commits per second.
Nothing is answered before it is stored.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

import structlog

from services.channel_gateway.application.intake import IntakeResult, Translation

if TYPE_CHECKING:
    from services.channel_gateway.application import ChannelOrders

log = structlog.get_logger()


class IntakeBatcher:
    """Feeds one committer thread; callers await their own order's result."""

    def __init__(self, app: ChannelOrders, max_batch: int = 200) -> None:
        self.app = app
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Translation, Future[IntakeResult]] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def take_in(self, translation: Translation) -> IntakeResult:
        """Store the order (received or held) and return what became of it."""
        return await asyncio.wrap_future(self.submit(translation))

    def submit(self, translation: Translation) -> Future[IntakeResult]:
        """Queue an order for the next commit."""
        self._start()
        future: Future[IntakeResult] = Future()
        self._queue.put((translation, future))
        return future

    def close(self) -> None:
        """Let the committer thread finish what is queued and stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="gateway-intake", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[tuple[Translation, Future[IntakeResult]]]) -> None:
        try:
            results = self.app.intake.take_in([translation for translation, _ in batch])
        except Exception as error:  # the database is down: every waiting request hears it
            log.warning("intake commit failed", error=str(error), orders=len(batch))
            for _, future in batch:
                future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
