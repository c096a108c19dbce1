"""The one place that builds the channel gateway from its settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.channel_gateway import api, integration
from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.intake import IntakeBatcher
from services.channel_gateway.outbound import Outbound
from services.channel_gateway.projections import PROJECTION, project_channel_order
from services.channel_gateway.registry import ChannelRegistry
from services.channel_gateway.secrets import SecretStore
from services.channel_gateway.settings import Settings
from services.channel_gateway.views import ChannelOrderViews
from services.channel_gateway.workers.amazon import AmazonPoller
from services.channel_gateway.workers.deliveries import DeliveryWorker
from shared.events import topics
from shared.runtime.api import api_factory
from shared.runtime.projection import ProjectionWorker
from shared.runtime.service import ServiceParts
from shared.runtime.wiring import open_application, open_views

NAME = "channel_gateway"


@dataclass
class GatewayParts(ServiceParts):
    """The service parts, plus the gateway's own pieces (tests drive them directly)."""

    registry: Any = None
    batcher: Any = None
    deliveries: Any = None
    amazon: Any = None

    def close(self) -> None:
        """Stop the intake thread, then close the pools."""
        if self.batcher is not None:
            self.batcher.close()
        super().close()


def build(settings: Settings) -> GatewayParts:
    """Application, views, projection, intake, workers, API and Kafka wiring of the gateway."""
    app = open_application(ChannelOrders, settings)
    views = open_views(ChannelOrderViews, settings)
    secrets = SecretStore(views.datastore)
    secrets.create_table()
    registry = ChannelRegistry(app, secrets, settings.connection_cache_seconds)
    batcher = IntakeBatcher(app, settings.intake_batch_size)
    outbound = Outbound(settings)
    projection = ProjectionWorker(
        name=PROJECTION, app=app, view=views, project=project_channel_order
    )
    deliveries = DeliveryWorker(app, views, registry, outbound, settings)
    amazon = AmazonPoller(app, views, registry, outbound, settings)

    return GatewayParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=api_factory(
            service=NAME,
            title="OMS Channel Gateway",
            routers=list(api.ROUTERS),
            error_statuses=api.ERROR_STATUSES,
            channel_orders=app,
            views=views,
            secrets=secrets,
            registry=registry,
            batcher=batcher,
            outbound=outbound,
            settings=settings,
            recent_events=api.RecentEvents(),
        ),
        publishes=topics.CHANNEL,
        to_integration=integration.to_integration,
        handlers=integration.HANDLERS,
        projections=[projection],
        # Leader-only, like the relay: one instance pushes deliveries and polls Amazon.
        extra_workers=[deliveries.run, amazon.run],
        registry=registry,
        batcher=batcher,
        deliveries=deliveries,
        amazon=amazon,
    )
