"""Locations: register, list, open and close for routing."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.inventory_service.api.deps import AppDep, LocationIdPath, ViewsDep
from services.inventory_service.domain import PostalAddress
from services.inventory_service.schemas import (
    LocationAddressSet,
    LocationCreate,
    LocationPublic,
    LocationsPublic,
)
from shared.runtime.api import links, problems

router = APIRouter(prefix="/locations", tags=["locations"])


LOCATION_OPERATIONS = (
    "POST /v1/locations/{location_id}/deactivate",
    "POST /v1/locations/{location_id}/activate",
    "GET /v1/locations/{location_id}/bins",
    "PUT /v1/locations/{location_id}/address",
)


@router.post(
    "",
    response_model=LocationPublic,
    status_code=201,
    responses={200: {"model": LocationPublic, "description": "Already registered"}}
    | problems(409)
    | links(201, *LOCATION_OPERATIONS),
)
def register_location(body: LocationCreate, app: AppDep, response: Response) -> LocationPublic:
    """Register a location (201); the same data again answers 200, different data 409."""
    location, created = app.locations.register(
        body.location_id, body.name, body.country, body.priority
    )
    response.status_code = 201 if created else 200
    return LocationPublic.model_validate(location)


@router.get(
    "", response_model=LocationsPublic, responses=links(200, *LOCATION_OPERATIONS, at="/data/0")
)
def list_locations(views: ViewsDep) -> LocationsPublic:
    """Every location, preferred (lowest priority number) first."""
    rows = views.list_locations()
    return LocationsPublic(data=[LocationPublic.model_validate(r) for r in rows], count=len(rows))


@router.post("/{location_id}/deactivate", response_model=LocationPublic)
def deactivate_location(
    location_id: LocationIdPath, app: AppDep, views: ViewsDep
) -> LocationPublic:
    """Stop routing new reservations to a location (stock already held stays held); channels
    are told they sell none of its stock now."""
    location = app.locations.set_active(location_id, False)
    app.atp.retell_all(views.skus(location_id))
    return LocationPublic.model_validate(location)


@router.post("/{location_id}/activate", response_model=LocationPublic)
def activate_location(location_id: LocationIdPath, app: AppDep, views: ViewsDep) -> LocationPublic:
    """Route new reservations to a location again; channels are told they sell its stock."""
    location = app.locations.set_active(location_id, True)
    app.atp.retell_all(views.skus(location_id))
    return LocationPublic.model_validate(location)


@router.put("/{location_id}/address", response_model=LocationPublic, responses=problems(404, 409))
def set_location_address(
    location_id: LocationIdPath, body: LocationAddressSet, app: AppDep
) -> LocationPublic:
    """Set where a location is (its ship-from on labels, its place for routing by distance);
    the same address again changes nothing. The address's country must be the location's."""
    address: PostalAddress = {
        "name": body.address.name,
        "line1": body.address.line1,
        "line2": body.address.line2,
        "city": body.address.city,
        "postal_code": body.address.postal_code,
        "region": body.address.region,
        "country": body.address.country,
    }
    location = app.locations.set_address(location_id, address, body.latitude, body.longitude)
    return LocationPublic.model_validate(location)
