"""The one place that builds the inventory service from its settings."""

from __future__ import annotations

from services.inventory_service import api, integration
from services.inventory_service.application import Inventory
from services.inventory_service.projections import PROJECTION, project_inventory
from services.inventory_service.settings import Settings
from services.inventory_service.views import InventoryViews
from shared.events import topics
from shared.runtime.api import api_factory
from shared.runtime.projection import ProjectionWorker
from shared.runtime.service import ServiceParts
from shared.runtime.wiring import open_application, open_views

NAME = "inventory_service"


def build(settings: Settings) -> ServiceParts:
    """Application, views, projection, API and Kafka wiring of the inventory service."""
    app = open_application(Inventory, settings)
    views = open_views(InventoryViews, settings)
    projection = ProjectionWorker(name=PROJECTION, app=app, view=views, project=project_inventory)

    return ServiceParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=api_factory(
            service=NAME,
            title="OMS Inventory",
            routers=api.ROUTERS,
            error_statuses=api.ERROR_STATUSES,
            inventory=app,
            views=views,
        ),
        publishes=topics.INVENTORY,
        to_integration=integration.to_integration,
        handlers=integration.HANDLERS,
        projections=[projection],
    )
