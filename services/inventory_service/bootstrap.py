"""The one place that builds the inventory service from its settings."""

from __future__ import annotations

from services.inventory_service.api import ACCESS, ERROR_STATUSES, ROUTERS
from services.inventory_service.application import Inventory, Routing
from services.inventory_service.application.routing import bundled_centroids
from services.inventory_service.domain import AGGREGATES, parse_rules
from services.inventory_service.integration import CONSUMES, PUBLISHES
from services.inventory_service.projections import INVENTORY_VIEWS
from services.inventory_service.settings import Settings
from services.inventory_service.views import InventoryViews
from shared.events import topics
from shared.runtime.api import api_factory
from shared.runtime.projection import ProjectionWorker
from shared.runtime.registry import ServiceEvents
from shared.runtime.service import ServiceParts
from shared.runtime.wiring import open_application, open_views

NAME = "inventory_service"


def service_events() -> ServiceEvents:
    """What the inventory service consumes, publishes and projects (checked at start-up)."""
    return ServiceEvents(
        service=NAME,
        aggregates=AGGREGATES,
        consumes=CONSUMES,
        publishes=PUBLISHES,
        topic=topics.INVENTORY,
        projections=[INVENTORY_VIEWS],
    )


def build(settings: Settings) -> ServiceParts:
    """Application, views, projection, API and Kafka wiring of the inventory service."""
    app = open_application(Inventory, settings)
    app.configure_routing(routing(settings))
    app.channel_rules = settings.channel_rules()
    views = open_views(InventoryViews, settings)
    projection = ProjectionWorker(
        name=INVENTORY_VIEWS.name, app=app, view=views, project=INVENTORY_VIEWS
    )
    return ServiceParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=api_factory(
            service=NAME,
            title="OMS Inventory",
            routers=ROUTERS,
            error_statuses=ERROR_STATUSES,
            provides=[app, views, app.channel_rules],
        ),
        events=service_events(),
        access_policy=ACCESS,
        projections=[projection],
    )


def routing(settings: Settings) -> Routing:
    """The routing rules, channel rules and the bundled centroid table."""
    return Routing(
        rules=parse_rules(settings.routing_rules),
        channels=settings.channel_rules(),
        centroids=bundled_centroids(),
    )
