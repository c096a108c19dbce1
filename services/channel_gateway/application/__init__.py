"""The gateway's application: channel orders, channel connections and deliveries, one store."""

from services.channel_gateway.application.connections import ConnectionCases
from services.channel_gateway.application.deliveries import DeliveryCases, utc_stamp
from services.channel_gateway.application.orders import Intake, IntakeCommand, OrderCases
from shared.runtime.application import ServiceApplication


class ChannelOrders(OrderCases, ConnectionCases, DeliveryCases, ServiceApplication):
    """Orders from every sales channel, the channels themselves, and the news sent back."""


__all__ = ["ChannelOrders", "Intake", "IntakeCommand", "utc_stamp"]
