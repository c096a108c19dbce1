"""Group commit of translated orders: many webhooks, one transaction.

Requests hand their order to one committer thread and wait for its commit; under load each
commit carries every order that arrived meanwhile, so intake is not bound by commits per second.
Nothing is answered before it is stored. A request that stops waiting (cancelled: its client
went away, a deadline passed) changes nothing for the others: its order is still stored.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future, InvalidStateError
from contextlib import suppress
from typing import TYPE_CHECKING

import structlog

from services.channel_gateway.application.intake import IntakeResult, Translation
from shared.runtime.metrics import WORK_RESTARTS

if TYPE_CHECKING:
    from services.channel_gateway.application import ChannelOrders

log = structlog.get_logger()
Batch = list[tuple[Translation, "Future[IntakeResult]"]]


class IntakeBatcher:
    """Feeds one committer thread; callers await their own order's result.

    Whatever one commit raises fails that commit's callers only. Should the thread die all
    the same, the next order starts a new one (logged and counted as a restart of
    `intake-committer`), and `alive` is False until then (/readyz check `intake`).
    """

    def __init__(self, app: ChannelOrders, max_batch: int = 200) -> None:
        self.app = app
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Translation, Future[IntakeResult]] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        """False while the committer thread is dead (until the next order restarts it)."""
        thread = self._thread
        return thread is None or thread.is_alive()

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
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if self._thread is not None:
                log.error("intake committer died, starting a new one")
                WORK_RESTARTS.labels("intake-committer").inc()
            self._thread = threading.Thread(target=self._run, name="gateway-intake", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self._commit(batch)
            except Exception as error:  # a bug: this batch's callers hear it, the next commit
                log.exception("intake commit crashed", orders=len(batch))
                _fail(batch, error)
            except BaseException:
                _fail(batch, RuntimeError("the intake committer stopped"))
                raise

    def _next_batch(self) -> Batch | None:
        """The orders of the next commit (waits for the first); None when asked to stop."""
        first = self._queue.get()
        if first is None:
            return None
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
        return batch

    def _commit(self, batch: Batch) -> None:
        # Running futures cannot be cancelled any more, so no result below meets a cancelled
        # one (setting it would raise); a caller that gave up before still has its order stored.
        waiting = [future.set_running_or_notify_cancel() for _, future in batch]
        try:
            results: list[IntakeResult | Exception] = list(
                self.app.intake.take_in([translation for translation, _ in batch])
            )
        except Exception as error:  # the database is down: every waiting request hears it
            log.warning("intake commit failed", error=str(error), orders=len(batch))
            results = [error] * len(batch)
        for (_, future), wants, result in zip(batch, waiting, results, strict=True):
            if not wants:
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


def _fail(batch: Batch, error: BaseException) -> None:
    """Answer every caller of the batch still waiting with the error."""
    for _, future in batch:
        with suppress(InvalidStateError):  # answered already, or cancelled
            if not future.done():
                future.set_exception(error)
