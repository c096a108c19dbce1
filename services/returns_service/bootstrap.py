"""The one place that builds the returns service from its settings."""

from __future__ import annotations

from services.returns_service import api, integration
from services.returns_service.application import Returns
from services.returns_service.projections import PROJECTION, project_return
from services.returns_service.settings import Settings
from services.returns_service.views import ReturnViews
from shared.events import topics
from shared.runtime.api import api_factory
from shared.runtime.projection import ProjectionWorker
from shared.runtime.service import ServiceParts
from shared.runtime.wiring import open_application, open_views

NAME = "returns_service"


def build(settings: Settings) -> ServiceParts:
    """Application, views, projection, API and Kafka wiring of the returns service."""
    app = open_application(Returns, settings)
    views = open_views(ReturnViews, settings)
    projection = ProjectionWorker(name=PROJECTION, app=app, view=views, project=project_return)

    return ServiceParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=api_factory(
            service=NAME,
            title="OMS Returns",
            routers=[api.router, api.refunds_router],
            error_statuses=api.ERROR_STATUSES,
            returns=app,
            views=views,
        ),
        publishes=topics.RETURNS,
        to_integration=integration.to_integration,
        handlers=integration.HANDLERS,
        projections=[projection],
    )
