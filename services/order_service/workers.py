"""Leader-only work of the order service: unpaid orders cancelled when their deadline passes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from services.order_service.application import Orders
from services.order_service.views import OrderViews
from shared.runtime.aio import sleep_or_stop

log = structlog.get_logger()


@dataclass
class UnpaidOrderSweeper:
    """Cancels orders still unpaid past the deadline stored in their events (their stock is
    released by the cancellation); a restart loses nothing, the deadline is in the log."""

    app: Orders
    views: OrderViews
    interval: float = 60.0
    batch: int = 200

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep until stopped."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.sweep, datetime.now(UTC))
            except Exception:  # the database is away: sweep again next time
                log.exception("unpaid order sweep failed")
            await sleep_or_stop(stop, self.interval)

    def sweep(self, now: datetime) -> int:
        """Cancel every order overdue at `now`; returns how many were cancelled."""
        cancelled = 0
        for order_id in self.views.overdue_unpaid(now, self.batch):
            # The aggregate decides: the view may lag a payment just recorded.
            if self.app.cancel_if_unpaid(order_id, now):
                cancelled += 1
                log.info("unpaid order cancelled", order_id=str(order_id))
        return cancelled
