"""The bill sweep: unpaid bills past their time expire, their orders cancelled (leader only).

A bill the customer never confirmed simply closes; one confirmed but unpaid has an order holding
stock: it is cancelled as a channel cancel (ChannelOrderCancelled), so the order service cancels
it and inventory releases the stock, by the flow every channel cancel takes. Each bill is its own
transaction; a bill that fails is tried again at the next sweep, and never stops the others.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog

from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.views import ChannelOrderViews
from shared.runtime.aio import sleep_or_stop

log = structlog.get_logger()


class BillSweeper:
    """Expires unpaid bills past their time, every `interval` seconds."""

    def __init__(self, app: ChannelOrders, views: ChannelOrderViews, interval: float) -> None:
        self.app = app
        self.views = views
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep until stopped."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.sweep)
            except Exception:  # the database is down: sweep again next time
                log.exception("bill sweep failed")
            await sleep_or_stop(stop, self.interval)

    def sweep(self) -> int:
        """Expire every due bill the view shows; how many expired."""
        expired = 0
        for bill_id in self.views.due_bills(datetime.now(UTC)):
            try:
                expired += self.app.bills.expire(bill_id)
            except Exception as error:  # one bill must not stop the others
                log.warning("bill expiry failed", bill_id=str(bill_id), error=str(error))
        return expired
