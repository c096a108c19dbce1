"""HTTP request and response models of the gateway API."""

from services.channel_gateway.schemas.changes import (
    ChangeDismiss,
    ChannelChangeDismissed,
    ChannelChangePublic,
    ChannelChangesPublic,
)
from services.channel_gateway.schemas.channels import (
    ChannelCreate,
    ChannelPublic,
    ChannelsPublic,
    SkuMappingUpdate,
    webhook_path,
)
from services.channel_gateway.schemas.deliveries import (
    DeliveriesPublic,
    DeliveryPublic,
    DeliveryRetried,
    ImportedOrder,
    ImportRequest,
    ImportResult,
    RowProblem,
    WebhookAccepted,
)
from services.channel_gateway.schemas.orders import (
    ChannelOrderAccepted,
    ChannelOrderCreate,
    ChannelOrderPublic,
    ChannelOrdersPublic,
)
from services.channel_gateway.schemas.secrets import SecretsReencrypt, SecretsReencrypted
from services.channel_gateway.schemas.sessions import SessionCreate, SessionCreated
from services.channel_gateway.schemas.stock_sync import (
    StockRetry,
    StockSyncForced,
    StockSyncPublic,
    StockSyncsPublic,
)

__all__ = [
    "ChangeDismiss",
    "ChannelChangeDismissed",
    "ChannelChangePublic",
    "ChannelChangesPublic",
    "ChannelCreate",
    "ChannelOrderAccepted",
    "ChannelOrderCreate",
    "ChannelOrderPublic",
    "ChannelOrdersPublic",
    "ChannelPublic",
    "ChannelsPublic",
    "DeliveriesPublic",
    "DeliveryPublic",
    "DeliveryRetried",
    "ImportRequest",
    "ImportResult",
    "ImportedOrder",
    "RowProblem",
    "SecretsReencrypt",
    "SecretsReencrypted",
    "SessionCreate",
    "SessionCreated",
    "SkuMappingUpdate",
    "StockRetry",
    "StockSyncForced",
    "StockSyncPublic",
    "StockSyncsPublic",
    "WebhookAccepted",
    "webhook_path",
]
