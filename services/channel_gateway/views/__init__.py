"""Gateway read models: channel orders, connections, deliveries, kept news; channel secrets and
people's password hashes.

SQL only; from the domain just its statuses, so filters and rows name the same values.
"""

from services.channel_gateway.views.bills import BILL_TABLES, BillViews
from services.channel_gateway.views.changes import CHANGE_TABLES, ChangeViews
from services.channel_gateway.views.connections import CONNECTION_TABLES, ConnectionViews
from services.channel_gateway.views.deliveries import DELIVERY_TABLES, DeliveryViews
from services.channel_gateway.views.orders import CHANNEL_ORDER_TABLES, OrderViews
from services.channel_gateway.views.passwords import PasswordStore
from services.channel_gateway.views.secret_box import (
    SecretBox,
    SecretKeysError,
    UnreadableSecretsError,
)
from services.channel_gateway.views.secrets import Reencrypted, Secrets, SecretStore, TokenState
from services.channel_gateway.views.sent_messages import SentMessages
from services.channel_gateway.views.stock_sync import StockSyncViews
from services.channel_gateway.views.users import USER_TABLES, UserViews
from shared.runtime.projection import ViewStore

ALL_TABLES = (
    CHANNEL_ORDER_TABLES
    + CONNECTION_TABLES
    + DELIVERY_TABLES
    + CHANGE_TABLES
    + USER_TABLES
    + BILL_TABLES
)


class ChannelOrderViews(
    OrderViews,
    ConnectionViews,
    DeliveryViews,
    ChangeViews,
    StockSyncViews,
    UserViews,
    BillViews,
    ViewStore,
):
    """Everything ops query at the gateway, kept by one projection of the event log."""

    tables = (
        OrderViews.order_tables
        + ConnectionViews.connection_tables
        + DeliveryViews.delivery_tables
        + ChangeViews.change_tables
        + UserViews.user_tables
        + BillViews.bill_tables
        # Not in ALL_TABLES: stock sync state is not derived from the log (never reset).
        + StockSyncViews.stock_sync_tables
    )

    def reset_all(self, projection_name: str) -> None:
        """Empty every view so it is rebuilt from the event log."""
        self.reset(projection_name, ALL_TABLES)


__all__ = [
    "ALL_TABLES",
    "ChannelOrderViews",
    "PasswordStore",
    "Reencrypted",
    "SecretBox",
    "SecretKeysError",
    "SecretStore",
    "Secrets",
    "SentMessages",
    "TokenState",
    "UnreadableSecretsError",
]
