"""A relay, projection or worker that dies is restarted, and /readyz says so while it is down."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from services.order_service.bootstrap import build
from services.order_service.settings import Settings
from shared.runtime.service import ServiceParts
from tests.kit import eventually

pytestmark = pytest.mark.integration
RESTARTS = "oms_worker_restarts_total"


class Flaky:
    """A leader work that ends on its own its first three runs, then works until stopped."""

    def __init__(self, ending: str) -> None:
        self.ending = ending
        self.runs = 0

    async def run(self, stop: asyncio.Event) -> None:
        """End as asked the first three times; then run until stopped."""
        self.runs += 1
        if self.runs > 3:
            await stop.wait()
        elif self.ending == "raises":
            raise RuntimeError("a bug")
        elif self.ending == "is cancelled":
            inner = asyncio.create_task(asyncio.sleep(60))  # e.g. a client's call
            inner.cancel()
            await inner


@pytest.mark.parametrize("ending", ["raises", "is cancelled", "returns"])
def test_a_leader_work_that_ends_is_restarted_and_readyz_is_503_while_it_is_down(
    run_service, ending
):
    flaky = Flaky(ending)
    restarts_before = REGISTRY.get_sample_value(RESTARTS, {"work": "Flaky.run"}) or 0

    def build_with_flaky_work(settings: Settings) -> ServiceParts:
        parts = build(settings)
        parts.extra_workers = [flaky.run]
        return parts

    orders = run_service(build_with_flaky_work, Settings)

    def unready_for_its_workers() -> bool:
        answer = orders.http.get("/readyz")
        return answer.status_code == 503 and answer.json()["checks"].get("workers") is False

    eventually(unready_for_its_workers)
    eventually(lambda: orders.http.get("/readyz").status_code == 200, timeout=20)
    assert flaky.runs == 4
    restarts = REGISTRY.get_sample_value(RESTARTS, {"work": "Flaky.run"}) or 0
    assert restarts - restarts_before == 3
    assert f'{RESTARTS}{{work="Flaky.run"}}' in orders.http.get("/metrics").text
