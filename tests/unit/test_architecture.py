"""The house rules (docs/architecture.md, The rooms of a service), checked on the code as it is."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = (
    "channel_gateway",
    "order_service",
    "inventory_service",
    "fulfillment_service",
    "returns_service",
)
ROLES = (
    "__main__",
    "settings",
    "domain",
    "application",
    "integration",
    "projections",
    "views",
    "schemas",
    "api",
    "bootstrap",
)


def test_import_contracts_hold():
    """No service imports another; shared imports no service; layers point one way."""
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_module_names(service):
    package = ROOT / "services" / service
    present = {p.stem for p in package.glob("*.py")} | {
        p.name for p in package.iterdir() if p.is_dir()
    }
    assert set(ROLES) <= present


@pytest.mark.parametrize("service", [*SERVICES, "stream_jobs", "console"])
def test_nothing_is_built_at_import_time(service):
    """Module level holds definitions only: no Settings(), no application, no connection."""
    for path in (ROOT / "services" / service).rglob("*.py"):
        if path.name == "__main__.py":
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                called = ast.unparse(node.value.func)
                assert not called.endswith(
                    (
                        "Settings",
                        "open_application",
                        "open_views",
                        "build",
                        "connect",
                        "connection_pool",
                    )
                ), f"{path}: {called}"


# Adapter rooms some services have besides the common ones (docs/architecture.md).
ADAPTER_ROOMS = {
    "channel_gateway": {"channels", "chat", "workers"},
    "order_service": {"workers"},
    "fulfillment_service": {"documents", "carriers"},
}
TYPE_IGNORE_BUDGET = 15


def _top_level_names(service: str) -> set[str]:
    package = ROOT / "services" / service
    modules = {p.stem for p in package.glob("*.py")} - {"__init__"}
    packages = {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    return modules | packages


@pytest.mark.parametrize("service", SERVICES)
def test_every_module_of_a_service_lives_in_a_room_the_import_contracts_know(service):
    allowed = set(ROLES) | ADAPTER_ROOMS.get(service, set())
    stray = _top_level_names(service) - allowed
    assert not stray, f"services/{service}: fold {sorted(stray)} into a room"
    layers = (ROOT / "pyproject.toml").read_text()
    for room in ADAPTER_ROOMS.get(service, set()):
        assert f"({room})" in layers, f"{room} is in no import-linter layer"


@pytest.mark.parametrize("service", [*SERVICES, "stream_jobs", "console"])
def test_only_bootstrap_reads_the_settings(service):
    package = ROOT / "services" / service
    readers = []
    for path in package.rglob("*.py"):
        if path.name in ("bootstrap.py", "__main__.py", "settings.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith(".settings"):
                readers.append(str(path.relative_to(ROOT)))
    assert not readers, f"only bootstrap may import settings: {readers}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_exports_its_routers_and_aggregates_one_way(service):
    api = __import__(f"services.{service}.api", fromlist=["ROUTERS"])
    domain = __import__(f"services.{service}.domain", fromlist=["AGGREGATES"])
    assert api.ROUTERS and isinstance(api.ERROR_STATUSES, dict)
    assert domain.AGGREGATES


def test_the_stream_jobs_have_the_rooms_their_import_contract_layers():
    """No domain of their own: settings, domain, integration, agents, bootstrap, __main__."""
    rooms = {"__main__", "settings", "domain", "integration", "agents", "bootstrap"}
    assert _top_level_names("stream_jobs") == rooms


def test_type_ignores_stay_within_budget():
    ignores = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("services", "shared")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "type: ignore" in line
    ]
    assert len(ignores) <= TYPE_IGNORE_BUDGET, ignores
