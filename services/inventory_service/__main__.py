"""python -m services.inventory_service: API, consumers, relay and projections in one process."""

from services.inventory_service.bootstrap import build
from services.inventory_service.settings import Settings
from shared.runtime.service import run_service

if __name__ == "__main__":
    run_service(build, Settings())
