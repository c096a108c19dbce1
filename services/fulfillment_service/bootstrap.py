"""The one place that builds the fulfillment service from its settings."""

from __future__ import annotations

from typing import Any

import httpx

from services.fulfillment_service import api, domain, integration
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.carriers import (
    CarrierRegistry,
    EasyPostCarrier,
    NinjaVanCarrier,
    RateRule,
)
from services.fulfillment_service.domain import Address, ShipFrom, SsccFormat
from services.fulfillment_service.projections import PROJECTION
from services.fulfillment_service.settings import AddressSetting, Settings
from services.fulfillment_service.views import ShipmentViews
from shared.events import topics
from shared.runtime.api import api_factory
from shared.runtime.projection import ProjectionWorker
from shared.runtime.registry import ServiceEvents
from shared.runtime.service import ServiceParts
from shared.runtime.wiring import open_application, open_views

NAME = "fulfillment_service"


def events() -> ServiceEvents:
    """What the service consumes, publishes and projects; checked when it starts."""
    return ServiceEvents(
        service=NAME,
        aggregates=domain.AGGREGATES,
        consumes=integration.CONSUMES,
        publishes=integration.PUBLISHES,
        topic=topics.FULFILLMENT,
        projections=[PROJECTION],
    )


def configure(app: Shipments, settings: Settings) -> Shipments:
    """Give the application the merchant's GS1 prefix, carriers and ship-from addresses."""
    app.configure(
        SsccFormat(settings.gs1_company_prefix, settings.sscc_extension_digit),
        CarrierRegistry.from_config(rate_tables(settings), api_carriers(settings)),
        ShipFrom(
            _address(settings.ship_from),
            {location: _address(a) for location, a in settings.location_addresses.items()},
        ),
    )
    return app


def api_carriers(settings: Settings) -> list[EasyPostCarrier | NinjaVanCarrier]:
    """The carriers whose labels we buy through their API, as configured."""
    carriers: list[EasyPostCarrier | NinjaVanCarrier] = []
    client = httpx.Client(timeout=settings.carrier_timeout_seconds)
    if settings.easypost is not None:
        shopping = settings.rate_shopping
        carriers.append(
            EasyPostCarrier(
                api_key=settings.easypost.api_key.get_secret_value(),
                webhook_secret=settings.easypost.webhook_secret.get_secret_value(),
                rule=RateRule(shopping.rule, shopping.service_levels, shopping.default_level),
                client=client,
                base_url=settings.easypost.base_url.rstrip("/"),
                label_format=settings.easypost.label_format,
                name=settings.easypost.name,
            )
        )
    if settings.ninjavan is not None:
        nv = settings.ninjavan
        carriers.append(
            NinjaVanCarrier(
                client_id=nv.client_id,
                client_secret=nv.client_secret.get_secret_value(),
                tracking_prefix=nv.tracking_prefix,
                client=client,
                country_code=nv.country_code,
                base_url=nv.base_url.rstrip("/"),
                service_level=nv.service_level,
                tracking_url_template=nv.tracking_url_template,
                name=nv.name,
            )
        )
    return carriers


def build(settings: Settings) -> ServiceParts:
    """Application, views, projection, API and event tables of the fulfillment service."""
    app = configure(open_application(Shipments, settings), settings)
    views = open_views(ShipmentViews, settings)
    return ServiceParts(
        name=NAME,
        settings=settings,
        app=app,
        api_factory=api_factory(
            service=NAME,
            title="OMS Fulfillment",
            routers=api.ROUTERS,
            error_statuses=api.ERROR_STATUSES,
            provides=[app, views],
        ),
        events=events(),
        access_policy=api.ACCESS,
        projections=[
            ProjectionWorker(name=PROJECTION.name, app=app, view=views, project=PROJECTION)
        ],
    )


def _address(setting: AddressSetting) -> Address:
    return Address(
        name=setting.name,
        line1=setting.line1,
        line2=setting.line2,
        city=setting.city,
        postal_code=setting.postal_code,
        country=setting.country,
    )


def rate_tables(settings: Settings) -> list[dict[str, Any]]:
    """The rate-table carriers configured, those named in `real_tracking_rate_tables` with their
    tracking numbers declared real."""
    real = set(settings.real_tracking_rate_tables)
    return [
        {**table, "tracking_numbers_are_real": True} if table.get("name") in real else table
        for table in settings.rate_table_carriers
    ]
