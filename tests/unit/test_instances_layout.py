"""Where `oms up --instances N` puts each process: names, ports and URLs of every instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.cli.system import SERVICES, EmbeddedSystem, ports_spanned, service_of


def test_instance_i_of_a_service_listens_on_its_port_plus_ten_times_i(tmp_path: Path) -> None:
    system = EmbeddedSystem(tmp_path, base_http_port=8000, instances=3)

    assert system.instance_urls()["channel_gateway"] == [
        "http://127.0.0.1:8000",
        "http://127.0.0.1:8010",
        "http://127.0.0.1:8020",
    ]
    assert system.instance_urls()["returns_service"][2] == "http://127.0.0.1:8024"
    # Instance 0 keeps the ports and names every single-instance caller knows.
    assert system.urls() == {name: urls[0] for name, urls in system.instance_urls().items()}
    assert system.instance_names("order_service") == [
        "order_service",
        "order_service-1",
        "order_service-2",
    ]
    highest = max(system.port(s.name, 2) for s in SERVICES)
    assert system.port("stream_jobs") < 8000 + ports_spanned(3)
    assert highest < 8000 + ports_spanned(3)


def test_an_instance_s_process_name_leads_back_to_its_service() -> None:
    assert service_of("inventory_service-2") == "inventory_service"
    assert service_of("inventory_service") == "inventory_service"
    assert service_of("broker") == "broker"


def test_a_system_needs_at_least_one_instance(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        EmbeddedSystem(tmp_path, instances=0)
