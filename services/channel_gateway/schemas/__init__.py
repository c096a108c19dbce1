"""HTTP request and response models of the gateway API."""

from services.channel_gateway.schemas.channels import (
    ChannelCreate,
    ChannelPublic,
    ChannelsPublic,
    SkuMappingUpdate,
)
from services.channel_gateway.schemas.deliveries import (
    DeliveriesPublic,
    DeliveryPublic,
    DeliveryStatus,
    ImportedOrder,
    ImportRequest,
    ImportResult,
    RowProblem,
    WebhookAccepted,
)
from services.channel_gateway.schemas.orders import (
    COUNTRIES,
    CURRENCIES,
    ChannelOrderAccepted,
    ChannelOrderCreate,
    ChannelOrderPublic,
    ChannelOrdersPublic,
    minor_units,
)

__all__ = [
    "COUNTRIES",
    "CURRENCIES",
    "ChannelCreate",
    "ChannelOrderAccepted",
    "ChannelOrderCreate",
    "ChannelOrderPublic",
    "ChannelOrdersPublic",
    "ChannelPublic",
    "ChannelsPublic",
    "DeliveriesPublic",
    "DeliveryPublic",
    "DeliveryStatus",
    "ImportRequest",
    "ImportResult",
    "ImportedOrder",
    "RowProblem",
    "SkuMappingUpdate",
    "WebhookAccepted",
    "minor_units",
]
