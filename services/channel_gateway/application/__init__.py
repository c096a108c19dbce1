"""The gateway's application: channel orders, channel connections and deliveries, one store.

One module per group of use cases, composed by the one Application class as attributes
(docs/architecture.md, "The rooms of a service").
"""

from __future__ import annotations

from eventsourcing.utils import EnvType

from services.channel_gateway.application.bills import Bills, CustomerDetails, NewBill
from services.channel_gateway.application.canonical import CanonicalOrderModel, minor_units
from services.channel_gateway.application.changes import Changes
from services.channel_gateway.application.chat import Chat, ChatMessages, chat_values
from services.channel_gateway.application.connections import (
    ChannelDirectory,
    ChannelRegistration,
    Connections,
    Registration,
)
from services.channel_gateway.application.deliveries import Deliveries, utc_stamp
from services.channel_gateway.application.group_commit import IntakeBatcher
from services.channel_gateway.application.intake import (
    ChannelRefund,
    Intake,
    IntakeResult,
    NewsResult,
    NewsStatus,
    Translation,
)
from services.channel_gateway.application.orders import Orders, Retranslator
from services.channel_gateway.application.stock_sync import StockSync, WantedStock
from services.channel_gateway.application.users import Users
from shared.runtime.application import ServiceApplication


class ChannelOrders(ServiceApplication):
    """Orders from every sales channel, the channels themselves, and the news sent back."""

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        self.intake = Intake(self)
        self.orders = Orders(self)
        self.connections = Connections(self)
        self.deliveries = Deliveries(self)
        self.changes = Changes(self)
        self.stock_sync = StockSync(self)
        self.users = Users(self)
        self.chat = Chat(self)
        self.bills = Bills(self)


__all__ = [
    "Bills",
    "CanonicalOrderModel",
    "Changes",
    "ChannelDirectory",
    "ChannelOrders",
    "ChannelRefund",
    "ChannelRegistration",
    "Chat",
    "ChatMessages",
    "Connections",
    "CustomerDetails",
    "Deliveries",
    "Intake",
    "IntakeBatcher",
    "IntakeResult",
    "NewBill",
    "NewsResult",
    "NewsStatus",
    "Orders",
    "Registration",
    "Retranslator",
    "StockSync",
    "Translation",
    "Users",
    "WantedStock",
    "chat_values",
    "minor_units",
    "utc_stamp",
]
