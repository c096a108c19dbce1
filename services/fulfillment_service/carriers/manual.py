"""Any carrier the operator deals with by hand, typing the tracking numbers."""

from __future__ import annotations

from dataclasses import dataclass

from services.fulfillment_service.application.ports import IssueSerials
from services.fulfillment_service.domain import (
    Address,
    CarrierError,
    Package,
    TrackingAssignment,
)


@dataclass(frozen=True)
class ManualCarrier:
    """Any carrier the operator deals with by hand: they type one tracking number per package."""

    name: str
    issues_tracking_numbers: bool = False

    def assign(
        self,
        packages: list[Package],
        *,
        ship_from: Address,
        ship_to: Address,
        service: str | None,
        tracking_numbers: list[str] | None,
        issue_serials: IssueSerials,
    ) -> tuple[str | None, list[TrackingAssignment]]:
        """The operator's tracking numbers, one per package in packing order."""
        if not tracking_numbers or len(tracking_numbers) != len(packages):
            raise CarrierError(
                f"carrier {self.name} needs one tracking number per package: "
                f"{len(packages)} packages, {len(tracking_numbers or [])} tracking numbers"
            )
        return service, [
            TrackingAssignment(package_id=p["package_id"], tracking_number=t, charge=None)
            for p, t in zip(packages, tracking_numbers, strict=True)
        ]
