"""The one place that builds the order service from its settings."""

from __future__ import annotations

from fastapi import FastAPI

from services.order_service import api, integration
from services.order_service.application import Orders
from services.order_service.projections import PROJECTION, project_order
from services.order_service.settings import Settings
from services.order_service.views import OrderViews
from shared.events import topics
from shared.runtime.api import create_api
from shared.runtime.projection import ProjectionWorker
from shared.runtime.service import ReadinessChecks, ServiceParts
from shared.runtime.wiring import open_application, open_views

NAME = "order_service"


def build(settings: Settings) -> ServiceParts:
    """Application, views, projection, API and Kafka wiring of the order service."""
    app = open_application(Orders, settings)
    views = open_views(OrderViews, settings)
    projection = ProjectionWorker(name=PROJECTION, app=app, view=views, project=project_order)

    def make_api(readiness: ReadinessChecks) -> FastAPI:
        http = create_api(
            service=NAME,
            title="OMS Orders",
            routers=[api.router],
            readiness=readiness,
            error_statuses=api.ERROR_STATUSES,
        )
        http.state.orders = app
        http.state.views = views
        return http

    return ServiceParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=make_api,
        publishes=topics.ORDERS,
        to_integration=integration.to_integration,
        handlers=integration.HANDLERS,
        projections=[projection],
    )
