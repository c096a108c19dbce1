"""The one place that builds the returns service from its settings."""

from __future__ import annotations

from services.returns_service import api, integration
from services.returns_service.application import Returns
from services.returns_service.domain import AGGREGATES
from services.returns_service.projections import PROJECTION
from services.returns_service.settings import Settings
from services.returns_service.views import ReturnViews
from shared.events import topics
from shared.runtime.api import api_factory
from shared.runtime.projection import ProjectionWorker
from shared.runtime.registry import ServiceEvents
from shared.runtime.service import ServiceParts
from shared.runtime.wiring import open_application, open_views

NAME = "returns_service"
EVENTS = ServiceEvents(
    service=NAME,
    aggregates=AGGREGATES,
    consumes=integration.CONSUMES,
    publishes=integration.PUBLISHES,
    topic=topics.RETURNS,
    projections=[PROJECTION],
)
"""What the returns service consumes, publishes and projects; checked when it starts."""


def build(settings: Settings) -> ServiceParts:
    """Application, views, projection, API and event tables of the returns service."""
    app = open_application(Returns, settings)
    app.short_pick_policy = settings.short_pick_policy
    app.shipping_refund_rule = settings.shipping_refund
    views = open_views(ReturnViews, settings)
    return ServiceParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=api_factory(
            service=NAME,
            title="OMS Returns",
            routers=api.ROUTERS,
            error_statuses=api.ERROR_STATUSES,
            provides=[app, views],
        ),
        events=EVENTS,
        access_policy=api.ACCESS,
        projections=[
            ProjectionWorker(name=PROJECTION.name, app=app, view=views, project=PROJECTION)
        ],
    )
