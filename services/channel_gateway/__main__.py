"""python -m services.channel_gateway: API, consumers, relay and projections in one process."""

from services.channel_gateway.bootstrap import build
from services.channel_gateway.settings import Settings
from shared.runtime.service import run_service

if __name__ == "__main__":
    run_service(build, Settings())
