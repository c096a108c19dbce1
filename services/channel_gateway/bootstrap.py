"""The one place that builds the channel gateway from its settings."""

from __future__ import annotations

from fastapi import FastAPI

from services.channel_gateway import api, integration
from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.projections import PROJECTION, project_channel_order
from services.channel_gateway.settings import Settings
from services.channel_gateway.views import ChannelOrderViews
from shared.events import topics
from shared.runtime.api import create_api
from shared.runtime.projection import ProjectionWorker
from shared.runtime.service import ReadinessChecks, ServiceParts
from shared.runtime.wiring import open_application, open_views

NAME = "channel_gateway"


def build(settings: Settings) -> ServiceParts:
    """Application, views, projection, API and Kafka wiring of the channel gateway."""
    app = open_application(ChannelOrders, settings)
    views = open_views(ChannelOrderViews, settings)
    projection = ProjectionWorker(
        name=PROJECTION, app=app, view=views, project=project_channel_order
    )

    def make_api(readiness: ReadinessChecks) -> FastAPI:
        http = create_api(
            service=NAME,
            title="OMS Channel Gateway",
            routers=[api.intake, api.router],
            readiness=readiness,
            error_statuses=api.ERROR_STATUSES,
        )
        http.state.channel_orders = app
        http.state.views = views
        return http

    return ServiceParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=make_api,
        publishes=topics.CHANNEL,
        to_integration=integration.to_integration,
        handlers=integration.HANDLERS,
        projections=[projection],
    )
