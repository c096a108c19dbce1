"""The one place that builds the order service from its settings."""

from __future__ import annotations

from services.order_service import api, integration
from services.order_service.application import Orders
from services.order_service.projections import PROJECTION, project_order
from services.order_service.settings import Settings
from services.order_service.views import OrderViews
from shared.events import topics
from shared.runtime.api import api_factory
from shared.runtime.projection import ProjectionWorker
from shared.runtime.service import ServiceParts
from shared.runtime.wiring import open_application, open_views

NAME = "order_service"


def build(settings: Settings) -> ServiceParts:
    """Application, views, projection, API and Kafka wiring of the order service."""
    app = open_application(Orders, settings)
    views = open_views(OrderViews, settings)
    projection = ProjectionWorker(name=PROJECTION, app=app, view=views, project=project_order)

    return ServiceParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=api_factory(
            service=NAME,
            title="OMS Orders",
            routers=[api.router],
            error_statuses=api.ERROR_STATUSES,
            orders=app,
            views=views,
        ),
        publishes=topics.ORDERS,
        to_integration=integration.to_integration,
        handlers=integration.HANDLERS,
        projections=[projection],
    )
