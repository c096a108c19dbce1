"""Use cases of kept channel news (changes for orders never taken in): ops dismiss them."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from services.channel_gateway.application.deliveries import utc_stamp
from services.channel_gateway.domain import ChannelChange, ChannelChangeNotFoundError
from shared.runtime.application import UseCases, use_case

if TYPE_CHECKING:
    from services.channel_gateway.application import ChannelOrders


class Changes(UseCases["ChannelOrders"]):
    """News kept of orders the gateway never took in; taking it in applies it (intake)."""

    app: ChannelOrders  # the application composing this group (for the type checker)

    @use_case
    def dismiss(self, change_id: UUID, reason: str) -> ChannelChange:
        """Ops set kept news aside (it needs nothing); ChangeAppliedError once applied."""
        with self.app.unit_of_work() as uow:
            change = uow.find(change_id, ChannelChange)
            if change is None:
                raise ChannelChangeNotFoundError(f"no kept channel news {change_id}")
            change.dismiss(reason, utc_stamp())
            return change
