"""The one place that builds the order service from its settings."""

from __future__ import annotations

from services.order_service import api, integration
from services.order_service.application import Orders
from services.order_service.domain import AGGREGATES
from services.order_service.projections import PROJECTION
from services.order_service.settings import Settings
from services.order_service.views import OrderViews
from services.order_service.workers import UnpaidOrderSweeper
from shared.events import topics
from shared.runtime.api import api_factory
from shared.runtime.projection import ProjectionWorker
from shared.runtime.registry import ServiceEvents
from shared.runtime.service import ServiceParts
from shared.runtime.wiring import open_application, open_views

NAME = "order_service"


def service_events() -> ServiceEvents:
    """What the order service consumes, publishes and projects (checked when it starts)."""
    return ServiceEvents(
        service=NAME,
        aggregates=AGGREGATES,
        consumes=integration.CONSUMES,
        publishes=integration.PUBLISHES,
        topic=topics.ORDERS,
        projections=[PROJECTION],
    )


def build(settings: Settings) -> ServiceParts:
    """Application, views, projection, API and Kafka wiring of the order service."""
    app = open_application(Orders, settings)
    app.payment_policies = settings.payment()
    app.short_pick_policy = settings.short_pick
    app.cancel_request_policy = settings.cancel_requests
    app.cancel_request_policies = dict(settings.cancel_request_policies)
    views = open_views(OrderViews, settings)
    sweeper = UnpaidOrderSweeper(app, views, interval=settings.unpaid_sweep_seconds)
    return ServiceParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=api_factory(
            service=NAME,
            title="OMS Orders",
            routers=api.ROUTERS,
            error_statuses=api.ERROR_STATUSES,
            provides=[app, views],
        ),
        events=service_events(),
        access_policy=api.ACCESS,
        projections=[
            ProjectionWorker(name=PROJECTION.name, app=app, view=views, project=PROJECTION)
        ],
        extra_workers=[sweeper.run],  # leader-only, like the relay
    )
