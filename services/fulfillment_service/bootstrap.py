"""The one place that builds the fulfillment service from its settings."""

from __future__ import annotations

from services.fulfillment_service import api, integration
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.gs1 import SsccFormat
from services.fulfillment_service.projections import PROJECTION, project_shipment
from services.fulfillment_service.settings import Settings
from services.fulfillment_service.shipping import Carriers, ShipFrom
from services.fulfillment_service.views import ShipmentViews
from shared.events import topics
from shared.runtime.api import api_factory
from shared.runtime.projection import ProjectionWorker
from shared.runtime.service import ServiceParts
from shared.runtime.wiring import open_application, open_views

NAME = "fulfillment_service"


def build(settings: Settings) -> ServiceParts:
    """Application, views, projection, API and Kafka wiring of the fulfillment service."""
    app = open_application(Shipments, settings)
    app.configure(
        SsccFormat(settings.gs1_company_prefix, settings.sscc_extension_digit),
        Carriers.from_config(settings.rate_table_carriers),
        ShipFrom(
            settings.ship_from.model_dump(),
            {k: v.model_dump() for k, v in settings.location_addresses.items()},
        ),
    )
    views = open_views(ShipmentViews, settings)
    projection = ProjectionWorker(name=PROJECTION, app=app, view=views, project=project_shipment)

    return ServiceParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=api_factory(
            service=NAME,
            title="OMS Fulfillment",
            routers=[api.router],
            error_statuses=api.ERROR_STATUSES,
            shipments=app,
            views=views,
        ),
        publishes=topics.FULFILLMENT,
        to_integration=integration.to_integration,
        handlers=integration.HANDLERS,
        projections=[projection],
    )
