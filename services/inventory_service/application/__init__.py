"""The Inventory application: use cases grouped by what they work on, one module per group."""

from __future__ import annotations

from collections.abc import Mapping

from services.inventory_service.application.atp import Atp
from services.inventory_service.application.catalogue import Catalogue
from services.inventory_service.application.discrepancies import Discrepancies
from services.inventory_service.application.history import History
from services.inventory_service.application.locations import Locations
from services.inventory_service.application.purchasing import PurchaseOrders
from services.inventory_service.application.reservations import Reservations
from services.inventory_service.application.routing import DEFAULT_ROUTING, Routing
from services.inventory_service.application.stocks import Stocks
from services.inventory_service.application.transfers import Transfers
from services.inventory_service.domain import ChannelRules
from shared.runtime.application import ServiceApplication, UnitOfWork

__all__ = [
    "Atp",
    "Catalogue",
    "Discrepancies",
    "History",
    "Inventory",
    "Locations",
    "PurchaseOrders",
    "Reservations",
    "Routing",
    "Stocks",
    "Transfers",
]


class Inventory(ServiceApplication):
    """Stock per SKU per location, reservations per order; never promises a unit twice.

    Each use case runs in one unit of work; commands are retried whole on a version
    conflict when they own their unit (docs/architecture.md, "Use cases and conflicts").
    """

    def __init__(
        self, env: Mapping[str, str] | None = None, channel_rules: ChannelRules | None = None
    ) -> None:
        super().__init__(env)
        # What each sales channel may sell (OMS_INVENTORY_CHANNELS): what channels are told.
        self.channel_rules = channel_rules if channel_rules is not None else ChannelRules()
        self.locations = Locations(self)
        self.stocks = Stocks(self)
        self.reservations = Reservations(self)
        self.discrepancies = Discrepancies(self)
        self.history = History(self)
        self.atp = Atp(self)
        self.catalogue = Catalogue(self)
        self.transfers = Transfers(self)
        self.purchase_orders = PurchaseOrders(self)
        # The default rules without channel rules or centroids, until bootstrap configures it.
        self.routing: Routing = DEFAULT_ROUTING

    def configure_routing(self, routing: Routing) -> None:
        """Route reservations by these rules, channel rules and centroids."""
        self.routing = routing

    def before_commit(self, work: UnitOfWork) -> None:
        """Every stock change also records what channels may now sell, when that changed."""
        self.atp.tell_channels(work)
